from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """allauth adapter; local users get a generated `local_…` clerk_id (model default)."""
