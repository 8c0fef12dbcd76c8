"""GDPR/CCPA: the export holds every row of the user and nobody else's; erase leaves none.

Checked against the database itself: a raw connection as a plain role, scoped
to the user by RLS, lists what exists, table by table, from the catalog, so a
tenant table added later is covered without touching this file.
"""

from __future__ import annotations

import pytest

from thetavue_site import rls
from thetavue_site.tests.rls_probe import probe_connection
from thetavue_site.users.models import User
from thetavue_site.users.privacy import NOT_EXPORTED
from thetavue_site.users.tests.tenants import ids_by_table, protected_tables, seed

pytestmark = pytest.mark.django_db(transaction=True)

ME = "/api/auth/me"
EXPORT = "/api/auth/export"


@pytest.fixture
def two_tenants(alice, bob):
    seed(alice)
    seed(bob)


def test_export_holds_every_table_of_alice_and_nothing_of_bob(alice_token_client, two_tenants):
    # when
    response = alice_token_client.get(EXPORT)

    # then
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="thetavue-export-')
    document = response.json()
    assert (document["format_version"], document["user_id"]) == (1, "user_alice")
    exported = {
        table: {row["clerk_id" if table == "users" else "id"] for row in rows}
        for table, rows in document["tables"].items()
    }
    # The admin's log of staff actions is not exported (privacy.NOT_EXPORTED);
    # processed webhook ids belong to no trader.
    skipped = NOT_EXPORTED | {"processed_webhooks"}
    alices = {t: ids for t, ids in ids_by_table("user_alice").items() if t not in skipped}
    bobs = ids_by_table("user_bob")
    # Every protected table is in the export, with exactly alice's rows.
    assert {t: exported.get(t) for t in alices} == alices
    # The seed put a row of each in most tables: the comparison is not vacuous.
    assert sum(1 for ids in alices.values() if ids) >= 15
    assert all(not (exported.get(table, set()) & ids) for table, ids in bobs.items())


def test_export_leaves_out_secrets(alice_token_client, two_tenants):
    document = alice_token_client.get(EXPORT).json()
    text = str(document)
    for secret in ("gAAAA-access-ciphertext", "gAAAA-refresh-ciphertext", "key-user_alice"):
        assert secret not in text
    assert "password" not in document["tables"]["users"][0]
    assert "token_hash" not in document["tables"]["api_tokens"][0]
    assert document["tables"]["broker_connections"][0]["environment"] == "sandbox"


def test_erase_needs_the_confirmation_field(alice_token_client, two_tenants):
    response = alice_token_client.delete(ME, {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"confirm": ["This field is required."]}
    response = alice_token_client.delete(ME, {"confirm": "bob@example.com"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["confirm"]
    with rls.as_service():
        assert User.objects.filter(pk="user_alice").exists()


def test_erase_leaves_no_row_of_alice_anywhere_and_all_of_bob(alice_token_client, two_tenants):
    bobs_before = ids_by_table("user_bob")

    response = alice_token_client.delete(ME, {"confirm": "Alice@Example.com"}, format="json")

    assert response.status_code == 204
    assert ids_by_table("user_alice") == {table: set() for table in protected_tables()}
    assert ids_by_table("user_bob") == bobs_before
    # And under service, nothing anywhere still points at her.
    with probe_connection(service=True) as cursor:
        cursor.execute("SELECT count(*) FROM broker_connections WHERE user_id = 'user_alice'")
        assert cursor.fetchone()[0] == 0


def test_erase_wipes_broker_tokens_before_the_cascade(two_tenants, alice):
    """Even if the cascade were to miss a row, no broker token would survive."""
    from django.db import connection as conn

    from thetavue_site.users.privacy import user_erase

    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with conn.execute_wrapper(record):
        assert user_erase(user_id="user_alice") is True
    wipe = next(i for i, sql in enumerate(statements) if "access_token_encrypted" in sql)
    delete = next(i for i, sql in enumerate(statements) if sql.startswith('DELETE FROM "users"'))
    assert wipe < delete
    assert user_erase(user_id="user_alice") is False  # idempotent


def test_session_user_erase_signs_out(alice_client, two_tenants):
    response = alice_client.delete(ME, {"confirm": "alice@example.com"}, "application/json")
    assert response.status_code == 204
    # The session is flushed, not just orphaned: its cookie is deleted.
    assert response.cookies["sessionid"].value == ""
    assert alice_client.get(ME).status_code == 401
