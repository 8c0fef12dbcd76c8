"""What the connections page says after the OAuth callback: fixed messages by code.

The callback redirects to `/connections/?error=<code>`; the page shows the
message of a known code and a generic one otherwise, so a crafted link can
never put its own sentence in the page's error banner.
"""

from __future__ import annotations

DECLINED = "declined"
INVALID_STATE = "invalid_state"
BROKER_REFUSED = "broker_refused"
INVALID_REQUEST = "invalid_request"

MESSAGES = {
    DECLINED: "You declined the connection at Tastytrade; nothing was stored.",
    INVALID_STATE: "The connection request expired, was already used or was started by "
    "another sign-in. Please start again.",
    BROKER_REFUSED: "Tastytrade did not accept the connection; please try again.",
    INVALID_REQUEST: "The link back from Tastytrade was incomplete. Please start again.",
}
GENERIC = "The connection did not complete. Please start again."


def callback_error_message(code: str) -> str:
    """Return the banner text for a callback error code ("" for none, generic if unknown)."""
    if not code:
        return ""
    return MESSAGES.get(code, GENERIC)
