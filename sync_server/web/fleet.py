"""Kiosks, enrollment codes and receipt verification, as the console sees them (always within a scope)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from sqlalchemy import Connection, and_, delete, func, select, update

from kiosk.domain.events import journal_point_code, verification_code
from kiosk.domain.funds import Fund, count_total
from kiosk.domain.receipts import PAPER, member_share, paper_day

from ..authz import Principal
from ..db import enrollment_codes, incidents, insert, journal, kiosk_keys, kiosks, projections, reference, sent_forms
from ..errors import NotAllowed, NotFound
from ..security import receipt_code, same_text

G = projections["groups"]
T = projections["transactions"]
M = projections["members"]
MT = projections["meetings"]
R = projections["receipts"]


def fleet(conn: Connection, p: Principal, now: int, silent_days: int) -> list[dict[str, Any]]:
    """Kiosks in scope with their last sync, cursor, quarantined events and clock skew.

    Clock skew is read from the last event the kiosk sent: its device time
    minus the time the server estimated for it from the boot's anchor
    (``journal.est_time``, see ingest). App version, receipts waiting, the
    printer's last error and events left to send are what the kiosk said of
    itself in its last push (``PushBatch.report``, inside the signed body).
    """
    last = journal.alias("last")
    rows = conn.execute(
        select(
            kiosks,
            (last.c.device_time - last.c.est_time).label("skew_ms"),
            select(func.count())
            .where(G.c.kiosk_id == kiosks.c.kiosk_id, p.groups(G))
            .scalar_subquery()
            .label("groups"),
            select(func.max(kiosk_keys.c.created_at))
            .where(kiosk_keys.c.kiosk_id == kiosks.c.kiosk_id, kiosk_keys.c.status == "active")
            .scalar_subquery()
            .label("key_since"),
        )
        .select_from(
            kiosks.outerjoin(last, and_(last.c.kiosk_id == kiosks.c.kiosk_id, last.c.seq == kiosks.c.acked_seq))
        )
        .where(p.kiosks())
        .order_by(kiosks.c.kiosk_id)
    ).mappings()
    out = []
    silent_before = now - silent_days * 86_400_000
    for r in rows:
        d = dict(r)
        # Silent since its last push, or since it was enrolled (its key's creation) if that is later: a
        # kiosk enrolled minutes ago has not had time to sync (the overview counts the same way, in SQL).
        since = max(d["last_push_at"] or 0, d["key_since"] or d["created_at"] or 0)
        d["silent"] = d["status"] == "active" and since < silent_before
        out.append(d)
    return out


def kiosk_in_scope(conn: Connection, p: Principal, kiosk_id: str, whole: bool = False) -> dict[str, Any] | None:
    """The kiosk if this person may see it (``whole``: act on it, every group it serves in their scope)."""
    scope = p.kiosks_whole() if whole else p.kiosks()
    row = conn.execute(select(kiosks).where(kiosks.c.kiosk_id == kiosk_id, scope)).mappings().first()
    return dict(row) if row else None


def handle(secret: str, code_hash: str) -> str:
    """A code's name in URLs: not its hash, which would allow guessing the code offline."""
    return hmac.new(secret.encode(), code_hash.encode(), hashlib.sha256).hexdigest()[:20]


def incident_rows(conn: Connection, p: Principal, limit: int) -> list[dict[str, Any]]:
    """Refusals that looked like tampering or abuse, and quarantined events, newest first: an
    administrator's all; anyone else's, those filed under their kiosks."""
    where = [] if p.everything else [incidents.c.kiosk_id.in_(select(kiosks.c.kiosk_id).where(p.kiosks()))]
    query = select(incidents).where(*where).order_by(incidents.c.incident_id.desc()).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def incidents_seen(conn: Connection, p: Principal, limit: int = 50) -> list[dict[str, Any]]:
    """The same, as the kiosks page shows them: the detail read, what a person needs picked out."""
    out = []
    for row in incident_rows(conn, p, limit):
        try:
            detail = json.loads(row["detail"])
        except ValueError:  # cut at 4,000 characters when it was stored
            detail = {}
        count = detail.get("count") if isinstance(detail.get("count"), int) else None
        unproven = bool(detail.get("claimed_not_proven"))
        out.append(row | {"count": count, "unproven": unproven, "message": str(detail.get("message", ""))})
    return out


# -- a form sent once ----------------------------------------------------------------------------


def first_sending(conn: Connection, secret: str, csrf: str, nonce: str, now: int) -> bool:
    """True for the first POST of the form that carried ``nonce`` in this session; False when the same
    form comes again (a reload of the page that answered it, a double click). The primary key decides
    between two sent at once. A nonce is bound to the session: one seen elsewhere claims nothing here."""
    conn.execute(delete(sent_forms).where(sent_forms.c.sent_at < now - 86_400_000))  # housekeeping
    row = insert(conn, sent_forms).values(form_hash=_form(secret, csrf, nonce), sent_at=now)
    return conn.execute(row.on_conflict_do_nothing().returning(sent_forms.c.form_hash)).first() is not None


def unsend(conn: Connection, secret: str, csrf: str, nonce: str) -> None:
    """The form was refused: once corrected, it may be sent again."""
    conn.execute(delete(sent_forms).where(sent_forms.c.form_hash == _form(secret, csrf, nonce)))


def _form(secret: str, csrf: str, nonce: str) -> str:
    return hmac.new(secret.encode(), f"form\n{csrf}\n{nonce}".encode(), hashlib.sha256).hexdigest()


def codes(conn: Connection, p: Principal, secret: str, limit: int = 200) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(
            enrollment_codes.c.code_hash,
            enrollment_codes.c.kiosk_id,
            enrollment_codes.c.replace,
            enrollment_codes.c.created_by,
            enrollment_codes.c.created_at,
            enrollment_codes.c.expires_at,
            enrollment_codes.c.used_at,
            kiosks.c.name,
            kiosks.c.country,
            kiosks.c.cooperative,
            p.kiosks_whole().label("manageable"),  # a code for a kiosk partly elsewhere is listed, not revocable
        )
        .select_from(enrollment_codes.join(kiosks, kiosks.c.kiosk_id == enrollment_codes.c.kiosk_id))
        .where(p.kiosks())
        .order_by(enrollment_codes.c.created_at.desc())
        .limit(limit)
    ).mappings()
    out = []
    for r in rows:
        d = {k: v for k, v in dict(r).items() if k != "code_hash"}
        d["handle"] = handle(secret, r["code_hash"])
        d["manageable"] = bool(r["manageable"])
        out.append(d)
    waiting = groups_to_set_up(conn, p, {d["kiosk_id"] for d in out if d["used_at"] is None})
    for d in out:
        d["groups"] = waiting.get(d["kiosk_id"], []) if d["used_at"] is None else []
    return out


def groups_to_set_up(conn: Connection, p: Principal, kiosk_ids: set[str]) -> dict[str, list[str]]:
    """The groups assigned to each kiosk (with its code, or since) that it has not set up yet, by name: what a
    code waiting to be used will set up. Groups are assigned to a kiosk, not to one of its codes. A group of
    another scope, on a kiosk shared with it, is not named."""
    if not kiosk_ids:
        return {}
    made = select(G.c.group_id).where(G.c.kiosk_id == reference.c.scope, G.c.group_id == reference.c.key)
    found: dict[str, list[str]] = {}
    for scope, value in conn.execute(
        select(reference.c.scope, reference.c.value)
        .where(
            reference.c.entity == "kiosk_group",
            reference.c.scope.in_(sorted(kiosk_ids)),
            reference.c.deleted.is_(False),
            ~made.exists(),
        )
        .order_by(reference.c.version)
    ):
        group = json.loads(value or "{}")
        if p.place_allowed(group.get("country"), group.get("cooperative")):
            found.setdefault(scope, []).append(str(group.get("name", "")))
    return found


def revoke_code(conn: Connection, p: Principal, secret: str, code_handle: str, now: int) -> str:
    for r in conn.execute(
        select(enrollment_codes.c.code_hash, enrollment_codes.c.kiosk_id, p.kiosks_whole())
        .select_from(enrollment_codes.join(kiosks, kiosks.c.kiosk_id == enrollment_codes.c.kiosk_id))
        .where(p.kiosks(), enrollment_codes.c.used_at.is_(None), enrollment_codes.c.expires_at > now)
    ).all():
        if same_text(handle(secret, r[0]), code_handle):
            if not r[2]:  # listed for them (one group in scope), but the kiosk is not theirs alone to manage
                raise NotAllowed("kiosk_partly_outside_scope", PARTLY_OUTSIDE)
            conn.execute(
                update(enrollment_codes).where(enrollment_codes.c.code_hash == r[0]).values(expires_at=now - 1)
            )
            return str(r[1])
    raise NotFound("code_unknown", "no such code waiting to be used")


PARTLY_OUTSIDE = "this kiosk also serves groups outside your scope: ask an administrator"


def check_enrollment(
    conn: Connection,
    p: Principal,
    kiosk_id: str,
    country: str | None,
    cooperative: str | None,
    groups: bool = False,
) -> None:
    """A coordinator enrolls kiosks only into their scope, and issues codes (replacement or not) only for
    kiosks whose groups are all in it: a device enrolled with the code restores every group's journal.

    ``groups``: the code assigns groups to the kiosk. They are set up where the place given says, else
    where the kiosk was declared: that place must be in the scope too, for a kiosk already known as for a
    new one, or a coordinator could file groups under another scope's coordinators, who never asked."""
    row = conn.execute(select(kiosks.c.country, kiosks.c.cooperative).where(kiosks.c.kiosk_id == kiosk_id)).first()
    if row is not None and kiosk_in_scope(conn, p, kiosk_id, whole=True) is None:
        if kiosk_in_scope(conn, p, kiosk_id) is not None:  # they see it already: say why, leaking nothing
            raise NotAllowed("kiosk_partly_outside_scope", PARTLY_OUTSIDE)
        raise NotAllowed("kiosk_outside_scope", "this kiosk id is taken outside your scope: choose another")
    if row is None:
        place_checked = True
        place = (country, cooperative)
    else:  # create_enrollment keeps the declared place where none is given
        place_checked = groups or country is not None or cooperative is not None
        place = (country or row.country, cooperative or row.cooperative)
    if place_checked and not p.place_allowed(*place):
        raise NotAllowed("place_outside_scope", "choose a country and cooperative inside your scope")


# -- receipts ---------------------------------------------------------------------------------------


def parse_number(number: str) -> tuple[str, int] | None:
    kiosk_id, _, seq = number.strip().rpartition("-")
    if not kiosk_id or not (seq.isascii() and seq.isdigit()) or len(seq) > 12 or len(kiosk_id) > 64:
        return None
    return kiosk_id, int(seq)


def verify(conn: Connection, p: Principal | None, number: str, code: str) -> dict[str, Any]:
    """The verdict on a paper: genuine (with what it must say), mismatch, unknown.

    A receipt's code is the hash of its own ``receipt_issued`` event, which
    chains to every event before it: a code that matches proves the server
    holds the same history the kiosk printed from. That event holds the
    receipt's movements and, since they were added, the other figures its
    paper prints (totals, balances): whoever holds the paper, and so its code,
    sees them here and can compare, figure by figure. Who the member is and
    which group, only a coordinator in scope sees. A relevé or an échéancier
    prints the journal's head when it was printed: its code proves that point
    of the journal.
    """
    parsed = parse_number(number)
    given = receipt_code(code)
    out: dict[str, Any] = {"number": number.strip(), "code": given}
    if parsed is None or len(given) != 10:
        return out | {"verdict": "unknown" if parsed is None else "mismatch"}
    kiosk_id, seq = parsed
    row = _event(conn, kiosk_id, seq)
    if row is None and kiosk_id != kiosk_id.upper():  # "k07-000123", typed from a paper that says K07
        kiosk_id = kiosk_id.upper()
        row = _event(conn, kiosk_id, seq)
    if row is None:
        # A receipt printed after its kiosk's last push is genuine and not here yet (2G, a USB stick): said as
        # such, not as a forgery. Receipt numbers follow each other: this tells nobody anything worth hiding.
        acked = conn.scalar(select(kiosks.c.acked_seq).where(kiosks.c.kiosk_id == kiosk_id))
        return out | {"verdict": "not_yet" if acked is not None and seq > acked else "unknown"}
    point = same_text(journal_point_code(row["hash"]).replace("-", ""), given)
    if not point and not same_text(verification_code(row["hash"]).replace("-", ""), given):
        return out | {"verdict": "mismatch"}
    verdict = "genuine" if row["status"] == "applied" else "quarantined"
    out |= {"verdict": verdict, "kiosk_id": kiosk_id, "seq": seq}
    if point or row["type"] != "receipt_issued":  # (before journal point codes, a relevé printed the head's)
        return out | {"journal_point": True, "at": row["est_time"]}
    body = json.loads(row["body"])
    content = _content(conn, kiosk_id, body)
    g = None
    if p is not None:
        scope = p.groups(G)
        query = select(G).where(G.c.kiosk_id == kiosk_id, G.c.group_id == body.get("group"), scope)
        g = conn.execute(query).mappings().first()
    if g is None:  # the figures of the paper, not who it belongs to nor who recorded what, or why
        if content["member"]:
            content["member"] = {"number": content["member"]["number"]}
        content["movements"] = [{key: m.get(key) for key in PRINTED} for m in content["movements"]]
        return out | {"content": content, "outside_scope": p is not None}
    return out | {"group": dict(g), "content": content}


# What a receipt prints of each movement, and whether it was corrected since (not who did it, nor why).
PRINTED = ("kind", "what", "of", "fund", "amount", "split", "corrected", "repayable")


def _event(conn: Connection, kiosk_id: str, seq: int) -> Any:
    query = select(journal.c.type, journal.c.body, journal.c.hash, journal.c.status, journal.c.est_time).where(
        journal.c.kiosk_id == kiosk_id, journal.c.seq == seq
    )
    return conn.execute(query).mappings().first()


def _content(conn: Connection, kiosk_id: str, body: dict[str, Any]) -> dict[str, Any]:
    meeting = (
        conn.execute(
            select(MT.c.number, MT.c.date).where(MT.c.kiosk_id == kiosk_id, MT.c.meeting_id == body.get("meeting"))
        )
        .mappings()
        .first()
    )
    member = None
    if body.get("member"):
        member = (
            conn.execute(select(M.c.number, M.c.name).where(M.c.kiosk_id == kiosk_id, M.c.member_id == body["member"]))
            .mappings()
            .first()
        )
    txns = list(body.get("txns") or [])
    rev = T.alias("rev")
    moves = []
    if txns:
        found = {
            r["txn_id"]: dict(r)
            for r in conn.execute(
                select(T, rev.c.reason.label("corrected_because"), rev.c.seq.label("corrected_seq"))
                .select_from(T.outerjoin(rev, and_(rev.c.kiosk_id == T.c.kiosk_id, rev.c.txn_id == T.c.reversed_by)))
                .where(T.c.kiosk_id == kiosk_id, T.c.txn_id.in_(txns))
            ).mappings()
        }
        moves = [_signed(found[t]) for t in txns if t in found]
    if body.get("member") and not body.get("per_movement"):  # a share-out's parts: on the meeting's receipt
        for r in conn.execute(
            select(T.c.fund, T.c.detail).where(
                T.c.kiosk_id == kiosk_id, T.c.meeting_id == body.get("meeting"), T.c.kind == "share_out"
            )
        ):
            moves += member_share(r.fund, r.detail, body["member"])
    return {
        "kind": body.get("kind"),
        "meeting": dict(meeting) if meeting else None,
        "member": dict(member) if member else None,
        "movements": moves,
        "cash": _cash(conn, kiosk_id, body["meeting"]) if body.get("kind") == "report" and meeting else [],
        # What the paper prints beyond its movements (receipts issued before these were added have none).
        "paper": _paper(body["paper"]) if isinstance(body.get("paper"), dict) else None,
    }


def _paper(figures: dict[str, Any]) -> dict[str, Any]:
    """The paper's figures (absent ones read 0), and the next installment's day as a date."""
    paper: dict[str, Any] = {name: int(figures.get(name, 0)) for name in PAPER}
    paper["next_day"] = paper_day(paper["next_on"]) if paper["next"] else None
    return paper


def _cash(conn: Connection, kiosk_id: str, meeting_id: str) -> list[dict[str, Any]]:
    """A procès-verbal's boxes: counted and expected at opening and at closing, as the meeting's events
    recorded them (the reducer computed what was expected). The figures a treasurer would alter."""
    row = conn.execute(
        select(MT.c.open_count, MT.c.open_expected, MT.c.close_count, MT.c.close_expected).where(
            MT.c.kiosk_id == kiosk_id, MT.c.meeting_id == meeting_id
        )
    ).first()
    if row is None:
        return []
    open_count, open_expected, close_count, close_expected = (json.loads(v) if v else {} for v in row)
    return [
        {
            "fund": fund.value,
            "opening_counted": count_total(open_count.get(fund.value) or {}),
            "opening_expected": open_expected.get(fund.value, 0),
            "closing_expected": close_expected.get(fund.value),
            "closing_counted": count_total(close_count[fund.value]) if fund.value in close_count else None,
        }
        for fund in Fund
    ]


def _signed(row: Any) -> dict[str, Any]:
    """A correction as its paper shows it: minus the amount, naming the kind of movement it cancels."""
    move = dict(row)
    move["corrected"] = bool(move.get("reversed_by"))  # said to whoever holds the paper: it is their money
    detail = json.loads(move["detail"]) if isinstance(move["detail"], str) else move["detail"] or {}
    if move["kind"] in ("fine", "aid"):  # which one, as the paper says it: "Amende absence", "Aide décès"
        move["what"] = detail.get("fine") or detail.get("aid")
    move["repayable"] = move["kind"] == "aid" and bool(move.get("loan_id"))  # lent, not given: owed back
    if move["kind"] == "reversal":
        move |= {"amount": -move["amount"], "of": detail.get("kind")}
    elif move["kind"] == "repayment":  # the paper prints how a repayment was split: so must this page
        move["split"] = {k: int(detail.get(k) or 0) for k in ("principal", "paf", "penalty")}
    return move
