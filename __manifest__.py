{
    "name": "AvidXchange Connector",
    "version": "19.0.1.0.0",
    "category": "Accounting/Accounting",
    "summary": "Sync vendors and bills to AvidXchange and bring its payments back",
    "author": "account_avidxchange contributors",
    "website": "https://github.com/account-avidxchange/account_avidxchange",
    "license": "LGPL-3",
    "depends": ["account", "purchase"],
    "external_dependencies": {"python": ["requests", "cryptography"]},
    "data": [
        # Privilege and groups first: the access CSV and the rules reference them.
        "security/avidxchange_security.xml",
        "security/ir.model.access.csv",
    ],
    "images": ["static/description/banner.png"],
}
