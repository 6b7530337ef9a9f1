"""Every word the app shows, in French first and English second.

``_("Présences")`` returns the text in the kiosk's language. The French text is
the key, so the code reads as what the treasurer sees; the English catalogue
(ui/i18n_en.py) must hold every key, which tests/test_ui_i18n.py checks by
scanning ui/ for ``_("…")`` literals. Domain errors carry codes and are
turned into sentences by kiosk.i18n; labels for the domain's words (boxes,
kinds of movement, roles…) live here so that both languages stay in one place.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from kiosk.domain.errors import DomainError, Problem
from kiosk.domain.money import group_thousands
from kiosk.i18n import messages

from .i18n_en import EN

LANGUAGES = ("fr", "en")
NBSP = "\u00a0"
_lang = "fr"


def set_language(lang: str) -> None:
    global _lang
    _lang = lang if lang in LANGUAGES else "fr"


def language() -> str:
    return _lang


# Not Y: French keeps "de Yawa", as before a consonant.
_VOWEL = re.compile(r"[AEIOUÀÂÄÉÈÊËÎÏÔÖÙÛÜŒÆƐƆ]", re.IGNORECASE)


def _(text: str, /, **params: Any) -> str:
    """The text in the current language, with ``{name}`` placeholders filled: counts grouped by
    thousands ("2 701 événements"), and "(s)" made to agree with the count before it."""
    out = EN.get(text, text) if _lang == "en" else text
    if not params:
        return out
    if _lang == "fr":
        # French elides "de" before a vowel: "Code d'Afi Mensah", not "Code de Afi Mensah".
        for key, value in params.items():
            if isinstance(value, str) and _VOWEL.match(value):
                # The word "de", not the end of another ("Aide {aid}" stays "Aide accident").
                out = re.sub(rf"(?<!\w)de \{{{key}\}}", f"d'{{{key}}}", out)
    shown = {k: _count(v) if type(v) is int else v for k, v in params.items()}
    return agree(out.format(**shown))


def _count(n: int) -> str:
    return group_thousands(n).replace(" ", NBSP) if abs(n) >= 1000 else str(n)


_COUNT = re.compile(r"\d{1,3}(?:[ \u00a0]\d{3})+|\d+")
_PLURAL_MARK = re.compile(r"\(s\)")


def agree(text: str) -> str:
    """Each "(s)" agrees with the last count before it: "1 reçu imprimé sur 3", "2 reçus imprimés".
    A reader with little schooling stumbled on "1 prêt(s) en cours". French keeps 0 and 1 singular,
    English only 1; an "(s)" with no count before it stays as it is."""
    out, last = [], 0
    for mark in _PLURAL_MARK.finditer(text):
        counts = _COUNT.findall(text, 0, mark.start())
        if counts:
            n = int(re.sub(r"\D", "", counts[-1]))
            plural = n > 1 if _lang == "fr" else n != 1
            out += [text[last : mark.start()], "s" if plural else ""]
        else:
            out += [text[last : mark.end()]]
        last = mark.end()
    return "".join(out) + text[last:]


def error_text(exc: DomainError | list[Problem]) -> str:
    """A domain refusal as sentences for people (no field names, no codes)."""
    lines = messages(exc, _lang, with_field=False)
    return "\n".join(agree(unbreakable_amounts(line[:1].upper() + line[1:])) for line in lines)


_AMOUNT_SPACE = re.compile(r"(?<=\d) (?=\d{3}\b|FCFA\b)")


def unbreakable_amounts(text: str) -> str:
    """``100 000 FCFA`` from kiosk.i18n keeps its plain spaces for paper; on screen it must not wrap."""
    return _AMOUNT_SPACE.sub(NBSP, text)


# -- money and dates ---------------------------------------------------------------------------


def money(amount: int, *, signed: bool = False) -> str:
    """``12 500 FCFA`` with non-breaking spaces, so a label never wraps inside an amount."""
    sign = "+" if signed and amount > 0 else ""
    return f"{sign}{group_thousands(amount)} FCFA".replace(" ", NBSP)


def francs(amount: int) -> str:
    """A short amount for buttons: ``1 000 F``."""
    return f"{group_thousands(amount)} F".replace(" ", NBSP)


def day_name(d: date) -> str:
    names = (_("lundi"), _("mardi"), _("mercredi"), _("jeudi"), _("vendredi"), _("samedi"), _("dimanche"))
    return names[d.weekday()]


def month_name(month: int) -> str:
    names = (
        _("janvier"),
        _("février"),
        _("mars"),
        _("avril"),
        _("mai"),
        _("juin"),
        _("juillet"),
        _("août"),
        _("septembre"),
        _("octobre"),
        _("novembre"),
        _("décembre"),
    )
    return names[month - 1]


def long_date(d: date) -> str:
    return f"{day_name(d)} {d.day} {month_name(d.month)} {d.year}"


def short_date(value: date | str | None) -> str:
    if value is None:
        return "—"
    d = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def clock_time(ms: int) -> str:
    """The kiosk's local time of day: ``14 h 05``."""
    t = datetime.fromtimestamp(ms / 1000)
    return _("{h} h {m}", h=str(t.hour), m=f"{t.minute:02d}").replace(" ", NBSP)


# -- the domain's words ----------------------------------------------------------------------


def fund_name(fund: str) -> str:
    return {"verte": _("Caisse verte"), "rouge": _("Caisse rouge"), "bleue": _("Caisse bleue")}.get(fund, fund)


def fund_short(fund: str) -> str:
    return {"verte": _("verte"), "rouge": _("rouge"), "bleue": _("bleue")}.get(fund, fund)


def kind_name(kind: str) -> str:
    return {
        "contribution": _("Cotisation"),
        "entry_fee": _("Droit d'adhésion"),
        "fine": _("Amende"),
        "loan": _("Prêt"),
        "repayment": _("Remboursement"),
        "aid": _("Aide"),
        "withdrawal": _("Retrait d'épargne"),
        "exit": _("Départ"),
        "share_out": _("Partage"),
        "expense": _("Dépense"),
        "outside_in": _("Fonds extérieurs reçus"),
        "outside_out": _("Remboursement extérieur"),
        "reversal": _("Annulation"),
        "discrepancy": _("Écart de caisse"),
    }.get(kind, kind)


def attendance_name(status: str, sex: str = "") -> str:
    """``sex``: the member's, when the word is said of one ("Présente"); none for the status itself."""
    if sex == "F":
        return {
            "present": _("Présente"),
            "late": _("En retard"),
            "absent": _("Absente"),
            "excused": _("Excusée"),
            "represented": _("Représentée"),
        }.get(status, status)
    return {
        "present": _("Présent"),
        "late": _("En retard"),
        "absent": _("Absent"),
        "excused": _("Excusé"),
        "represented": _("Représenté"),
    }.get(status, status)


def role_name(role: str, sex: str = "") -> str:
    """``sex``: the officer's, when the word is said of one ("Trésorière"); none for the office itself."""
    if sex in ("F", "M"):
        woman = sex == "F"
        return {
            "membre": _("Membre"),
            "president": _("Présidente") if woman else _("Président"),
            "secretaire": _("Secrétaire"),
            "tresorier": _("Trésorière") if woman else _("Trésorier"),
            "controleur": _("Contrôleuse") if woman else _("Contrôleur"),
        }.get(role, role)
    return {
        "membre": _("Membre"),
        "president": _("Président·e"),
        "secretaire": _("Secrétaire"),
        "tresorier": _("Trésorier·e"),
        "controleur": _("Contrôleur·euse"),
    }.get(role, role)


def aid_name(aid: str) -> str:
    return {
        "deces": _("Décès"),
        "maladie": _("Maladie"),
        "naissance": _("Naissance"),
        "mariage": _("Mariage"),
        "sinistre": _("Sinistre"),
    }.get(aid, aid)


def fine_name(fine: str) -> str:
    return {"absence": _("Absence"), "retard": _("Retard"), "indiscipline": _("Indiscipline")}.get(fine, fine)


def step_name(step: str) -> str:
    return {
        "open": _("Ouverture"),
        "attendance": _("Présences"),
        "contributions": _("Cotisations"),
        "repayments": _("Rembours."),
        "loans": _("Prêts"),
        "aid": _("Aides"),
        "other": _("Autres"),
        "close": _("Clôture"),
        "receipts": _("Reçus"),
    }.get(step, step)


def printer_state_name(state: str) -> str:
    return {
        "ready": _("prête"),
        "printing": _("en train d'imprimer"),
        "paper_out": _("plus de papier"),
        "offline": _("hors ligne"),
        "error": _("en erreur"),
    }.get(state, state)


def job_status_name(status: str, *, to_file: bool = False) -> str:
    """A print job's state; ``to_file``: the printer is a file, and "imprimé" would promise paper."""
    done = _("dans le fichier") if to_file else _("imprimé")
    return {"pending": _("en attente"), "printing": _("en cours"), "printed": done}.get(status, status)
