"""Print a Bearer token for a local user, so a REST client can try the API offline.

Development only: the token is signed with a key generated into `.data/`
(settings.DEV_TOKEN_KEY_PATH); the verifier trusts its public half only while
DEBUG is on, so these tokens mean nothing in production.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from thetavue_site import rls
from thetavue_site.users.clerk import dev_public_key_path
from thetavue_site.users.models import User

KEY_ID = "thetavue-dev"
LIFETIME_SECONDS = 3600
# Like Clerk's, nbf sits a little before iat to absorb clock skew.
NOT_BEFORE_SKEW_SECONDS = 10


def _write_exclusive(path: Path, data: bytes) -> None:
    """Create `path` readable by its owner only; leave it alone if it appeared meanwhile."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # Another dev_token run created it first; use theirs.
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def dev_signing_key() -> rsa.RSAPrivateKey:
    """Return the development signing key, generating it (and its public half) once."""
    private_path = Path(settings.DEV_TOKEN_KEY_PATH)
    private_path.parent.mkdir(parents=True, exist_ok=True)
    if not private_path.exists():
        generated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_exclusive(
            private_path,
            generated.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
    key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CommandError(f"{private_path} does not hold an RSA private key")
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_path = dev_public_key_path()
    if not public_path.exists() or public_path.read_bytes() != public_pem:
        staging = public_path.with_name(f".{public_path.name}.{secrets.token_hex(4)}")
        staging.write_bytes(public_pem)
        os.replace(staging, public_path)  # Readers never see half a key.
    return key


def dev_token_sign(*, user: User, key: rsa.RSAPrivateKey) -> str:
    """Return an RS256 session-shaped JWT for `user`, valid for an hour."""
    now = int(time.time())
    claims = {
        "iss": settings.DEV_TOKEN_ISSUER,
        "sub": user.clerk_id,
        "sid": f"sess_dev_{secrets.token_hex(8)}",
        "jti": secrets.token_hex(10),
        "v": 2,
        "iat": now,
        "nbf": now - NOT_BEFORE_SKEW_SECONDS,
        "exp": now + LIFETIME_SECONDS,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KEY_ID})


class Command(BaseCommand):
    help = "Print a development Bearer token for EMAIL (creating the user); DEBUG only."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email: str, **options):
        if not settings.DEBUG:
            raise CommandError(
                "dev_token runs only with DEBUG on: its key is trusted nowhere else."
            )
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"not an email address: {email!r}") from None
        email = User.objects.normalize_email(email)
        # A command has no request: the lookup by email must see every user.
        with rls.as_service():
            user = User.objects.filter(email__iexact=email).first()
            created = user is None
            if created:
                user = User.objects.create_user(email=email)
        token = dev_token_sign(user=user, key=dev_signing_key())
        self.stderr.write(
            f"{'Created' if created else 'Found'} {user.email} ({user.clerk_id}); "
            f"token valid for {LIFETIME_SECONDS // 60} minutes:"
        )
        self.stdout.write(token)
