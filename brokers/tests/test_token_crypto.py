"""Broker tokens: ciphertext at rest, bound to their row, readable after key rotation."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db
from django.test import override_settings

from brokers.models import BrokerConnection
from brokers.token_crypto import TokenDecryptionError, decrypt_token, encrypt_token
from thetavue_site import rls

pytestmark = pytest.mark.django_db

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def test_round_trip_and_binding():
    ciphertext = encrypt_token(connection_id=7, token="at-secret")
    assert "at-secret" not in ciphertext
    assert decrypt_token(connection_id=7, ciphertext=ciphertext) == "at-secret"
    with pytest.raises(TokenDecryptionError, match="another connection"):
        decrypt_token(connection_id=8, ciphertext=ciphertext)


def test_tampered_ciphertext_is_refused():
    ciphertext = encrypt_token(connection_id=7, token="at-secret")
    tampered = ciphertext[:-4] + ("AAAA" if not ciphertext.endswith("AAAA") else "BBBB")
    with pytest.raises(TokenDecryptionError):
        decrypt_token(connection_id=7, ciphertext=tampered)


def test_rotate_keys_reencrypts_with_the_newest_key(alice):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]), rls.as_service():
        conn = BrokerConnection.objects.create(user=alice, environment="sandbox")
        conn.refresh_token_encrypted = encrypt_token(connection_id=conn.pk, token="rt-1")
        conn.save()
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY, OLD_KEY]):
        call_command("rotate_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
        with rls.as_service(), db.cursor() as cursor:
            cursor.execute(
                "SELECT refresh_token_encrypted FROM broker_connections WHERE id = %s", [conn.pk]
            )
            stored = cursor.fetchone()[0]
    assert "rt-1" not in stored
    # Only the new key is needed after rotation.
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW_KEY]):
        assert decrypt_token(connection_id=conn.pk, ciphertext=stored) == "rt-1"
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD_KEY]), pytest.raises(TokenDecryptionError):
        decrypt_token(connection_id=conn.pk, ciphertext=stored)
