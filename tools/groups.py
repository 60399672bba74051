"""The module's groups and its integration user, by external id, named once
(fields' ``groups=``, ``has_group`` checks and ``env.ref`` all use these)."""

MANAGER_GROUP = "account_avidxchange.group_avidxchange_manager"
USER_GROUP = "account_avidxchange.group_avidxchange_user"
INTEGRATION_USER = "account_avidxchange.user_avidxchange_integration"
