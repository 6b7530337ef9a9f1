"""One exception family for the domain.

Errors carry a stable ``code`` and ``params`` rather than a sentence: the
domain holds no French or English text, the edges translate (kiosk.i18n).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, pointing at the field it is about."""

    code: str
    field: str = ""
    params: Mapping[str, Any] = dc_field(default_factory=dict)

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        args = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{where}{self.code}" + (f" ({args})" if args else "")


class DomainError(Exception):
    """Raised when an operation breaks a rule; nothing has been changed."""

    def __init__(self, code: str, field: str = "", **params: Any) -> None:
        self.problems: tuple[Problem, ...] = (Problem(code, field, params),)
        super().__init__(str(self.problems[0]))

    @classmethod
    def of(cls, problems: list[Problem]) -> DomainError:
        err = cls(problems[0].code, problems[0].field, **dict(problems[0].params))
        err.problems = tuple(problems)
        err.args = ("; ".join(str(p) for p in problems),)
        return err

    @property
    def code(self) -> str:
        return self.problems[0].code

    @property
    def field(self) -> str:
        return self.problems[0].field

    @property
    def params(self) -> Mapping[str, Any]:
        return self.problems[0].params
