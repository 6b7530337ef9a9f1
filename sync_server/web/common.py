"""Shared by the console's routes: templates, language, the CSRF guard, dates, errors turned into pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, tzinfo
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from .. import charts
from ..api.deps import EngineDep, SettingsDep
from ..authz import Principal
from ..db import projections, read
from ..errors import CsrfRefused, LoginRequired, SyncServerError
from . import sessions
from .i18n import LANGS, T, day, duration, money, percent, plural, translate, when, zone_for

HERE = Path(__file__).resolve().parent
env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["money"] = money


@pass_context
def _day(context: Context, value: str | None) -> str:
    return day(value, context.get("lang", "fr"))


env.filters["day"] = _day  # {{ loan.start|day }}: 26/10/2026 on the French side, ISO on the English one
env.globals["Series"] = charts.Series
env.globals["COLOURS"] = charts.COLOURS
env.globals["known"] = T.__contains__  # {{ t(key) if known(key) else raw }}: codes without a sentence yet

SECURITY_HEADERS = {
    # No script at all, styles from our one file, images inline (SVG charts) or ours, forms only to us.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # the QR's URL holds a receipt code: never sent elsewhere
    "Cache-Control": "no-store",  # pages hold personal data; shared phones
}


def lang_of(request: Request) -> str:
    lang = request.cookies.get("lang", "")
    if lang in LANGS:
        return lang
    accept = request.headers.get("accept-language", "")
    return "en" if accept.lower().startswith("en") else "fr"


def today(request: Request) -> date:
    return request.app.state.today()


def safe_next(target: str | None) -> str:
    """Only a path of this site: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def here_param(request: Request) -> str:
    """This page's path and query, as the value of a ``next=`` parameter: every ``?``, ``&`` and ``=``
    escaped, or a link to switch language would keep only the query's first parameter."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return quote(here, safe="/")


def reader_zone(request: Request, me: Principal | None) -> tzinfo:
    """The time a reader lives by: their countries', or for a scope of cooperatives only, the countries of
    the groups in it (read from the groups themselves)."""
    if me is None:
        return UTC
    countries: Iterable[str] = me.countries
    if not me.countries and me.cooperatives:
        groups = projections["groups"]
        with read(request.app.state.engine) as conn:
            countries = list(conn.scalars(select(groups.c.country).where(me.groups(groups)).distinct()))
    return zone_for(countries)


def render(
    request: Request,
    name: str,
    me: Principal | None = None,
    status: int = 200,
    zone: tzinfo | None = None,
    **context: Any,
) -> HTMLResponse:
    lang = lang_of(request)
    t: Callable[..., str] = partial(translate, lang)
    html = env.get_template(name).render(
        request=request,
        me=me,
        lang=lang,
        t=t,
        when=partial(when, lang=lang, zone=zone or reader_zone(request, me)),
        duration=partial(duration, lang=lang),
        plural=partial(plural, lang),
        line_chart=partial(charts.line_chart, lang=lang),
        bar_chart=partial(charts.bar_chart, lang=lang),
        pc=(lambda v: percent(v).replace(",", ".")) if lang == "en" else percent,
        csrf=me.csrf if me else context.pop("csrf", ""),
        here=here_param(request),
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


async def csrf_guard(request: Request, settings: SettingsDep, engine: EngineDep) -> None:
    """On every POST of the console: the session's CSRF token (the login form: its signed double submit)."""
    if request.method != "POST":
        return
    form = await request.form()
    token = form.get("csrf")
    if request.url.path == "/login":
        pre = request.cookies.get(sessions.PRE_COOKIE, "")
        if not pre or not sessions.csrf_ok(sessions.login_csrf(settings, pre), token):
            raise CsrfRefused("csrf", "this form expired or came from another site: reload and retry")
        return
    me = await run_in_threadpool(sessions.resume, engine, settings, request.cookies.get(sessions.COOKIE))
    if me is None:
        raise LoginRequired("login_required", "log in first")
    if not sessions.csrf_ok(me.csrf, token):
        raise CsrfRefused("csrf", "this form expired or came from another site: reload and retry")
    request.state.principal = me


CsrfGuard = Annotated[None, Depends(csrf_guard)]

ERROR_KEYS = {
    "login_failed": "e_login_failed",
    "login_locked": "e_login_locked",
    "csrf": "e_csrf",
    "not_allowed": "e_not_allowed",
    "rate_limited": "e_rate_limited",
    "login_required": "e_login_required",
    "user_inactive": "e_user_inactive",
    # what an administrator can get wrong on the users page
    "password_too_short": "e_password_too_short",
    "user_exists": "e_user_exists",
    "username_invalid": "e_username_invalid",
    "last_admin": "e_last_admin",
    "country_invalid": "e_country_invalid",
    "scope_invalid": "e_scope_invalid",
    "role_unknown": "e_role_unknown",
    "user_unknown": "e_user_unknown",
    # the exports' filters
    "date_invalid": "e_date_invalid",
    "quarter_invalid": "e_quarter_invalid",
    "quarter_future": "e_quarter_future",
    "date_range_invalid": "e_date_range_invalid",
    "group_invalid": "e_group_invalid",
    "export_too_large": "e_export_too_large",
    # the enrollment form, and revoking codes and kiosks
    "kiosk_id_invalid": "e_kiosk_id_invalid",
    "hours_invalid": "e_hours_invalid",
    "kiosk_outside_scope": "e_kiosk_outside_scope",
    "kiosk_partly_outside_scope": "e_kiosk_partly_outside_scope",
    "place_outside_scope": "e_place_outside_scope",
    "group_country_required": "e_group_country_required",
    "template_unknown": "e_template_unknown",
    "template_without_groups": "e_template_without_groups",
    "kiosk_already_enrolled": "e_kiosk_already_enrolled",
    "kiosk_unknown": "e_kiosk_unknown",
    "code_unknown": "e_code_unknown",
}
# Request validation (FastAPI) names the parameter; some have a sentence of their own, the others are named.
FIELD_KEYS = {"page": "e_page_invalid", "mp": "e_page_invalid", "hours": "e_hours_invalid"}
FIELD_KEYS |= {"kiosk_id": "e_kiosk_id_invalid", "quarter": "e_quarter_invalid"}
FIELD_KEYS |= {"from": "e_date_invalid", "to": "e_date_invalid"}


class HttpRefusal(SyncServerError):
    """Starlette's own refusals (405 and the like), for the console's error page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"http_{status}", message)
        self.status = status


def error_text(lang: str, exc: SyncServerError) -> str:
    """The sentence a person reads for a refusal, in their language.

    A code with no sentence of its own gets its status's general one in French: never the English
    message, which only the English side may fall back to (it says more than the general sentence)."""
    if exc.code == "input_invalid":
        return invalid_input_text(lang, [str(f) for f in exc.params.get("fields", [])])
    key = ERROR_KEYS.get(exc.code) or ("e_not_found" if exc.status == 404 else "")
    if key:
        return translate(lang, key, **exc.params)
    if lang == "en":
        return exc.message
    return translate(lang, f"e_{exc.status}" if f"e_{exc.status}" in T else "e_other")


def invalid_input_text(lang: str, fields: list[str]) -> str:
    """Which fields were refused, in words: 'Numéro de page invalide…', 'Valeur refusée : pays, rôle.'"""
    own = [FIELD_KEYS[f] for f in fields if f in FIELD_KEYS]
    if own:
        return translate(lang, own[0])
    names = [translate(lang, f"f_{f}") if f"f_{f}" in T else f for f in dict.fromkeys(fields)]
    if not names:
        return translate(lang, "e_400")
    return translate(lang, "e_input_invalid", fields=", ".join(names))


def is_page(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith("/v1/") or path in ("/healthz", "/openapi.json", "/docs", "/redoc"))


def error_page(request: Request, exc: SyncServerError) -> Response:
    """The console's edge: one exception family, one page (or a redirect to the login form)."""
    if isinstance(exc, LoginRequired) and request.method == "GET":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(here)}", status_code=303)
    lang = lang_of(request)
    message = error_text(lang, exc)
    me = getattr(request.state, "principal", None)
    headers = {}
    if exc.status == 429 and "retry_after" in exc.params:
        headers["Retry-After"] = str(exc.params["retry_after"])
    # No time on it, and no query: this page also answers for a database that does not.
    response = render(request, "error.html", me, status=exc.status, zone=UTC, message=message, code=exc.code)
    response.headers.update(headers)
    return response
