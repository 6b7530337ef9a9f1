"""Exports as CSV (streamed) and Excel (openpyxl, write-only): members, movements, loans, meetings, indicators.

Each export is one query with the scope in its SQL, per group or for the
whole scope; amounts are plain integers of francs so that spreadsheets can
sum them. CSV is streamed row by row (any size); an Excel sheet holds at most
a million rows, so a larger export is refused with a clear message before
anything is sent (ask for CSV or a shorter period).

The console's files are for people: headers and coded values (roles, kinds,
funds, statuses) in the reader's language, and in French the semicolon and
decimal comma a French spreadsheet expects (it opens a comma-separated file
in one column). The JSON API's files are for programs: the columns'
identifiers and the raw codes, which do not change with the language.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import Connection, and_, case, func, select

from ..authz import Principal
from ..db import projections
from ..errors import BadRequest, TooLarge
from . import indicators
from .i18n import T as WORDS
from .i18n import translate
from .loans import standing
from .queries import _discrepancies

G, M, L, T, MT = (projections[n] for n in ("groups", "members", "loans", "transactions", "meetings"))
A, AT = projections["accounts"], projections["attendance"]
KINDS = ("members", "movements", "loans", "meetings", "indicators")
XLSX_MAX_ROWS = 1_000_000

HEADERS = {
    "members": ("kiosk_id", "group", "number", "name", "sex", "role", "phone", "joined", "left_on", "active",
                "savings", "loans_owed", "aid_received"),
    "movements": ("kiosk_id", "group", "seq", "date", "meeting", "kind", "fund", "amount", "of_principal", "of_paf",
                  "of_penalty", "member_number", "member", "reverses_seq", "reversed", "reason"),
    "loans": ("kiosk_id", "group", "member_number", "member", "kind", "fund", "principal", "method", "rate_bp",
              "term_months", "start", "due_date", "repaid_on", "principal_paid", "paf_paid", "penalty_paid",
              "outstanding", "arrears", "days_late", "status"),
    "meetings": ("kiosk_id", "group", "number", "date", "status", "attended", "absent", "excused",
                 "represented", "slots", "discrepancy_open_verte", "discrepancy_open_rouge", "discrepancy_open_bleue",
                 "discrepancy_close_verte", "discrepancy_close_rouge", "discrepancy_close_bleue"),
    "indicators": indicators.COLUMNS,
}  # fmt: skip


# Each export's coded columns, with the prefix of their words in the console's dictionary ("" for yes/no).
_CODED: dict[str, dict[str, str]] = {
    "members": {"sex": "sex_", "role": "r_", "active": ""},
    "movements": {"kind": "k_", "fund": "fund_", "reversed": ""},
    "loans": {"kind": "lk_", "fund": "fund_", "method": "m_", "status": "s_"},
    "meetings": {"status": "ms_"},
}


def header(kind: str, lang: str | None) -> tuple[str, ...]:
    """The columns' names: identifiers for programs (``lang`` None), words for people."""
    names = HEADERS[kind]
    return names if lang is None else tuple(translate(lang, f"x_{name}") for name in names)


def in_words(kind: str, lang: str | None, data: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """``data`` with its codes in the reader's words (unchanged for programs)."""
    coded = _CODED.get(kind)
    if lang is None or not coded:
        yield from data
        return
    at = [(HEADERS[kind].index(name), prefix) for name, prefix in coded.items()]
    for row in data:
        out = list(row)
        for i, prefix in at:
            value = out[i]
            if prefix == "":
                out[i] = None if value is None else translate(lang, "yes" if value else "no")
            elif value is not None and f"{prefix}{value}" in WORDS:  # an unknown code stays as the kiosk wrote it
                out[i] = translate(lang, f"{prefix}{value}")
        yield tuple(out)


def sheet_title(kind: str, lang: str | None, quarter: str = "", provisional: bool = False) -> str:
    """The sheet's name: at most 31 characters in Excel, so a long heading has a short name of its own.

    The indicators' sheet names its quarter, and says when the quarter is still running: its figures
    will still move."""
    if lang is None:
        return kind
    if kind == "indicators" and quarter:
        return translate(lang, "sheet_indicators_running" if provisional else "sheet_indicators_of", quarter=quarter)
    return translate(lang, f"sheet_{kind}" if f"sheet_{kind}" in WORDS else f"export_{kind}")


def _where(p: Principal, table: Any, group: tuple[str, str] | None) -> list[Any]:
    out = [p.groups(G)]
    if group is not None:
        out += [table.c.kiosk_id == group[0], table.c.group_id == group[1]]
    return out


def _with_group(table: Any) -> Any:
    return table.join(G, and_(G.c.kiosk_id == table.c.kiosk_id, G.c.group_id == table.c.group_id))


def rows(
    conn: Connection,
    p: Principal,
    kind: str,
    *,
    group: tuple[str, str] | None = None,
    since: str = "",
    until: str = "",
    quarter: str = "",
    today: date,
) -> Iterator[tuple[Any, ...]]:
    if kind == "members":
        yield from _members(conn, p, group)
    elif kind == "movements":
        yield from _movements(conn, p, group, since, until)
    elif kind == "loans":
        yield from _loans(conn, p, group, today)
    elif kind == "meetings":
        yield from _meetings(conn, p, group, since, until)
    elif kind == "indicators":
        for r in indicators.quarterly(conn, p, quarter or indicators.current_quarter(today), today):
            yield tuple(r[c] for c in indicators.COLUMNS)
    else:
        raise BadRequest("export_unknown", f"exports: {', '.join(KINDS)}")


def _members(conn: Connection, p: Principal, group: tuple[str, str] | None) -> Iterator[tuple[Any, ...]]:
    savings = A.alias("s")
    q = (
        select(M, G.c.name.label("group_name"), savings.c.balance.label("savings_balance"))
        .select_from(
            _with_group(M).outerjoin(
                savings,
                and_(
                    savings.c.kiosk_id == M.c.kiosk_id,
                    savings.c.group_id == M.c.group_id,
                    savings.c.account == "verte:savings:" + M.c.member_id,
                ),
            )
        )
        .where(*_where(p, M, group))
        .order_by(M.c.kiosk_id, G.c.name, M.c.number)
    )
    outstanding: dict[tuple[str, str], int] = {}
    for k, mid, principal, paid in conn.execute(
        select(L.c.kiosk_id, L.c.member_id, L.c.principal, L.c.principal_paid)
        .select_from(_with_group(L))
        .where(L.c.status == "active", *_where(p, L, group))  # aid loans too: the member owes them
    ).all():
        outstanding[(k, mid)] = outstanding.get((k, mid), 0) + principal - paid
    for r in conn.execute(q).mappings():
        yield (
            r["kiosk_id"], r["group_name"], r["number"], r["name"], r["sex"], r["role"], r["phone"], r["joined"],
            r["left_on"], bool(r["active"]), -(r["savings_balance"] or 0),
            outstanding.get((r["kiosk_id"], r["member_id"]), 0), r["aid_received"],
        )  # fmt: skip


_FRENCH_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def iso_dates(since: str, until: str, lang: str | None = None) -> tuple[str, str]:
    """A period's bounds as the dates are stored (YYYY-MM-DD), or a clear refusal: never an empty file.

    In French, JJ/MM/AAAA is read too, as the pages write dates; the English pages write ISO, and an
    English 10/01/2026 might mean 1 October."""
    out = []
    for value, name in ((since.strip(), "from"), (until.strip(), "to")):
        if value and lang == "fr" and (found := _FRENCH_DAY.fullmatch(value)):
            value = f"{found[3]}-{int(found[2]):02d}-{int(found[1]):02d}"
        # Exactly YYYY-MM-DD: the filter compares with the stored dates as text, and fromisoformat alone
        # would also take 20260504 or 2026-W19-1, which then match nothing.
        if value:
            try:
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                    raise ValueError(value)
                date.fromisoformat(value)
            except ValueError:
                raise BadRequest("date_invalid", f"{name}: a date is written YYYY-MM-DD") from None
        out.append(value)
    if out[0] and out[1] and out[0] > out[1]:
        raise BadRequest("date_range_invalid", "from is after to: no day lies between them")
    return out[0], out[1]


def _dated(q: Any, since: str, until: str) -> Any:
    since, until = iso_dates(since, until)
    if since:
        q = q.where(MT.c.date >= since)
    if until:
        q = q.where(MT.c.date <= until)
    return q


def _movements(
    conn: Connection, p: Principal, group: tuple[str, str] | None, since: str, until: str
) -> Iterator[tuple[Any, ...]]:
    orig = T.alias("orig")
    q = (
        select(
            T.c.kiosk_id,
            G.c.name,
            T.c.seq,
            MT.c.date,
            MT.c.number,
            T.c.kind,
            T.c.fund,
            T.c.amount,
            T.c.detail,
            orig.c.kind,
            orig.c.detail,
            M.c.number,
            M.c.name,
            orig.c.seq,
            T.c.reversed_by.is_not(None),
            T.c.reason,
        )
        .select_from(
            _with_group(T)
            .join(MT, and_(MT.c.kiosk_id == T.c.kiosk_id, MT.c.meeting_id == T.c.meeting_id))
            .outerjoin(M, and_(M.c.kiosk_id == T.c.kiosk_id, M.c.member_id == T.c.member_id))
            .outerjoin(orig, and_(orig.c.kiosk_id == T.c.kiosk_id, orig.c.txn_id == T.c.reverses))
        )
        .where(*_where(p, T, group))
        .order_by(T.c.kiosk_id, T.c.seq)
    )
    result = conn.execution_options(stream_results=True, yield_per=2000).execute(_dated(q, since, until))
    for r in result:
        kind, detail, of_kind, of_detail = r[5], r[8], r[9], r[10]
        yield (*r[:8], *repayment_split(kind, detail, of_kind, of_detail), *r[11:])


def repayment_split(
    kind: str, detail: str | None, of_kind: str | None, of_detail: str | None
) -> tuple[int | None, int | None, int | None]:
    """A repayment's capital, PAF and penalty, as its receipt prints them (a correction of one: the split it
    takes back); empty for any other movement. PAF and penalties are the group's income and capital is not:
    without them, a file of repayments could not say what a month earned."""
    if kind == "reversal" and of_kind == "repayment":
        detail = of_detail
    elif kind != "repayment":
        return (None, None, None)
    d = json.loads(detail or "{}")
    return (d.get("principal"), d.get("paf"), d.get("penalty"))


def _loans(conn: Connection, p: Principal, group: tuple[str, str] | None, today: date) -> Iterator[tuple[Any, ...]]:
    # The day a loan was repaid in full is its last repayment's meeting day: beside its final due date, it
    # tells a loan repaid late from one repaid on time, which the file could not say once a loan was repaid.
    last, paid_at = T.alias("last"), MT.alias("paid_at")
    q = (
        select(
            L,
            G.c.name.label("group_name"),
            M.c.number.label("member_number"),
            M.c.name.label("member_name"),
            paid_at.c.date.label("repaid_on"),
        )
        .select_from(
            _with_group(L)
            .join(M, and_(M.c.kiosk_id == L.c.kiosk_id, M.c.member_id == L.c.member_id))
            .outerjoin(last, and_(last.c.kiosk_id == L.c.kiosk_id, last.c.txn_id == L.c.last_repayment))
            .outerjoin(paid_at, and_(paid_at.c.kiosk_id == last.c.kiosk_id, paid_at.c.meeting_id == last.c.meeting_id))
        )
        .where(*_where(p, L, group))
        .order_by(L.c.kiosk_id, G.c.name, L.c.start)
    )
    for r in conn.execution_options(stream_results=True, yield_per=2000).execute(q).mappings():
        s = standing(dict(r), today)
        yield (
            r["kiosk_id"], r["group_name"], r["member_number"], r["member_name"], r["kind"], r["fund"],
            r["principal"], r["method"], r["rate_bp"], r["term_months"], r["start"],
            s["due_date"], r["repaid_on"] if r["status"] == "repaid" else None,
            r["principal_paid"], r["paf_paid"], r["penalty_paid"],
            r["principal"] - r["principal_paid"] if r["status"] == "active" else 0,
            s.get("arrears", 0), s.get("days_late", 0), r["status"],
        )  # fmt: skip


def _meetings(
    conn: Connection, p: Principal, group: tuple[str, str] | None, since: str, until: str
) -> Iterator[tuple[Any, ...]]:
    def n(*statuses: str) -> Any:
        return func.sum(case((AT.c.status.in_(statuses), 1), else_=0))

    att = (
        select(
            AT.c.kiosk_id,
            AT.c.meeting_id,
            n("present", "late").label("attended"),
            n("absent").label("absent"),
            n("excused").label("excused"),
            n("represented").label("represented"),
            func.count().label("slots"),
        )
        .select_from(_with_group(AT))
        .where(*_where(p, AT, group))
        .group_by(AT.c.kiosk_id, AT.c.meeting_id)
        .subquery()
    )
    q = _dated(
        select(
            MT,
            G.c.name.label("group_name"),
            *[att.c[c] for c in ("attended", "absent", "excused", "represented", "slots")],
        )
        .select_from(
            _with_group(MT).outerjoin(att, and_(att.c.kiosk_id == MT.c.kiosk_id, att.c.meeting_id == MT.c.meeting_id))
        )
        .where(*_where(p, MT, group)),
        since,
        until,
    ).order_by(MT.c.kiosk_id, G.c.name, MT.c.date)
    for r in conn.execution_options(stream_results=True, yield_per=500).execute(q).mappings():
        d = _discrepancies(dict(r))
        yield (
            r["kiosk_id"], r["group_name"], r["number"], r["date"], r["status"], r["attended"] or 0,
            r["absent"] or 0, r["excused"] or 0, r["represented"] or 0, r["slots"] or 0,
            *(d[when].get(fund, 0) for when in ("open", "close") for fund in ("verte", "rouge", "bleue")),
        )  # fmt: skip


# -- formats --------------------------------------------------------------------------------------


# A text cell beginning with one of these is a formula to a spreadsheet: a member's name typed as
# =HYPERLINK(…) on a kiosk would run on a coordinator's computer (OWASP's "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# ...except a phone number ("+228 90 13 23 33"): a plus, digits and spaces call no function and reach no
# cell, and a quote in front of every number would spoil the column for whoever dials or imports it.
_PHONE = re.compile(r"\+?[0-9 ]*[0-9][0-9 ]*")


def _csv_cell(value: Any, french: bool) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PHONE.fullmatch(value):
        return "'" + value  # the usual defence: the spreadsheet shows it as text
    if french and isinstance(value, float):
        return repr(value).replace(".", ",")
    return value


def csv_chunks(header: tuple[str, ...], data: Iterator[tuple[Any, ...]], lang: str | None = None) -> Iterator[str]:
    """CSV text in chunks; in French with ``;`` between cells and a decimal comma, as French spreadsheets read."""
    french = lang == "fr"
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";" if french else ",")
    buf.write("\ufeff")  # a BOM, so that Excel opens accented names as UTF-8
    writer.writerow(header)
    for i, row in enumerate(data, 1):
        writer.writerow([_csv_cell(v, french) for v in row])
        if i % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
DATES = frozenset({"date", "joined", "left_on", "start", "due_date", "repaid_on"})  # the columns that hold days


def date_columns(kind: str) -> frozenset[int]:
    """Where a kind's days are: by column, never by look (a name typed as 2026-05-04 stays a name)."""
    return frozenset(i for i, name in enumerate(HEADERS.get(kind, ())) if name in DATES)


def _xlsx_cell(ws: Any, value: Any, is_date: bool = False) -> Any:
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"  # openpyxl would store it as a live formula: text it is, shown as typed
        return cell
    if is_date and isinstance(value, str) and _ISO_DAY.fullmatch(value):
        # A date a spreadsheet sorts, filters and counts days from, not text that only looks like one.
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
        if day.year < 1900:  # before the spreadsheets' epoch: shown as #### or taken for a time
            return value
        cell = WriteOnlyCell(ws, value=day)
        cell.number_format = "DD/MM/YYYY"
        return cell
    return value


def _bold(ws: Any, value: str) -> Any:
    cell = WriteOnlyCell(ws, value=value)
    cell.font = Font(bold=True)
    return cell


def xlsx_bytes(
    title: str, header: tuple[str, ...], data: Iterator[tuple[Any, ...]], dates: frozenset[int] = frozenset()
) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    # A sheet a coordinator can read at once: its headings stay in view and filter, columns fit them.
    ws.freeze_panes = "A2"
    for j, name in enumerate(header, 1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(len(name) + 4, 10), 40)
    ws.append([_bold(ws, name) for name in header])
    rows = 0
    for rows, row in enumerate(data, 1):
        if rows > XLSX_MAX_ROWS:
            raise TooLarge("export_too_large", "more than a million rows: export CSV, or a group or a shorter period")
        ws.append(
            [_xlsx_cell(ws, json.dumps(v) if isinstance(v, (dict, list)) else v, j in dates) for j, v in enumerate(row)]
        )
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(header), 1))}{rows + 1}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
