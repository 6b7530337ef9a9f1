"""The dependency direction of DESIGN §3, checked on the source: the domain stays pure."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# package -> first-party packages it may import
ALLOWED = {
    "kiosk.domain": {"kiosk.domain"},
    "kiosk": {"kiosk"},
    "printer": {"printer", "kiosk.domain"},
    "sync_server": {"sync_server", "kiosk.domain"},
    "ui": {"ui", "kiosk", "kiosk.domain", "printer"},
}
FIRST_PARTY = {"kiosk", "ui", "printer", "sync_server"}


def _imports(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                out.append(".".join([*base, node.module] if node.module else base))
            elif node.module:
                out.append(node.module)
    return out


def _owner(module: str) -> str:
    return "kiosk.domain" if module.startswith("kiosk.domain") else module.split(".")[0]


def domain_violations(root: Path) -> list[str]:
    bad = []
    for path in sorted((root / "kiosk" / "domain").rglob("*.py")):
        for name in _imports(path, root):
            top = name.split(".")[0]
            if name.startswith("kiosk.domain") or top == "__future__":
                continue
            if top not in sys.stdlib_module_names:
                bad.append(f"{path.relative_to(root)} imports {name}")
            if top in {"sqlite3", "socket", "http", "urllib", "tkinter", "subprocess"}:
                bad.append(f"{path.relative_to(root)} does I/O through {name}")
    return bad


def test_domain_imports_only_the_standard_library() -> None:
    bad = domain_violations(ROOT)
    assert not bad, "\n".join(bad)


def test_packages_import_only_in_the_allowed_direction() -> None:
    bad = []
    for package in FIRST_PARTY:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            owner = _owner(module)
            for name in _imports(path):
                if name.split(".")[0] not in FIRST_PARTY:
                    continue
                target = _owner(name)
                allowed = ALLOWED[owner]
                if target not in allowed and not (owner == "kiosk" and target == "kiosk.domain"):
                    bad.append(f"{module} imports {name}")
    assert not bad, "\n".join(bad)


def test_the_checker_sees_forbidden_imports(tmp_path: Path) -> None:
    """The guard above must be able to fail."""
    domain = tmp_path / "kiosk" / "domain"
    domain.mkdir(parents=True)
    (domain / "bad.py").write_text("import sqlite3\nfrom PySide6 import QtCore\nfrom . import money\n")
    bad = domain_violations(tmp_path)
    assert any("sqlite3" in b for b in bad)
    assert any("PySide6" in b for b in bad)
    assert not any("money" in b for b in bad)
