"""Every word on the screen is translatable, and French and English are both complete."""

from __future__ import annotations

import ast
import string
from pathlib import Path

from kiosk.domain.errors import DomainError
from ui import i18n
from ui.i18n_en import EN

UI = Path(__file__).resolve().parent.parent / "ui"

# Calls that put text on the screen, and which of their positional arguments are that text.
SINKS: dict[str, tuple[int, ...]] = {
    "button": (0,),
    "label": (0,),
    "rich_tile": (0, 1),
    "line_card": (0,),
    "setText": (0,),
    "setWindowTitle": (0,),
    "setPlaceholderText": (0,),
    "setToolTip": (0,),
    "toast": (0,),
    "message": (0,),
    "confirm": (0, 2),
    "QLabel": (0,),
    "QPushButton": (0,),
    "FundTag": (1,),
    "Field": (1,),
    "ConfirmOverlay": (1, 3),
    "MessageOverlay": (1,),
    "NumberOverlay": (1,),
    "TextOverlay": (1,),
    "ChoiceOverlay": (1,),
    "MemberPicker": (1,),
    "ApprovalOverlay": (1, 2),
    "NewPinOverlay": (1,),
}
TEXT_KEYWORDS = {"text", "title", "hint", "note", "summary", "subtitle", "ok_text", "chips", "options"}
# Words that are the same in every language (and names of languages, shown in their own language).
NEUTRAL = {"USB", "58 mm", "80 mm · 42", "80 mm · 48", "Français", "English", "C", "123", "àé", "MUSO"}


def sources() -> list[tuple[Path, ast.AST]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(UI.rglob("*.py"))]


def catalogue_keys() -> dict[str, str]:
    keys: dict[str, str] = {}
    for path, tree in sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_":
                first = node.args[0] if node.args else None
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"{path.name}:{node.lineno}: _() needs a literal text, or the catalogue cannot be checked"
                )
                keys.setdefault(first.value, f"{path.name}:{node.lineno}")
    return keys


def fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_every_text_of_the_app_has_its_english() -> None:
    keys = catalogue_keys()
    assert len(keys) > 300
    missing = sorted(k for k in keys if k not in EN)
    assert not missing, f"no English for: {missing}"
    leftover = sorted(k for k in EN if k not in keys)
    assert not leftover, f"English for texts the app no longer shows: {leftover}"
    for key, where in keys.items():
        assert fields(EN[key]) == fields(key), f"{where}: placeholders differ in the English of {key!r}"
        assert EN[key].strip() or key.strip() == "", f"{where}: empty English for {key!r}"


def _texts(node: ast.AST) -> list[str]:
    """Literal words in an argument: a string, an f-string's fixed parts, or a list/tuple of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    if isinstance(node, (ast.List, ast.Tuple)):
        # options=[(value, text), …]: the value is a key, the text is shown
        out: list[str] = []
        for item in node.elts:
            if isinstance(item, ast.Tuple) and len(item.elts) == 2:
                out += _texts(item.elts[1])
            else:
                out += _texts(item)
        return out
    if isinstance(node, ast.BinOp):
        return _texts(node.left) + _texts(node.right)
    return []


def hard_coded(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in SINKS:
            continue
        args = [node.args[i] for i in SINKS[name] if i < len(node.args)]
        args += [kw.value for kw in node.keywords if kw.arg in TEXT_KEYWORDS]
        for arg in args:
            for text in _texts(arg):
                if any(ch.isalpha() for ch in text) and text.strip() not in NEUTRAL:
                    found.append((node.lineno, text))
    return found


def test_no_text_on_screen_escapes_translation() -> None:
    problems = [f"{path.relative_to(UI.parent)}:{line}: {text!r}" for path, tree in sources()
                for line, text in hard_coded(tree)]  # fmt: skip
    assert not problems, "text shown without _():\n" + "\n".join(problems)


def test_the_checker_sees_a_hard_coded_label() -> None:
    tree = ast.parse('label("Bonjour")\nbutton(_("Oui"), "yes")\nb.setText(f"{n} membres")\nlabel(f"{n}. {name}")')
    assert [t for _line, t in hard_coded(tree)] == ["Bonjour", " membres"]


def test_the_language_switches_everything_at_once() -> None:
    try:
        i18n.set_language("en")
        assert i18n._("Présences") == "Attendance"
        assert i18n._("{n} à imprimer", n=3) == "3 to print"
        assert i18n.long_date(__import__("datetime").date(2026, 3, 16)) == "Monday 16 March 2026"
        assert i18n.error_text(DomainError("pin_wrong", "pin", left=2)) == "Wrong PIN: 2 attempts left"
        assert i18n.error_text(DomainError("pin_wrong", "pin", left=1)) == "Wrong PIN: 1 attempt left"
        assert i18n.money(12500) == "12\u00a0500\u00a0FCFA"  # money reads the same in both
    finally:
        i18n.set_language("fr")
    assert i18n._("Présences") == "Présences"
    assert i18n.error_text(DomainError("pin_wrong", "pin", left=2)) == "Code incorrect : encore 2 essais"
    assert i18n.error_text(DomainError("pin_wrong", "pin", left=1)) == "Code incorrect : encore 1 essai"


def test_french_elides_de_before_a_name_that_begins_with_a_vowel() -> None:
    assert i18n._("Code de {name}", name="Afi Mensah") == "Code d'Afi Mensah"
    assert i18n._("Code de {name}", name="Ɛdɔ Kpodo") == "Code d'Ɛdɔ Kpodo"
    assert i18n._("Code de {name}", name="Kossi Agbéko") == "Code de Kossi Agbéko"
    assert i18n._("Remboursement de {name}", name="Ama") == "Remboursement d'Ama"
    assert i18n._("Code de {name}", name="Yawa Kpogo") == "Code de Yawa Kpogo"  # French keeps "de" before Y
    assert i18n._("Aide {aid}", aid="accident") == "Aide accident"  # only the word "de"
    try:
        i18n.set_language("en")
        assert i18n._("Code de {name}", name="Afi Mensah") == "PIN of Afi Mensah"
    finally:
        i18n.set_language("fr")


def test_plurals_agree_with_their_count_and_counts_are_grouped_by_thousands() -> None:
    """ "1 prêt(s) en cours" made a reader with little schooling stumble; "2701 événements" too."""
    nbsp = "\u00a0"
    try:
        i18n.set_language("fr")
        assert i18n._("{n} prêt(s) en cours · à rembourser aujourd'hui : {total}", n=1, total="0 F").startswith(
            "1 prêt en cours"
        )
        assert i18n._("{n} changement(s) à enregistrer", n=0) == "0 changement à enregistrer"  # French: 0 is one
        assert i18n._("{done} reçu(s) imprimé(s) sur {total}", done=2, total=30) == "2 reçus imprimés sur 30"
        assert i18n._("{done} reçu(s) imprimé(s) sur {total}", done=1, total=30) == "1 reçu imprimé sur 30"
        key = "Serveur : {server}\nDernière synchronisation : {when}\nÀ envoyer : {n} événement(s), {m} séance(s)"
        text = i18n._(key, server="https://muso.example", when="29/11/2026", n=2701, m=1)
        assert text.endswith(f"2{nbsp}701 événements, 1 séance")
        assert i18n.agree("reçu(s)") == "reçu(s)"  # no count to agree with: left as it is
        i18n.set_language("en")
        assert i18n._("{n} changement(s) à enregistrer", n=0) == "0 changes to record"  # English: 0 is many
        assert i18n._("{done} reçu(s) imprimé(s) sur {total}", done=1, total=3) == "1 of 3 receipts printed"
    finally:
        i18n.set_language("fr")


def test_words_said_of_a_member_agree_with_her_or_him() -> None:
    assert (i18n.attendance_name("present", "F"), i18n.attendance_name("present", "M")) == ("Présente", "Présent")
    assert i18n.attendance_name("excused") == "Excusé"  # the status itself, in a list of choices
    assert (i18n.role_name("tresorier", "F"), i18n.role_name("controleur", "M")) == ("Trésorière", "Contrôleur")
    assert i18n.role_name("president") == "Président·e"  # the office itself
