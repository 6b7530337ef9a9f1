"""Receipt layouts as pure functions: a document (kiosk.services.receipts) and a width in, blocks out.

Widths are the printer's columns in font A: 32 (58 mm), 42 or 48 (80 mm).
Everything is in French; amounts are right-aligned as ``12 500 FCFA``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from kiosk.domain.receipts import totals

from .blocks import Block, Line, Qr, Rule, centered, date_fr, keep, money, pair, wrap
from .text import printable
from .words import AID, ATTENDANCE, FUND, KIND, METHOD, REVERSAL_WAY

WIDTHS = (32, 42, 48)


def check_width(width: int) -> None:
    if width not in WIDTHS:
        raise ValueError(f"width must be one of {WIDTHS}, not {width}")


def _header(doc: dict[str, Any], width: int, duplicate: bool) -> list[Block]:
    out: list[Block] = [*centered(doc["group"], width, bold=True, big=True)]
    out += centered(doc["title"].upper(), width, bold=True)
    if duplicate:
        out += [Line("*** DUPLICATA ***", "center", bold=True, big=True)]
    return out


def _meeting_header(doc: dict[str, Any], width: int, duplicate: bool) -> list[Block]:
    """The group, the title and the meeting: the top of a member's receipt and of the procès-verbal."""
    check_width(width)
    meeting = doc["meeting"]
    out = _header(doc, width, duplicate)
    out += centered(f"Séance n° {meeting['number']} du {date_fr(meeting['date'])}", width)
    out.append(Rule())
    return out


def _footer(doc: dict[str, Any], width: int, officer: str | None = None) -> list[Block]:
    out: list[Block] = [Rule()]
    if doc.get("number"):
        out += pair("Reçu n°", doc["number"], width)
    elif doc.get("journal_seq") is not None:
        out += pair("Journal n°", f"{doc['kiosk']}-{doc['journal_seq']:06d}", width)
    if officer:
        # Jobs queued before "officer_as" existed said "Trésorier", and still do.
        role = {"recorded": "Saisi par", "opened": "Séance ouverte par"}.get(doc.get("officer_as", ""), "Trésorier")
        out += [Line(t) for t in wrap(f"{role} : {officer}", width)]
    out.append(Line(f"Code : {doc['code']}", "center", bold=True))
    if doc.get("verify_url"):
        out.append(Qr(doc["verify_url"]))
        # Where to type the number and code by hand: a smudged QR code, or no phone to scan it with.
        out += [Line(t, "center") for t in wrap(f"Vérifier sur {verify_site(doc['verify_url'])}", width)]
    return out


def verify_site(url: str) -> str:
    """The check's page a person types (``ong.example.org/verify``) from a QR code's address
    (``https://ong.example.org/v/K07-000123/ABCDEFGHJK``): no scheme, the server's path prefix kept."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path.rsplit('/v/', 1)[0]}/verify"


def _kind(kind: str, detail: dict[str, Any]) -> str:
    """A movement's kind as people say it: "Amende retard", "Aide décès"."""
    label = KIND.get(kind, kind)
    if kind == "fine" and detail.get("fine"):
        label += f" {detail['fine']}"
    if kind == "aid" and detail.get("aid"):
        label += f" {AID.get(detail['aid'], detail['aid'])}"
    return label


def _repayable_aid(m: dict[str, Any]) -> bool:
    """An aid lent, not given: its detail carries the loan's terms (jobs queued before they did cannot tell)."""
    return m["kind"] == "aid" and bool(m["detail"].get("term_months"))


def _label(m: dict[str, Any]) -> str:
    # A correction's detail names what it cancels (services.receipts copies the fine or aid type there).
    label = _kind(m["of"] if m["kind"] == "reversal" else m["kind"], m["detail"])
    if _repayable_aid(m):  # "Vous avez reçu : Aide maladie 5 000" read as a gift, not as money owed
        label += " " + keep("à", "rembourser")
    label += f" ({m['fund']})"
    if m["kind"] != "reversal":
        return label
    return f"ANNULATION {label}" + (f" du {date_fr(m['of_date'])}" if m.get("of_date") else "")


def _moves_a_loan(m: dict[str, Any]) -> bool:
    """A loan or a repayable aid taken, a repayment, or the correction of one of these."""
    return m["kind"] in ("loan", "repayment") or m.get("of") in ("loan", "repayment") or _repayable_aid(m)


def _movement_lines(m: dict[str, Any], width: int) -> list[Line]:
    out = pair(_label(m), money(m["amount"]), width, indent=1)
    if m["kind"] == "repayment":
        d = m["detail"]
        parts = [keep("capital", money(d["principal"]))]
        if d["paf"]:
            parts.append(keep("PAF", money(d["paf"])))
        if d["penalty"]:
            parts.append(keep("pénalité", money(d["penalty"])))
        out += [Line("   " + t) for t in wrap("dont " + ", ".join(parts), width - 3)]
    if m["kind"] in ("loan", "aid") and m["detail"].get("term_months"):  # jobs queued before it have none
        terms = _loan_terms(m["amount"], m["detail"])
        out += [Line("   " + t) for t in wrap(f"en {terms}" if _repayable_aid(m) else terms, width - 3)]
    if m["kind"] == "reversal" and m.get("reason"):
        out += [Line("   " + t) for t in wrap(f"{keep('motif', ':')} {m['reason']}", width - 3)]
    if m.get("approved_by"):  # jobs queued before it have none
        out += [Line("   " + t) for t in wrap("approuvé par " + " et ".join(m["approved_by"]), width - 3)]
    return out


def _share_out_parts(paid: dict[str, Any], movements: list[dict[str, Any]], width: int) -> list[Line]:
    """What a share-out paid is the member's savings and their part of the gains (or less their part of the
    loss): "Partage 28 530" above "Gains 1 530" and "Épargne 0" added up to nothing the member could check."""
    shared = sum(
        m["amount"] if m["kind"] == "share_gain" else -m["amount"]
        for m in movements
        if m["kind"] in ("share_gain", "share_loss") and m["fund"] == paid["fund"]
    )
    if not shared:
        return []
    # The sign kept with its word: "-" alone at a line's end read as a word cut in two.
    part = keep("+", "gains", money(shared)) if shared > 0 else keep("-", "perte", money(-shared))
    text = f"soit {keep('épargne', money(paid['amount'] - shared))} {part}"
    return [Line("   " + t) for t in wrap(text, width - 3)]


def _months(n: int) -> str:
    return keep(str(n), "mois")


def _rate(rate_bp: int) -> str:
    return keep(f"{rate_bp // 100},{rate_bp % 100:02d}", "%/mois")


def _loan_terms(amount: int, d: dict[str, Any]) -> str:
    """A loan's terms under its line: the borrower takes home what they agreed to, not only the sum."""
    parts = [_months(d["term_months"])]
    if "rate_bp" in d:
        parts.append(keep("PAF", _rate(d["rate_bp"])) + " du reste dû")
    elif d.get("paf"):
        parts += [keep("PAF", money(d["paf"])), keep("à rendre", money(amount + d["paf"]))]
    else:
        parts.append("sans PAF")
    return ", ".join(parts) + ", " + keep("1re", "échéance", "le", date_fr(d["first_due"]))


def _loan_balances(b: dict[str, Any], width: int, indent: int, always: bool = False) -> list[Line]:
    """What is left of the loans' capital, and (in bold) what is already late: the next installment
    adds its PAF to the capital, so "capital" says which of the two this figure is."""
    out: list[Line] = []
    late = b.get("late", 0)  # documents queued before it existed have none
    if always or b["loan_outstanding"] or b["next_due"] or late:
        out += pair("Capital restant dû", money(b["loan_outstanding"]), width, indent=indent)
    if late:
        out += pair("EN RETARD, à payer", money(late), width, indent=indent, bold=True)
        if b.get("late_penalty"):  # 3 210 is no installment's figure: 3 180 late and 30 for the lateness
            out += pair("dont pénalité", money(b["late_penalty"]), width, indent=indent + 2)
    return out


def _next_due(b: dict[str, Any], width: int, indent: int) -> list[Line]:
    """The next installment's own amount; with several loans due that day, their sum (each échéancier
    shows one loan, so the paper says why this figure is larger)."""
    nxt = b["next_due"]
    if not nxt:
        return []
    out = pair(f"Prochaine échéance le {date_fr(nxt['date'])}", money(nxt["amount"]), width, indent=indent)
    if nxt.get("loans", 1) > 1:  # documents queued before it existed have none
        out.append(Line(" " * (indent + 2) + keep("pour", str(nxt["loans"]), "prêts")))
    return out


def member_receipt(doc: dict[str, Any], width: int = 32, *, duplicate: bool = False) -> list[Block]:
    """One member's receipt for a meeting (or for one movement)."""
    out = _meeting_header(doc, width, duplicate)
    member = doc["member"]
    out += [Line(t, bold=True) for t in wrap(f"Membre n° {member['number']} : {member['name']}", width)]
    if doc.get("represented_by"):  # jobs queued before it have none
        word = "Représentée" if member.get("sex") == "F" else "Représenté"
        out += [Line(t) for t in wrap(f"{word} à la séance par : {doc['represented_by']}", width)]
    if doc.get("recap"):
        advice = keep("ne", "pas", "les", "additionner.")  # on one line: "ne" alone at a line's end read as cut
        out += [Line(t) for t in wrap(f"Reprend les reçus déjà remis à cette séance : {advice}", width)]
    sections = (
        ("Vous avez versé", lambda m: m["flow"] == "in" and m["kind"] != "reversal"),
        ("Vous avez reçu", lambda m: m["flow"] == "out" and m["kind"] != "reversal"),
        ("Porté à votre épargne", lambda m: m["flow"] == "saved"),
        ("Retiré de votre épargne", lambda m: m["flow"] == "taken"),
        ("Corrections", lambda m: m["kind"] == "reversal"),
    )
    for title, belongs in sections:
        moves = [m for m in doc["movements"] if belongs(m)]
        if moves:
            out.append(Line(f"{title} :"))
        for m in moves:
            out += _movement_lines(m, width)
            if m["kind"] == "share_out":
                out += _share_out_parts(m, doc["movements"], width)
    if not doc["movements"]:
        out.append(Line("Aucun mouvement à cette séance."))
    out.append(Rule())
    paid, received = totals(doc["movements"])
    out += pair("TOTAL VERSÉ", money(paid), width, bold=True)
    if received:  # "TOTAL REÇU 0" under "Reçu n°" read as the receipt being worth nothing
        out += pair("TOTAL REÇU", money(received), width, bold=True)
    if any(m["kind"] == "reversal" for m in doc["movements"]):
        # The lines under "Vous avez versé" add up to more: the totals are after the corrections.
        out += [Line(" " + t) for t in wrap("corrections déduites", width - 1)]
    out.append(Rule())
    b = doc["balances"]
    out.append(Line("Vos soldes à ce jour :" if doc.get("per_movement") else "Vos soldes après la séance :"))
    out += pair("Épargne (verte)", money(b["savings"]), width, indent=1, bold=True)  # the figure a member looks for
    # A receipt that moved a loan says what is left of it, 0 included: the last repayment, or an early one,
    # left the line out and the member nothing in hand saying the loan was finished.
    out += _loan_balances(b, width, indent=1, always=any(_moves_a_loan(m) for m in doc["movements"]))
    out += _next_due(b, width, indent=1)
    if b["aid_received"]:
        out += pair("Aides reçues (total)", money(b["aid_received"]), width, indent=1)
    out += _footer(doc, width, doc.get("officer"))
    out.append(Line("Gardez ce reçu.", "center"))
    return out


def _correction(r: dict[str, Any]) -> tuple[str, int]:
    """Whose movement was cancelled (a group expense has nobody), what it was, and why."""
    detail = r.get("detail") or {}  # jobs queued before it existed have no detail
    what = _kind(r["of"], detail) + (f" {detail['label']}" if r["of"] == "expense" and detail.get("label") else "")
    who = f"{r['member']}, " if r.get("member") else ""
    return f"{who}{keep(what, ':')} {r['reason']}", r["amount"]  # a line never starts with ":"


def _aid_row(r: dict[str, Any]) -> tuple[str, int]:
    what = AID.get(r["aid"], r["aid"])
    if r.get("repayable"):  # documents queued before it existed have none
        what += ", " + keep("à", "rembourser")
    return f"{r['member']} ({what})", r["amount"]


def _share_out_lines(s: dict[str, Any], width: int) -> list[Line]:
    """What a share-out moved: "Partage x1 0 FCFA" said nothing of the gains credited to every member."""
    out: list[Line] = []
    for label, amount, count, among in (
        ("Gains partagés", s["gains"], s["gained_by"], "entre"),
        ("Perte partagée", s["loss"], s["lost_by"], "entre"),
        ("Épargne et gains versés", s["paid"], s["paid_to"], "à"),
    ):
        if amount:
            out += pair(f"{label} ({s['fund']})", money(amount), width, indent=1)
            out.append(Line("   " + _among(among, count)))
    return out


def _savings_paid_row(r: dict[str, Any]) -> tuple[str, int]:
    what = "départ" if r["kind"] == "exit" else "retrait"
    return f"{r['member']} ({what})", r["amount"]


def _among(word: str, count: int) -> str:
    """ "entre 23 membres", but "à 1 membre": one member shares with nobody."""
    return keep(word, str(count), "membres") if count > 1 else keep("à", "1", "membre")


def _cash_error(label: str, diff: int, width: int) -> list[Line]:
    """More cash than the books say is +, cash missing is -."""
    return pair(label, money(diff, signed=True), width, indent=1, bold=True)


def meeting_report(doc: dict[str, Any], width: int = 32, *, duplicate: bool = False) -> list[Block]:
    """The procès-verbal of a meeting."""
    out = _meeting_header(doc, width, duplicate)
    meeting = doc["meeting"]
    att = doc["attendance"]
    out.append(Line("PRÉSENCE", bold=True))
    for key, label in ATTENDANCE.items():
        out += pair(label, str(att.get(key, 0)), width, indent=1)
        if key == "represented":  # who stood in for whom: documents queued before it have no names
            for r in doc.get("represented", []):
                out += [Line("   " + t) for t in wrap(f"{r['member']}, par : {r['by']}", width - 3)]
    out += pair("Total des membres", str(sum(att.values())), width, indent=1)
    for fund in FUND:
        f = doc["funds"][fund]
        if not any(v for v in f.values() if v is not None):
            continue
        out.append(Rule())
        out.append(Line(FUND[fund].upper(), bold=True))
        # Each count's error under its own lines, from the figures printed above it: one sum of both let
        # 100 F found at opening and 100 F missing at closing cancel out, and put either under the closing.
        out += pair("Ouverture, compté", money(f["opening_counted"]), width, indent=1)
        if f["opening_counted"] != f["opening_expected"]:
            out += pair("attendu", money(f["opening_expected"]), width, indent=3)
            out += _cash_error("Écart à l'ouverture", f["opening_counted"] - f["opening_expected"], width)
        out += pair("Entrées", money(f["in"]), width, indent=1)
        out += pair("Sorties", money(f["out"]), width, indent=1)
        if f["closing_expected"] is not None:
            out += pair("Clôture, attendu", money(f["closing_expected"]), width, indent=1)
            out += pair("Clôture, compté", money(f["closing_counted"]), width, indent=1)
            if f["closing_counted"] != f["closing_expected"]:
                out += _cash_error("Écart à la clôture", f["closing_counted"] - f["closing_expected"], width)
    out.append(Rule())
    out.append(Line("MOUVEMENTS", bold=True))
    for t in doc["totals"]:
        label = f"{KIND.get(t['kind']) or REVERSAL_WAY.get(t['kind'], t['kind'])} ({t['fund']}) x{t['count']}"
        out += pair(label, money(t["amount"]), width, indent=1)
    for shared in doc.get("share_outs", []):  # documents queued before it have the share-out among the totals
        out += _share_out_lines(shared, width)
    # Documents queued before expenses and savings paid out were listed have neither.
    for title, rows, fmt in (
        ("PRÊTS ACCORDÉS", doc["loans"], lambda r: (f"{r['member']}, {_months(r['term_months'])}", r["amount"])),
        ("AIDES", doc["aid"], _aid_row),
        ("ÉPARGNE RENDUE", doc.get("savings_paid", []), _savings_paid_row),
        ("DÉPENSES", doc.get("expenses", []), lambda r: (f"{r['label']} ({r['fund']})", r["amount"])),
        ("CORRECTIONS", doc["corrections"], _correction),
    ):
        if rows:
            out.append(Line(title, bold=True))
            for row in rows:
                label, amount = fmt(row)
                out += pair(label, money(amount), width, indent=1)
                if row.get("approved_by"):  # the group's money spent: who let it go
                    out += [Line("   " + t) for t in wrap("approuvé par " + " et ".join(row["approved_by"]), width - 3)]
    out.append(Rule())
    out += [Line(t) for t in wrap("Ouverture : " + ", ".join(meeting["opened_by"]), width)]
    out += [Line(t) for t in wrap("Clôture : " + ", ".join(meeting["closed_by"]), width)]
    out += _footer(doc, width)
    return out


def statement(doc: dict[str, Any], width: int = 32, *, duplicate: bool = False) -> list[Block]:
    """The member's relevé: in each balance's section, what it was, the lines that moved it, what it is.

    The member adds each section up: savings carried + their lines = the savings printed below them, the
    same for the loans' capital. What moved neither (the caisse rouge, fines, PAF, an aid received) is
    listed apart, as paid or received: a single column of + and - mixing the three added up to nothing.
    """
    check_width(width)
    out = _header(doc, width, duplicate)
    member = doc["member"]
    out += [Line(t, bold=True) for t in wrap(f"Membre n° {member['number']} : {member['name']}", width)]
    if member.get("left_on"):  # a zero balance alone read as savings lost, not as savings handed back
        out += centered(f"A quitté le groupe le {date_fr(member['left_on'])}", width)
    out += centered(f"Situation au {date_fr(doc['as_of'])}", width)
    carried = doc.get("carried")  # only when older movements are left out
    moves = doc["movements"]
    if carried:
        out += centered(f"({len(moves)} derniers mouvements)", width)
    b = doc["balances"]
    # Documents queued before the sections have no "savings" or "loan": all their lines go to the others.
    saved = [(m, m.get("savings", 0)) for m in moves if m.get("savings")]
    lent = [(m, m.get("loan", 0)) for m in moves if m.get("loan")]
    # A movement that moved no balance is listed with the rest even at 0 F: a departure with nothing saved.
    rest = [(m, r) for m in moves if (r := _rest(m)) or not (m.get("savings") or m.get("loan"))]
    out.append(Rule())
    out += [Line("ÉPARGNE (caisse verte)", bold=True)]
    if carried:
        out += pair(f"Reporté du {_day(carried['date'])}", money(carried["savings"]), width, indent=1)
    out += _statement_lines(saved, width, signed=True)
    out += pair("Épargne", money(b["savings"]), width, bold=True)
    if lent or b["loan_outstanding"] or b.get("late") or b["next_due"] or (carried and carried["loan_outstanding"]):
        out.append(Rule())
        out += [Line("PRÊTS : CAPITAL", bold=True)]
        if carried and carried["loan_outstanding"]:
            out += pair(f"Reporté du {_day(carried['date'])}", money(carried["loan_outstanding"]), width, indent=1)
        out += _statement_lines(lent, width, signed=True)
        out += _loan_balances(b, width, indent=0, always=True)
        out += _next_due(b, width, indent=0)
    for title, flows in (("AUTRES VERSEMENTS", ("in",)), ("AUTRES SOMMES REÇUES", ("out", "taken", "saved"))):
        lines = [(m, amount) for m, amount in rest if m["flow"] in flows]
        if lines:
            out.append(Rule())
            out += [Line(title, bold=True)]
            out += _statement_lines(lines, width, rest=True)
    if not moves:
        out += [Rule(), Line("Aucun mouvement.")]
    out.append(Rule())
    out += pair("Aides reçues (total)", money(b["aid_received"]), width)
    out += _footer(doc, width)
    return out


def _statement_lines(
    lines: list[tuple[dict[str, Any], int]], width: int, *, signed: bool = False, rest: bool = False
) -> list[Line]:
    return [
        out
        for m, amount in lines
        for out in pair(_line_label(m, rest=rest), money(amount, signed=signed), width, indent=1)
    ]


def _rest(m: dict[str, Any]) -> int:
    """What of a movement moved neither the member's savings nor their loans' capital (a correction's is
    negative): the caisse rouge, a fine, a repayment's PAF and penalty."""
    size = abs(m["amount"]) - abs(m.get("savings", 0)) - abs(m.get("loan", 0))
    return -size if m["amount"] < 0 else size


def _day(iso: str) -> str:
    """12/01/26: the year, short, for a relevé that spans a new year."""
    d = date_fr(iso)
    return d[:6] + d[8:]


def _line_label(m: dict[str, Any], *, rest: bool = False) -> str:
    if rest and m["kind"] == "repayment":  # its capital is under the loans: what is left is PAF and penalty
        d = m["detail"]
        label = " et ".join(name for name, key in (("PAF", "paf"), ("pénalité", "penalty")) if d.get(key))
        return f"{_day(m['date'])} {label or 'Remboursement'} ({m['fund']})"
    label = _label(m)
    if not rest and m["fund"] == "verte":  # savings, and most loans, are the caisse verte's: said once, above
        label = label.replace(" (verte)", "", 1)
    return f"{_day(m['date'])} {label}"


def loan_schedule(doc: dict[str, Any], width: int = 32, *, duplicate: bool = False) -> list[Block]:
    """The échéancier: what falls due when, and what is already paid."""
    check_width(width)
    out = _header(doc, width, duplicate)
    member = doc["member"]
    loan = doc["loan"]
    out += [Line(t, bold=True) for t in wrap(f"Membre n° {member['number']} : {member['name']}", width)]
    out.append(Rule())
    # An aid lent is no loan to the member who took it in a hard time: its paper says what it is.
    what = "Aide remboursable du" if loan["kind"] == "aid" else "Prêt du"
    out += pair(f"{what} {date_fr(loan['start'])}", money(loan["principal"]), width)
    if loan["kind"] == "aid":
        out.append(Line("Sans PAF"))
    else:
        rate = _rate(loan["rate_bp"])
        out += pair(f"{METHOD[loan['method']]} {rate}", money(loan["paf_total"]), width)
        if loan["method"] == "declining":  # charged on what is left each month: less if repaid early
            out += [Line(" " + t) for t in wrap("si chaque échéance est payée à sa date", width - 1)]
    out += pair("Durée", _months(loan["term_months"]), width)
    out.append(Rule())
    num_w = 2
    repaid, planned = loan["principal_paid"], 0
    for inst in doc["installments"]:
        label = f"{inst['number']:>{num_w}}. {date_fr(inst['due'])}"
        out += pair(label, money(inst["principal"] + inst["paf"]), width)
        planned += inst["principal"]
        # Reprinted half-way, the plan alone read as all of it still due: an installment whose capital
        # is repaid says so (capital is repaid in the plan's order, kiosk.domain.loans).
        notes = [f"dont PAF {money(inst['paf'])}"] * bool(inst["paf"]) + ["payée"] * (planned <= repaid)
        if planned - inst["principal"] < repaid < planned:  # paid in part: what of its capital is still due
            notes.append(f"reste {money(planned - repaid)} de capital")
        if notes:
            out += [Line(" " * (num_w + 2) + t) for t in wrap(", ".join(notes), width - num_w - 2)]
    out.append(Rule())
    paid = loan["principal_paid"] + loan["paf_paid"] + loan["penalty_paid"]
    out += pair("Déjà payé", money(paid), width)
    if loan["penalty_paid"]:  # no installment holds it: 32 225 paid read as more than the plan's 31 800
        out += pair("dont pénalités de retard", money(loan["penalty_paid"]), width, indent=2)
    out += pair("Capital restant", money(loan["principal"] - loan["principal_paid"]), width, bold=True)
    out += _footer(doc, width)
    return out


LAYOUTS = {"member": member_receipt, "report": meeting_report, "statement": statement, "schedule": loan_schedule}


def _printable(value: Any, codepage: str) -> Any:
    if isinstance(value, str):
        return printable(value, codepage)
    if isinstance(value, dict):
        return {k: _printable(v, codepage) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v, codepage) for v in value]
    return value


def layout(doc: dict[str, Any], width: int = 32, *, duplicate: bool = False, codepage: str = "cp1252") -> list[Block]:
    """Lay a document out. Its text is first made printable, so that columns are
    counted on what the paper will show (Ŋ prints as two letters, Ng)."""
    return LAYOUTS[doc["type"]](_printable(doc, codepage), width, duplicate=duplicate)
