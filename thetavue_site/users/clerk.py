"""Verification of Clerk session JWTs and of `dev_token`'s local tokens (auth-and-rls.md §1-2).

One PyJWT verifier serves the middleware, the DRF authentication class and
`dev_token`. It needs no database. Every failure becomes `TokenRejected` with
one reason of a fixed table; a reason never echoes the token, a key or a claim.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from jwt.exceptions import InvalidSubjectError

from thetavue_site.users.verified_tokens import VerifiedTokens

logger = logging.getLogger(__name__)

# Hard-coded, never read from the token header (algorithm confusion).
ALGORITHMS = ["RS256"]
LEEWAY_SECONDS = 5
JWKS_LIFESPAN_SECONDS = 300
JWKS_TIMEOUT_SECONDS = 5
# At most one forced JWKS refetch per minute for an unknown `kid` (DESIGN §4).
JWKS_COOLDOWN_SECONDS = 60
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "sub"]
# Clerk tokens travel in a 4 KB cookie; anything much larger is not one.
MAX_TOKEN_LENGTH = 8192

MALFORMED = "malformed token"
UNSUPPORTED_ALGORITHM = "unsupported algorithm"
UNKNOWN_KEY = "unknown signing key"
KEYS_UNAVAILABLE = "signing keys unavailable"
INVALID_SIGNATURE = "invalid signature"
EXPIRED = "token expired"
NOT_YET_VALID = "token not yet valid"
WRONG_ISSUER = "wrong issuer"
MISSING_CLAIM = "missing claim"
MALFORMED_CLAIM = "malformed claim"
MAX_IDENTIFIER_LENGTH = 200
UNAUTHORIZED_PARTY = "unauthorized party"
AUDIENCE = "audience not accepted"

# Clerk tokens that passed verification in this process (see verified_tokens).
VERIFIED = VerifiedTokens(leeway_seconds=LEEWAY_SECONDS)


class TokenRejected(Exception):
    """A token that must not authenticate; `reason` is safe to send to the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_jwt_shaped(value: str) -> bool:
    """Return whether `value` has the three dot-separated segments of a JWS."""
    return value.count(".") == 2


@functools.cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    """One client per process and URL: the key set is cached and shared by threads."""
    return jwt.PyJWKClient(
        url,
        lifespan=JWKS_LIFESPAN_SECONDS,
        timeout=JWKS_TIMEOUT_SECONDS,
        cooldown_duration=JWKS_COOLDOWN_SECONDS,
    )


@functools.lru_cache(maxsize=4)
def _public_key_from_pem(pem: str) -> RSAPublicKey:
    key = load_pem_public_key(pem.encode())
    if not isinstance(key, RSAPublicKey):
        raise TypeError("the configured key is not an RSA public key")
    return key


@functools.lru_cache(maxsize=4)
def _dev_public_key(path: str, mtime_ns: int) -> RSAPublicKey:
    return _public_key_from_pem(Path(path).read_text())


def dev_public_key_path() -> Path:
    """Return where `dev_token` keeps the public half of its signing key."""
    private = Path(settings.DEV_TOKEN_KEY_PATH)
    return private.with_name(private.stem + ".pub.pem")


def _dev_key() -> RSAPublicKey:
    path = dev_public_key_path()
    try:
        return _dev_public_key(str(path), path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise TokenRejected(UNKNOWN_KEY) from None


def _clerk_key(token: str) -> Any:
    if settings.CLERK_JWT_KEY:
        # PEM mode is networkless; the `kid` is ignored.
        try:
            return _public_key_from_pem(settings.CLERK_JWT_KEY)
        except (ValueError, TypeError):
            logger.error("CLERK_JWT_KEY is not a PEM RSA public key")
            raise TokenRejected(KEYS_UNAVAILABLE) from None
    if settings.CLERK_JWKS_URL:
        client = _jwks_client(settings.CLERK_JWKS_URL)
        try:
            return client.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError:
            logger.error("Clerk JWKS fetch failed", exc_info=True)
            raise TokenRejected(KEYS_UNAVAILABLE) from None
        except jwt.PyJWKSetError:
            logger.error("Clerk JWKS holds no usable key", exc_info=True)
            raise TokenRejected(KEYS_UNAVAILABLE) from None
        except jwt.PyJWKClientError:
            # No key with this `kid`, after at most one refetch (cooldown permitting).
            raise TokenRejected(UNKNOWN_KEY) from None
        except jwt.DecodeError:
            raise TokenRejected(MALFORMED) from None
    raise TokenRejected(UNKNOWN_KEY)  # Clerk is not configured here.


def _decode(token: str, key: Any, issuer: str) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    # Subclasses before their parents: InvalidSignatureError is a DecodeError.
    except jwt.InvalidSignatureError:
        raise TokenRejected(INVALID_SIGNATURE) from None
    except jwt.InvalidAlgorithmError:
        raise TokenRejected(UNSUPPORTED_ALGORITHM) from None
    except jwt.ExpiredSignatureError:
        raise TokenRejected(EXPIRED) from None
    except (jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError):
        raise TokenRejected(NOT_YET_VALID) from None
    except jwt.InvalidIssuerError:
        raise TokenRejected(WRONG_ISSUER) from None
    except (jwt.MissingRequiredClaimError, InvalidSubjectError):
        raise TokenRejected(MISSING_CLAIM) from None
    except jwt.InvalidAudienceError:
        raise TokenRejected(AUDIENCE) from None
    except jwt.InvalidTokenError:
        # DecodeError and anything else structural (e.g. an unknown `crit`).
        raise TokenRejected(MALFORMED) from None
    except jwt.InvalidKeyError:
        logger.error("The configured signing key cannot verify RS256")
        raise TokenRejected(KEYS_UNAVAILABLE) from None


def _unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parse header and claims for routing only; nothing here is trusted."""
    if len(token) > MAX_TOKEN_LENGTH or not is_jwt_shaped(token):
        raise TokenRejected(MALFORMED)
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise TokenRejected(MALFORMED) from None
    if not isinstance(claims, dict):
        raise TokenRejected(MALFORMED)
    return header, claims


def _settings_fingerprint() -> tuple:
    """What, besides the token and the clock, decides a verification's outcome."""
    return (
        settings.DEBUG,
        settings.CLERK_JWT_KEY,
        settings.CLERK_JWKS_URL,
        settings.CLERK_ISSUER,
        settings.DEV_TOKEN_ISSUER,
        tuple(settings.CLERK_AUTHORIZED_PARTIES or ()),
    )


def _plain_identifier(value: Any) -> bool:
    """Clerk ids (user_…, sess_…) are short printable ASCII; anything else is refused."""
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_IDENTIFIER_LENGTH
        and value.isascii()
        and value.isprintable()
    )


def verify_session_token(token: str) -> tuple[dict[str, Any], str]:
    """Return (verified claims, method) of a Clerk session token or a dev token.

    method is "clerk", or "dev" for `dev_token`'s tokens, which are trusted only
    while DEBUG is on. Raises TokenRejected with a reason of auth-and-rls.md §1.
    A Clerk token verified before, under the same settings, is answered from
    `verified_tokens` until it expires (a dev token is always verified afresh:
    its key file may be regenerated under the same settings).
    """
    fingerprint = _settings_fingerprint()
    remembered = VERIFIED.get(token, fingerprint)
    if remembered is not None:
        return remembered
    claims, method = _verify(token)
    if method == "clerk":
        VERIFIED.put(token, fingerprint, claims, method)
    return claims, method


def _verify(token: str) -> tuple[dict[str, Any], str]:
    header, unverified = _unverified_parts(token)
    # Refuse anything but RS256 before looking for a key: an `alg: none` or
    # HS256 token must not cause a JWKS fetch. `jku`, `x5u` and `jwk` headers
    # are never read: keys come only from our settings.
    if header.get("alg") != "RS256":
        raise TokenRejected(UNSUPPORTED_ALGORITHM)

    dev_mode = settings.DEBUG and unverified.get("iss") == settings.DEV_TOKEN_ISSUER
    if dev_mode:
        claims = _decode(token, _dev_key(), settings.DEV_TOKEN_ISSUER)
    else:
        if not settings.CLERK_ISSUER:
            raise TokenRejected(UNKNOWN_KEY)  # Clerk is not configured here.
        claims = _decode(token, _clerk_key(token), settings.CLERK_ISSUER)

    # `verify_aud` only fails a non-empty `aud`; session tokens carry none at all.
    if "aud" in claims:
        raise TokenRejected(AUDIENCE)
    # Session tokens only: JWT-template and machine tokens carry no `sid`.
    if not isinstance(claims.get("sid"), str) or not claims["sid"]:
        raise TokenRejected(MISSING_CLAIM)
    if not claims["sub"]:
        raise TokenRejected(MISSING_CLAIM)
    # `sub` becomes a primary key, a log field and the RLS setting; `sid` is
    # logged. PostgreSQL refuses NUL in text, so a signed but odd value would
    # otherwise fail deep inside a query instead of here.
    if not (_plain_identifier(claims["sub"]) and _plain_identifier(claims["sid"])):
        raise TokenRejected(MALFORMED_CLAIM)
    parties = settings.CLERK_AUTHORIZED_PARTIES
    # Dev tokens serve REST clients, which have no browser Origin to put in `azp`.
    if parties and not dev_mode and claims.get("azp") not in parties:
        # Both Clerk SDKs refuse a token without `azp` once parties are set.
        raise TokenRejected(UNAUTHORIZED_PARTY)
    return claims, "dev" if dev_mode else "clerk"
