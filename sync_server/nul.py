"""Refuse NUL characters in a request before any code sees them.

PostgreSQL cannot store NUL in text: a login name, a path segment or a
form field carrying one made its query fail, a 500 (SQLite stored it).
No field of this server has a use for NUL, so a request naming one is
refused at the door with 400, whichever route it is for. Pushes are left
to the reducer (their events are compressed, signed, and quarantined one
by one when a text holds a NUL).
"""

from __future__ import annotations

from typing import Any

from .bodycap import refuse, replaying

Scope = dict[str, Any]

_INSPECTED = (b"application/x-www-form-urlencoded", b"application/json")
_MAX_INSPECTED = 1 << 20  # forms and admin JSON are small; larger bodies meet the routes' own limits
_BODY_MARKS = (b"%00", b"\\u0000", b"\x00")


class RefuseNul:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            await _refuse(send)
            return
        headers = dict(scope["headers"])
        kind = headers.get(b"content-type", b"")
        if not kind.startswith(_INSPECTED) or headers.get(b"content-encoding") or scope["path"].startswith("/v1/sync/"):
            await self.app(scope, receive, send)
            return
        body, more, messages = b"", True, []
        while more and len(body) <= _MAX_INSPECTED:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if any(mark in body for mark in _BODY_MARKS):
            await _refuse(send)
            return

        await self.app(scope, replaying(messages, receive), send)


async def _refuse(send: Any) -> None:
    await refuse(send, 400, {"code": "nul_in_request", "message": "a NUL character has no place in any field"})
