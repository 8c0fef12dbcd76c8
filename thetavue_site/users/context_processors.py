"""Template context every page gets: the signed-in trader's unread notification count."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from thetavue_site.users.selectors import notification_list_for_user


def notifications(request) -> dict[str, object]:
    """Give templates `unread_count`, counted on first use only (one query per page)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_count": 0}
    return {
        "unread_count": SimpleLazyObject(
            lambda: notification_list_for_user(user=user, unread=True).count()
        )
    }
