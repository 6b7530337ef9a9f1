"""One exception family for the server, turned into an HTTP answer (or an exit code) once, at the edge.

Every refusal carries a stable ``code`` a kiosk can act on (``gap`` means
rewind to ``acked_seq``; ``clock_skew`` means correct the clock and retry),
a sentence for people, and parameters. ``flag`` marks refusals that look
like tampering or abuse: they are written to the incidents table for the
coordinators, in their own transaction, after everything else rolled back.
"""

from __future__ import annotations

from typing import Any


class SyncServerError(Exception):
    status = 400
    flag = False

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.params = params

    def detail(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.params}


class BadRequest(SyncServerError):
    status = 400


class Unauthorized(SyncServerError):
    status = 401


class Forbidden(SyncServerError):
    status = 403
    flag = True


class NotAllowed(SyncServerError):
    """A signed-in person whose role does not allow this (not flagged: a coordinator clicking is no attack)."""

    status = 403


class CsrfRefused(SyncServerError):
    """A console form without this session's CSRF token (expired, or posted from another site)."""

    status = 403


class LoginRequired(SyncServerError):
    status = 401


class NotFound(SyncServerError):
    status = 404


class Conflict(SyncServerError):
    """A gap (the kiosk rewinds to ``acked_seq``) or a history that contradicts what we hold."""

    status = 409


class Gone(SyncServerError):
    status = 410


class TooLarge(SyncServerError):
    status = 413
    flag = True


class Unprocessable(SyncServerError):
    status = 422


class Tampered(SyncServerError):
    """The chain or a signature does not check: refused whole, nothing stored, flagged."""

    status = 422
    flag = True


class TooManyRequests(SyncServerError):
    status = 429


class Unavailable(SyncServerError):
    status = 503
