"""Members of a group, their roles, and who counts as an officer."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from .errors import DomainError


class Sex(StrEnum):
    F = "F"
    M = "M"


class Role(StrEnum):
    MEMBER = "membre"
    PRESIDENT = "president"
    SECRETARY = "secretaire"
    TREASURER = "tresorier"
    CONTROLLER = "controleur"


OFFICER_ROLES = frozenset({Role.PRESIDENT, Role.SECRETARY, Role.TREASURER, Role.CONTROLLER})

MAX_NAME = 80


def clean_name(value: object, field: str = "name") -> str:
    if not isinstance(value, str):
        raise DomainError("name_invalid", field)
    name = " ".join(value.split())
    if not name:
        raise DomainError("name_empty", field)
    if len(name) > MAX_NAME:
        raise DomainError("name_too_long", field, max=MAX_NAME)
    return name


def clean_phone(value: object, field: str = "phone") -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise DomainError("phone_invalid", field)
    digits = value.replace(" ", "")
    body = digits[1:] if digits.startswith("+") else digits
    if not (body.isascii() and body.isdigit()) or not 6 <= len(body) <= 15:
        raise DomainError("phone_invalid", field, value=value)
    return digits


def parse_role(value: object, field: str = "role") -> Role:
    try:
        return Role(str(value))
    except ValueError:
        raise DomainError("role_unknown", field, value=value) from None


def parse_sex(value: object, field: str = "sex") -> Sex:
    try:
        return Sex(str(value))
    except ValueError:
        raise DomainError("sex_unknown", field, value=value) from None


def office_needs_approval(group: Mapping[str, Any]) -> bool:
    """Whether making or unmaking an officer needs two officers' approval: once the group has met
    (before, while it is being set up, there may not be two officers to ask)."""
    return bool(group["meeting_count"])
