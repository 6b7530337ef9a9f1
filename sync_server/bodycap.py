"""Cap every request body that no route caps itself, before any of it is parsed.

A kiosk's signed routes (``/v1/sync/…``) read their body through
``api.deps.read_body``, which refuses it as it passes ``max_body_bytes``.
Everything else (enrollment, the admin API, the console's forms) went to
FastAPI, which reads a body whole before validating it: one anonymous
200 MB POST to ``/v1/enroll`` took 400 MB of the server's memory, and a
few at once would take the server down, before any rate limit (which runs
after the body is read). Their bodies are a few hundred bytes of JSON or
form fields, so ``limit`` is generous, and a body over it is refused with
413 as soon as it says so (``Content-Length``) or as soon as it passes it.
"""

from __future__ import annotations

import json
from typing import Any

Scope = dict[str, Any]

LIMIT = 1 << 20
SELF_CAPPED = "/v1/sync/"


class CapBody:
    def __init__(self, app: Any, limit: int = LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(SELF_CAPPED):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await _refuse(send, self.limit)
            return
        # Small by nature: read here, whole, so no part of the app ever holds more than ``limit``.
        messages, size, more = [], 0, True
        while more:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await _refuse(send, self.limit)
                return
            more = message.get("more_body", False)

        await self.app(scope, replaying(messages, receive), send)


def replaying(messages: list[Any], receive: Any) -> Any:
    """A ``receive`` that hands out the messages already read, then the rest as it comes."""

    async def replay() -> Any:
        return messages.pop(0) if messages else await receive()

    return replay


async def _refuse(send: Any, limit: int) -> None:
    message = f"request bodies are limited to {limit} bytes"
    await refuse(send, 413, {"code": "body_too_large", "message": message, "limit": limit}, close=True)


async def refuse(send: Any, status: int, detail: dict[str, Any], *, close: bool = False) -> None:
    """A JSON refusal, as the app's own (``{"detail": {"code", "message", …}}``), sent before the app runs."""
    payload = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if close:  # the rest of an oversized body is not worth reading
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
