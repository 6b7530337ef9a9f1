"""The FastAPI application: ``create_app(settings)`` with a lifespan that owns the engine.

Stateless between requests (everything durable is in the database), so more
workers or machines can be added behind a load balancer; the rate limiter is
the one per-process piece (see ratelimit.py). The schema is *not* created or
migrated here — several workers starting at once would race — but checked:
a server whose database is behind its code refuses to start and says to run
``muso-server migrate``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import ClientDisconnect

from .api import admin, sync
from .api.deps import limit_key
from .bodycap import CapBody
from .db import make_engine, now_ms
from .errors import BadRequest, NotFound, SyncServerError
from .ingest import record_incident
from .migrate import current_revision, head_revision
from .nul import RefuseNul
from .ratelimit import RateLimiter
from .settings import Settings
from .web import api as console_api
from .web import common as web
from .web import manage, pages, sessions

log = logging.getLogger("muso.server")


class SchemaNotReady(RuntimeError):
    """The database has not been migrated to this version: run ``muso-server migrate`` first."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        try:
            current, head = current_revision(engine), head_revision()
            if current != head:
                raise SchemaNotReady(
                    f"database schema is at {current or 'nothing'}, the code needs {head}: run `muso-server migrate`"
                )
            app.state.engine = engine
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="MUSO sync server",
        version="1",
        summary="Kiosk journals in, exactly once and tamper-evident; reference data out; the coordinators' console.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.today = date.today  # the console's "today" (arrears, charts); tests set their own
    app.state.kiosk_limiter = RateLimiter(settings.kiosk_rate_per_minute, settings.kiosk_burst)
    app.state.anonymous_limiter = RateLimiter(settings.anonymous_rate_per_minute, settings.anonymous_burst)
    app.state.auth_failure_limiter = RateLimiter(settings.anonymous_rate_per_minute, settings.anonymous_burst)
    app.state.verify_failure_limiter = RateLimiter(settings.anonymous_rate_per_minute, settings.anonymous_burst)
    # Flagging refusals from unauthenticated clients is itself rate limited, or
    # anyone could fill the incidents table with garbage requests.
    app.state.incident_limiter = RateLimiter(settings.anonymous_rate_per_minute, settings.anonymous_burst)
    # Responses (restore pages, pulls) compress well; pushes are compressed by the kiosk itself.
    app.add_middleware(GZipMiddleware, minimum_size=512)
    app.add_middleware(RefuseNul)
    app.add_middleware(CapBody)  # outermost: before anything reads a body
    app.include_router(sync.router)
    app.include_router(admin.router)
    app.include_router(console_api.router)
    app.include_router(pages.router)
    app.include_router(manage.router)
    app.mount("/static", StaticFiles(directory=web.HERE / "static"), name="static")

    @app.exception_handler(SyncServerError)
    async def _refusal(request: Request, exc: SyncServerError) -> Response:
        kiosk_id = getattr(request.state, "kiosk_id", None)  # authenticated
        if exc.flag and not getattr(exc, "recorded", False):
            who = request.client.host if request.client else "unknown"
            if kiosk_id or not app.state.incident_limiter.take(limit_key(who)):
                filed = kiosk_id or getattr(exc, "claimed_kiosk", None)
                await run_in_threadpool(record_incident, app.state.engine, filed, exc.code, exc.detail(), who)
        if web.is_page(request):  # the console's pages: a page in the reader's language, or the login form
            return web.error_page(request, exc)
        headers = {}
        if exc.status == 429 and "retry_after" in exc.params:
            headers["Retry-After"] = str(exc.params["retry_after"])
        return JSONResponse({"detail": exc.detail()}, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if web.is_page(request):  # a form or a link with bad input: a readable page, nothing changed
            fields = [str(e["loc"][-1]) for e in exc.errors()[:5]]
            refusal = BadRequest("input_invalid", f"invalid input: {', '.join(fields)}", fields=fields)
            return web.error_page(request, refusal)
        return await request_validation_exception_handler(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _routing(request: Request, exc: StarletteHTTPException) -> Response:
        # Starlette's own refusals (no such page, wrong method): the console's error page for a person,
        # with the menu if they are signed in; the JSON the API's clients expect under /v1/.
        if not web.is_page(request) or exc.status_code < 400:
            return await http_exception_handler(request, exc)
        refusal = (
            NotFound("not_found", "not found")
            if exc.status_code == 404
            else web.HttpRefusal(exc.status_code, str(exc.detail))
        )
        if getattr(request.state, "principal", None) is None:
            cookie = request.cookies.get(sessions.COOKIE)
            if cookie:
                request.state.principal = await run_in_threadpool(sessions.resume, app.state.engine, settings, cookie)
        response = web.error_page(request, refusal)
        response.headers.update(exc.headers or {})  # Allow: on a 405
        return response

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> JSONResponse:
        # Transient by nature (locked, restarting, unreachable): the kiosk keeps its events and retries.
        log.warning("database unavailable: %s", exc.orig)
        detail = {"code": "database_unavailable", "message": "the database is unavailable: retry later"}
        return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "30"})

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        # The kiosk hung up mid-body (2G): nothing was stored, it will resend. Not a server error.
        log.info("client disconnected before sending its whole body")
        return Response(status_code=400)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, int | bool]:
        return {"ok": True, "server_time": now_ms()}

    return app
