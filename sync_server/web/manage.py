"""The console's forms and downloads: log in and out, language, enrollment codes, users, kiosks, exports."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from .. import accounts, enrollment
from ..api.deps import Admin, EngineDep, Manager, Reader, SettingsDep, anonymous_limit, remote, remote_key
from ..authz import Principal
from ..db import fold_name, now_ms, read, write
from ..errors import BadRequest, TooManyRequests, Unauthorized
from . import exports, fleet, sessions
from .common import csrf_guard, error_text, lang_of, render, safe_next, today
from .i18n import translate
from .indicators import check_quarter, current_quarter, normal_quarter

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])

Short = Annotated[str, Form(max_length=200)]


# -- session --------------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep, next: Annotated[str, Query(max_length=500)] = "/") -> Response:
    return _login_page(request, settings, safe_next(next))


def _login_page(request: Request, settings: SettingsDep, target: str, error: str = "", status: int = 200) -> Response:
    pre = request.cookies.get(sessions.PRE_COOKIE) or sessions.new_pre()
    response = render(
        request, "login.html", None, status=status, csrf=sessions.login_csrf(settings, pre), next=target, error=error
    )
    sessions.set_cookie(response, request, settings, sessions.PRE_COOKIE, pre, 3600)
    return response


@router.post("/login")
def login(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    anonymous_limit(request)

    try:
        user = accounts.login_as_set(engine, settings, username, password, remote_key(request))
    except Unauthorized:
        return _login_page(request, settings, safe_next(next), translate(lang_of(request), "e_login_failed"), 401)
    except TooManyRequests as exc:
        response = _login_page(
            request, settings, safe_next(next), translate(lang_of(request), "e_login_locked", **exc.params), 429
        )
        response.headers["Retry-After"] = str(exc.params["retry_after"])
        return response
    cookie = sessions.start(engine, settings, user["user_id"], remote(request))
    response = RedirectResponse(safe_next(next), status_code=303)
    sessions.set_cookie(response, request, settings, sessions.COOKIE, cookie, settings.session_max_s)
    sessions.clear_cookie(response, request, settings, sessions.PRE_COOKIE)  # a new one for the next login
    return response


@router.post("/logout")
def logout(request: Request, settings: SettingsDep, engine: EngineDep) -> Response:
    sessions.end(engine, settings, request.cookies.get(sessions.COOKIE))
    response = RedirectResponse("/login", status_code=303)
    sessions.clear_cookie(response, request, settings, sessions.COOKIE)
    return response


@router.get("/lang/{lang}")
def language(
    request: Request,
    lang: Annotated[str, Path(pattern="^(fr|en)$")],
    next: Annotated[str, Query(max_length=500)] = "/",
) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie("lang", lang, max_age=365 * 86400, path="/", samesite="lax", httponly=True)
    return response


# -- one's own account ----------------------------------------------------------------------------


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, me: Reader, engine: EngineDep, saved: str = "") -> HTMLResponse:
    return _account(request, me, engine, saved=saved if saved in ("password", "sessions") else "")


def _account(
    request: Request, me: Principal, engine: Any, error: str = "", status: int = 200, **extra: Any
) -> HTMLResponse:
    open_now = sessions.count(engine, me.user_id)
    return render(request, "account.html", me, status, sessions_open=open_now, error=error, **extra)


@router.post("/account/password")
def change_password(
    request: Request,
    me: Reader,
    engine: EngineDep,
    settings: SettingsDep,
    current: Annotated[str, Form(max_length=1000)],
    new: Annotated[str, Form(max_length=1000)],
    again: Annotated[str, Form(max_length=1000)],
) -> Response:
    lang = lang_of(request)
    if new != again:
        return _account(request, me, engine, translate(lang, "e_password_mismatch"), 400)
    try:
        # The current password is checked as a login is, with the same throttle: a session left open on
        # a shared phone must not become a way to guess it.
        accounts.login_as_set(engine, settings, me.username, current, remote_key(request))
    except Unauthorized:
        return _account(request, me, engine, translate(lang, "e_password_wrong"), 400)
    except TooManyRequests as exc:
        response = _account(request, me, engine, translate(lang, "e_login_locked", **exc.params), 429)
        response.headers["Retry-After"] = str(exc.params["retry_after"])
        return response
    try:
        accounts.set_password(engine, me.user_id, new)
    except BadRequest as exc:
        return _account(request, me, engine, error_text(lang, exc), 400)
    return _signed_in_again(request, settings, engine, me, "/account?saved=password")


def _signed_in_again(request: Request, settings: Any, engine: Any, me: Principal, target: str) -> Response:
    """A new password ended every session of the account, this one too: the person who changed it stays in."""
    cookie = sessions.start(engine, settings, me.user_id, remote(request))
    response = RedirectResponse(target, status_code=303)
    sessions.set_cookie(response, request, settings, sessions.COOKIE, cookie, settings.session_max_s)
    return response


@router.post("/account/sessions")
def end_other_sessions(request: Request, me: Reader, engine: EngineDep, settings: SettingsDep) -> Response:
    sessions.end_others(engine, settings, me.user_id, request.cookies.get(sessions.COOKIE))
    return RedirectResponse("/account?saved=sessions", status_code=303)


# -- enrollment codes -----------------------------------------------------------------------------


@router.get("/enrollments", response_class=HTMLResponse)
def enrollment_list(request: Request, me: Manager, engine: EngineDep, settings: SettingsDep) -> HTMLResponse:
    return _enrollments(request, me, engine, settings)


def _enrollments(request: Request, me: Principal, engine: Any, settings: Any, **extra: Any) -> HTMLResponse:
    with read(engine) as conn:
        rows = fleet.codes(conn, me, settings.secret_key.get_secret_value())
    # Each form shown carries its own nonce: sent twice (a reload of the result page, a double click),
    # it creates one code only.
    return render(request, "enrollments.html", me, rows=rows, now=now_ms(), nonce=secrets.token_urlsafe(18), **extra)


@router.post("/enrollments", response_class=HTMLResponse)
def enrollment_create(
    request: Request,
    me: Manager,
    engine: EngineDep,
    settings: SettingsDep,
    kiosk_id: Annotated[str, Form(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")],
    nonce: Annotated[str, Form(min_length=16, max_length=64)],
    name: Short = "",
    country: Annotated[str, Form(max_length=8)] = "",
    cooperative: Short = "",
    hours: Annotated[int, Form(ge=1, le=24 * 30)] = 72,
    replace: Annotated[bool, Form()] = False,
    groups: Annotated[str, Form(max_length=5000)] = "",
) -> HTMLResponse:
    country = country.strip().upper()
    if country and not accounts.is_country(country):  # as a user's scope
        raise BadRequest("country_invalid", "a country is a two-letter code such as TG or BJ")
    names = [g.strip() for g in groups.splitlines() if g.strip()][:50]
    with read(engine) as conn:
        fleet.check_enrollment(conn, me, kiosk_id, country or None, cooperative.strip() or None, bool(names))
    secret = settings.secret_key.get_secret_value()
    with write(engine) as conn:
        first = fleet.first_sending(conn, secret, me.csrf or "", nonce, now_ms())
    if not first:
        return _enrollments(request, me, engine, settings, again=True)
    try:
        code, expires = enrollment.create_enrollment(
            engine,
            kiosk_id,
            created_by=me.username,
            hours=hours,
            name=name.strip(),
            replace=replace,
            groups=names,
            country=country or None,
            cooperative=cooperative.strip() or None,
        )
    except Exception:
        with write(engine) as conn:  # nothing was created: the corrected form may be sent again
            fleet.unsend(conn, secret, me.csrf or "", nonce)
        raise
    return _enrollments(request, me, engine, settings, created={"kiosk": kiosk_id, "code": code, "until": expires})


@router.post("/enrollments/{handle}/revoke")
def enrollment_revoke(
    handle: Annotated[str, Path(max_length=40)], me: Manager, engine: EngineDep, settings: SettingsDep
) -> Response:
    with write(engine) as conn:
        fleet.revoke_code(conn, me, settings.secret_key.get_secret_value(), handle, now_ms())
    return RedirectResponse("/enrollments", status_code=303)


@router.post("/kiosks/{kiosk_id}/revoke")
def kiosk_revoke(kiosk_id: Annotated[str, Path(max_length=64)], me: Admin, engine: EngineDep) -> Response:
    enrollment.revoke(engine, kiosk_id)
    return RedirectResponse("/kiosks", status_code=303)


# -- users ----------------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    """One entry per line: a cooperative's name may hold a comma ("Union des producteurs, Kpalimé")."""
    return [x.strip() for x in text.splitlines() if x.strip()]


def _codes(text: str) -> list[str]:
    """Countries: codes separated by commas, semicolons, spaces or lines ("TG, BJ")."""
    return [x for x in re.split(r"[\s,;]+", text) if x]


@router.get("/users", response_class=HTMLResponse)
def user_list(request: Request, me: Admin, engine: EngineDep, saved: bool = False) -> HTMLResponse:
    return render(request, "users.html", me, rows=accounts.list_users(engine), saved=saved)


@router.post("/users")
def user_create(
    me: Admin,
    engine: EngineDep,
    username: Annotated[str, Form(min_length=1, max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    role: Annotated[str, Form(pattern="^(admin|coordinator|viewer)$")],
    countries: Annotated[str, Form(max_length=500)] = "",
    cooperatives: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    accounts.create_user(
        engine, username, password, role, countries=_codes(countries), cooperatives=_lines(cooperatives)
    )
    return RedirectResponse("/users?saved=1", status_code=303)


@router.post("/users/{user_id}")
def user_update(
    user_id: int,
    me: Admin,
    engine: EngineDep,
    request: Request,
    settings: SettingsDep,
    action: Annotated[str, Form(pattern="^(enable|disable|scope|password)$")],
    role: Annotated[str, Form(pattern="^(admin|coordinator|viewer)$")] = "",
    countries: Annotated[str, Form(max_length=500)] = "",
    cooperatives: Annotated[str, Form(max_length=5000)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    if action == "password":  # a reset, for someone who forgot theirs: given to them by hand, not by mail
        accounts.set_password(engine, user_id, password)
        if user_id == me.user_id:
            return _signed_in_again(request, settings, engine, me, "/users?saved=1")
    elif action == "scope":
        accounts.set_user(
            engine, user_id, role=role or None, countries=_codes(countries), cooperatives=_lines(cooperatives)
        )
    else:
        accounts.set_user(engine, user_id, active=action == "enable")
    return RedirectResponse("/users?saved=1", status_code=303)


# -- exports --------------------------------------------------------------------------------------


@router.get("/exports", response_class=HTMLResponse)
def export_page(request: Request, me: Reader) -> HTMLResponse:
    return render(
        request,
        "exports.html",
        me,
        kinds=exports.KINDS,
        quarter=current_quarter(today(request)),
        indicator_columns=exports.HEADERS["indicators"],
    )


Kind = Annotated[str, Path(pattern="^(members|movements|loans|meetings|indicators)$")]
Fmt = Annotated[str, Path(pattern="^(csv|xlsx)$")]
Opt = Annotated[str, Query(max_length=200)]


@router.get("/exports/{kind}.{fmt}")
async def export_file(
    request: Request,
    kind: Kind,
    fmt: Fmt,
    me: Reader,
    engine: EngineDep,
    group: Opt = "",
    since: Annotated[str, Query(alias="from", max_length=10)] = "",
    until: Annotated[str, Query(alias="to", max_length=10)] = "",
    quarter: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    return await download(request, me, engine, kind, fmt, group, since, until, quarter, lang_of(request))


def file_slug(name: str | None) -> str:
    """A group's name in a file's: letters and digits, the rest one '-' ('MUSO Élikem' → 'muso-elikem')."""
    return "-".join(re.findall(r"[a-z0-9]+", fold_name(name or "")))[:40].strip("-")


async def download(
    request: Request,
    me: Principal,
    engine: Any,
    kind: str,
    fmt: str,
    group: str,
    since: str,
    until: str,
    quarter: str,
    lang: str | None,
) -> Response:
    """One download (CSV streamed, or Excel built then sent); shared by the pages and the JSON API.

    ``lang``: the console's language, for a file in words; None (the API) for identifiers and codes."""
    key, slug = None, ""
    if group:
        kiosk_id, _, group_id = group.partition("/")
        if not group_id:
            raise BadRequest("group_invalid", "group is KIOSK/GROUP_ID")
        key = (kiosk_id, group_id)
        from .queries import the_group

        def scoped() -> dict[str, Any]:
            with read(engine) as conn:
                return the_group(conn, me, kiosk_id, group_id)

        found = await run_in_threadpool(scoped)  # 404 outside the scope, before anything is sent
        # The group's name in the file's, as a person finds it among their downloads (its id's start keeps
        # two groups of one name apart).
        slug = file_slug(found["name"])
    day = today(request)
    # Bad input is refused here, before a streamed answer has begun and can no longer become an error.
    since, until = exports.iso_dates(since, until, lang)
    provisional = False
    if kind == "indicators":
        quarter = normal_quarter(quarter) if quarter else current_quarter(day)
        provisional = check_quarter(quarter, day)
    place = "-".join(part for part in (key[0], slug, key[1][:8]) if part) if key else ""
    name = f"muso-{kind}" + (f"-{place}" if place else "") + (f"-{quarter}" if quarter else "")
    name += ("-en-cours" if lang == "fr" else "-provisional") if provisional else ""
    # The group's id is the kiosk's word, any text: in a header, a quote would end the file's name early
    # ('x.html";' saves the names as a web page) and a character beyond Latin-1 fails the download.
    name = re.sub(r"[^A-Za-z0-9._-]", "-", name)
    header = exports.header(kind, lang)

    def produce() -> Iterator[tuple[Any, ...]]:
        with read(engine) as conn:
            found = exports.rows(conn, me, kind, group=key, since=since, until=until, quarter=quarter, today=day)
            yield from exports.in_words(kind, lang, found)

    if fmt == "csv":
        first = exports.csv_chunks(header, produce(), lang)
        return StreamingResponse(
            first,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Cache-Control": "no-store"},
        )
    title = exports.sheet_title(kind, lang, quarter, provisional)
    body = await run_in_threadpool(exports.xlsx_bytes, title, header, produce(), exports.date_columns(kind))
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"', "Cache-Control": "no-store"},
    )
