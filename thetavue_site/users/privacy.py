"""GDPR/CCPA: export everything held about a user, and erase it (DESIGN §7, §13).

Both walk the models instead of listing them: every model that reaches the user
through foreign keys (directly, or through a parent such as a portfolio) is a
tenant table, so a table added later is exported and erased without a change
here. Secrets (password hash, API token hashes, broker token ciphertexts) are
never exported.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from thetavue_site import rls
from thetavue_site.users.models import User

EXPORT_FORMAT_VERSION = 1

# Columns that stay out of an export: credentials and their hashes.
SECRET_COLUMNS = {
    "users": {"password"},
    "api_tokens": {"token_hash"},
    "broker_connections": {"access_token_encrypted", "refresh_token_encrypted"},
    "account_emailconfirmation": {"key"},
    # A stored answer may be another request's data; the key itself is exported.
    "idempotency_keys": {"response_body", "request_fingerprint"},
}
# Reach the user by foreign key but describe other records (staff actions in
# the admin); erased with the user by ON DELETE CASCADE, never exported.
NOT_EXPORTED = {"django_admin_log"}
# Broker OAuth tokens are wiped before the cascade, so that no copy of them
# outlives the request even if a later step fails and is retried.
BROKER_TOKEN_COLUMNS = ("access_token_encrypted", "refresh_token_encrypted")


def owner_paths() -> dict[type[models.Model], str]:
    """Return, per model that belongs to a user, the ORM lookup to its owner's id.

    Breadth-first from the user model, so each model gets its shortest path
    (a portfolio is owned through `user`, not through its broker connection).
    """
    to_user: dict[type[models.Model], str] = {User: ""}  # lookup from a model to its User
    queue = deque([User])
    # Auto-created models too: the user's group and permission links.
    candidates = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.db_table not in NOT_EXPORTED
    ]
    while queue:
        parent = queue.popleft()
        for model in candidates:
            if model in to_user:
                continue
            for field in model._meta.concrete_fields:
                if (field.many_to_one or field.one_to_one) and field.related_model is parent:
                    to_user[model] = "__".join(p for p in (field.name, to_user[parent]) if p)
                    queue.append(model)
                    break
    return {model: f"{path}__pk" if path else "pk" for model, path in to_user.items()}


def _rows(model: type[models.Model], lookup: str, user_id: str) -> list[dict[str, Any]]:
    hidden = SECRET_COLUMNS.get(model._meta.db_table, set())
    columns = [f.attname for f in model._meta.concrete_fields if f.column not in hidden]
    return list(model.objects.filter(**{lookup: user_id}).order_by("pk").values(*columns))


def user_export(*, user: User) -> dict[str, Any]:
    """Return one JSON-ready document with every row held about `user`, by table."""
    with rls.as_user(user.pk):
        tables = {
            model._meta.db_table: _rows(model, lookup, user.pk)
            for model, lookup in sorted(owner_paths().items(), key=lambda i: i[0]._meta.db_table)
        }
    return {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": timezone.now(),
        "user_id": user.pk,
        "tables": tables,
    }


@transaction.atomic
def user_erase(*, user_id: str) -> bool:
    """Delete `user_id` and everything they own; return False if already gone.

    Broker tokens are wiped first; every tenant row then goes by the foreign
    keys' ON DELETE CASCADE (in Django and in the database). Idempotent, so a
    replayed `user.deleted` webhook is harmless.
    """
    with rls.as_user(user_id):
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            return False
        if hasattr(user, "broker_connections"):
            user.broker_connections.update(
                **dict.fromkeys(BROKER_TOKEN_COLUMNS, ""), updated_at=timezone.now()
            )
        user.delete()
    return True


@transaction.atomic
def user_erase_confirmed(*, user: User, confirm: str) -> None:
    """Erase `user` once `confirm` repeats their email (their id when they have none)."""
    expected = user.email or user.clerk_id
    if confirm.strip().lower() != expected.lower():
        raise ValidationError({"confirm": ["Type the account's email to confirm the erasure."]})
    user_erase(user_id=user.pk)


def export_filename(*, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    return f"thetavue-export-{now:%Y%m%d-%H%M%S}.json"
