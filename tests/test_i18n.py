import re
from pathlib import Path

from kiosk.domain.errors import Problem
from kiosk.i18n import EN, FR, message

ROOT = Path(__file__).resolve().parent.parent


def raised_codes() -> set[str]:
    codes: set[str] = set()
    pattern = re.compile(r'(?:DomainError|Problem)\(\s*"([a-z_]+)"')
    for path in (ROOT / "kiosk").rglob("*.py"):
        codes |= set(pattern.findall(path.read_text(encoding="utf-8")))
    return codes


def test_every_error_the_code_raises_speaks_french_and_english() -> None:
    codes = raised_codes()
    assert len(codes) > 80
    assert not codes - set(FR), sorted(codes - set(FR))
    assert not codes - set(EN), sorted(codes - set(EN))
    assert set(FR) == set(EN)


def test_messages_format_amounts_and_name_the_field() -> None:
    p = Problem("cash_insufficient", "amount", {"missing": 12500})
    assert message(p) == "amount : pas assez d'argent dans la caisse (il manque 12 500 FCFA)"
    assert message(p, "en", with_field=False) == "not enough cash in the box (12 500 FCFA missing)"
    assert message(Problem("pin_wrong", "pin", {})) == "pin : code incorrect : encore ? essai(s)"
