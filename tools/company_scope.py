"""Which companies a connection speaks for, from the company tree alone.

A connection sends the vendors and bills of its company and of its
branches, but a branch with a connection of its own speaks for itself (and
its own branches). Companies are given by id with their ``parent_path``
(Odoo's ``"1/5/7/"``: the ids from the root down to the company itself).
"""


def _path_ids(parent_path):
    return [int(part) for part in (parent_path or "").split("/") if part]


def scope_company_ids(company_id, parent_paths, connected_ids):
    """The ids of the companies the connection of ``company_id`` sends for.

    ``parent_paths``: ``{id: parent_path}`` of ``company_id`` and every
    company below it; ``connected_ids``: the companies with a connection
    (any of them: those outside the tree are passed over). A company below
    another connection's company is that connection's."""
    elsewhere = (set(connected_ids) & set(parent_paths)) - {company_id}
    return [
        company
        for company, path in parent_paths.items()
        if not elsewhere.intersection(_path_ids(path))
    ]


def covering_company_id(parent_path, connected_ids):
    """The company whose connection sends the bills of the company at
    ``parent_path``: itself when it has a connection, else the nearest
    parent that has one; None when none has."""
    connected = set(connected_ids)
    return next((c for c in reversed(_path_ids(parent_path)) if c in connected), None)
