"""Errors a service raises that the API answers with more than a 400.

Apps subclass these for their own cases; the one exception handler
(thetavue_site/api/errors.py) maps each base to its status and code, so no
view translates them itself. A Django ValidationError stays the 400.
"""


class ReadOnly(Exception):
    """The object exists but this change is not the trader's to make (403 read_only)."""


class ConfirmationRequired(Exception):
    """The change is destructive and needs an explicit confirmation (409)."""
