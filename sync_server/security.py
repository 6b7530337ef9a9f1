"""Passwords, coordinators' session tokens, enrollment codes and kiosk signatures.

How kiosks authenticate — signed requests, not tokens. Each request carries
``Authorization: Muso <kiosk_id> <time_ms> <signature>``, an Ed25519
signature (by the key made on the kiosk at enrollment) over the method, the
path and query, the kiosk id, the time and the SHA-256 of the body
(``kiosk.domain.wire.request_message``). We chose this over short-lived
tokens obtained from a signed challenge because:

- a sync is one request. On 2G each round trip costs 0.3–1 s and a radio
  wake-up more; a challenge and a token exchange would triple the requests
  of a typical weekly sync (a token lasting days would weaken revocation);
- revocation is immediate and needs no token list: every request looks up
  the kiosk's key and status, so a request signed after ``revoke`` is refused;
- the server holds no secret that could impersonate a kiosk: a leaked
  database or ``secret_key`` lets nobody push in a kiosk's name;
- the body digest binds the signature to the exact bytes sent.

Replay: the signed time must be within ``signature_window_s`` of ours (the
kiosk corrects its clock from our ``server_time``; a kiosk with a wrong clock
gets ``401 clock_skew`` with our time, corrects and retries once). Within the
window a replay can only repeat an idempotent push or a read, and TLS keeps
the bytes from being seen in the first place. Journal data is additionally
authenticated by the batch signature over the chain head, which is what
lets USB bundles be imported with no HTTP request at all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import BadRequest, Unauthorized

_hasher = PasswordHasher()
# Verified when the user does not exist, so the answer takes as long either way.
_DUMMY_HASH = _hasher.hash("not a password of anyone")

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud over a phone, typed on a touchscreen
CODE_LENGTH = 12  # 31**12 ≈ 2**59: unguessable within a code's lifetime at the login rate limit


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("base64_invalid", "not base64url") from exc


# -- passwords (coordinators) --------------------------------------------------------------


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise BadRequest("password_too_short", "a password needs 10 characters at least")
    return _hasher.hash(password)


def check_password(password: str, stored: str | None) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


# -- coordinators' session tokens ----------------------------------------------------------------


def same_text(a: str, b: str) -> bool:
    """Constant-time equality of two texts. ``hmac.compare_digest`` raises on a non-ASCII str, which a
    visitor can put in a cookie, a form field or a receipt code: compare their UTF-8 bytes."""
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def password_mark(password_hash: str) -> str:
    """A short digest of the stored password hash, carried in API tokens: a new password (the hash
    changes) ends the tokens made with the old one, as it ends the console's sessions."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def make_admin_token(secret: str, user_id: int, expires_ms: int, mark: str, epoch: int) -> str:
    """``epoch`` is the account's ``token_epoch`` now: ending the account's sessions raises it, ending the
    token too (a coordinator who logs out their other devices after losing a phone means its tokens as well)."""
    claims = {"u": user_id, "exp": expires_ms, "p": mark, "e": epoch}
    payload = b64e(json.dumps(claims, separators=(",", ":")).encode())
    mac = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{b64e(mac)}"


def read_admin_token(secret: str, token: str, now: int) -> tuple[int, str, int]:
    """The user id, password mark and epoch in a valid, unexpired token; Unauthorized otherwise."""
    payload, _, mac = token.partition(".")
    expected = b64e(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())
    if not mac or not same_text(mac, expected):
        raise Unauthorized("token_invalid", "the session token is not valid")
    try:
        data = json.loads(b64d(payload))
        # No "e": made before epochs existed, when every account's was 0 (such a token lives an hour at most).
        user_id, expires, mark, epoch = int(data["u"]), int(data["exp"]), str(data["p"]), int(data.get("e", 0))
    except (ValueError, KeyError, TypeError, BadRequest) as exc:
        raise Unauthorized("token_invalid", "the session token is not valid") from exc
    if expires < now:
        raise Unauthorized("token_expired", "the session has expired: log in again")
    return user_id, mark, epoch


# -- enrollment codes ------------------------------------------------------------------------------


def new_enrollment_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


# A receipt's code is base32 (A-Z, 2-7): the digits it never holds are letters misread on paper.
_LOOK_ALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def receipt_code(code: str) -> str:
    return normalise_code(code).translate(_LOOK_ALIKES)


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


# -- Ed25519 -------------------------------------------------------------------------------------


def public_key(text: str) -> Ed25519PublicKey:
    raw = b64d(text)
    if len(raw) != 32:
        raise BadRequest("public_key_invalid", "an Ed25519 public key is 32 bytes (base64url)")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise BadRequest("public_key_invalid", "not an Ed25519 public key") from exc


def signature_ok(key_text: str, signature: str, message: bytes) -> bool:
    try:
        sig = b64d(signature)
        if len(sig) != 64:
            return False
        public_key(key_text).verify(sig, message)
    except (InvalidSignature, BadRequest):
        return False
    return True


@dataclass(frozen=True)
class SignedRequest:
    kiosk_id: str
    time_ms: int
    signature: str


def parse_authorization(header: str | None) -> SignedRequest:
    if not header:
        raise Unauthorized("signature_missing", "sign the request (Authorization: Muso <kiosk> <time> <sig>)")
    parts = header.split(" ")
    if len(parts) != 4 or parts[0] != "Muso" or not (parts[2].isascii() and parts[2].isdigit()) or len(parts[2]) > 16:
        raise Unauthorized("signature_malformed", "Authorization must be: Muso <kiosk> <time_ms> <signature>")
    if not 0 < len(parts[1]) <= 64 or len(parts[3]) > 128:
        raise Unauthorized("signature_malformed", "Authorization must be: Muso <kiosk> <time_ms> <signature>")
    return SignedRequest(parts[1], int(parts[2]), parts[3])
