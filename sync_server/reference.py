"""Reference data the coordinators manage, pulled by kiosks with a version cursor.

Every change takes the next value of one global counter (Replicache's
"global version" strategy); deletions stay as tombstones so that a kiosk
that pulls later still hears of them. The counter row is locked by the
UPDATE until commit, so versions become visible in order and a pull can
never skip a change that commits late.

Two entities for now: ``rule_template`` (a règlement a new group can start
from, checked by the domain's own ``Rules``) and ``kiosk_group`` (a group the
coordinators assigned to a kiosk, with its id, so the kiosk creates it with
that id and the server can match it).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, or_, select, update

from kiosk.domain.errors import DomainError
from kiosk.domain.rules import Rules

from .accounts import is_country
from .db import counters, insert, reference
from .errors import Gone, NotFound, Unprocessable

ENTITIES = ("rule_template", "kiosk_group")


def _check(entity: str, value: dict[str, Any]) -> dict[str, Any]:
    if entity == "rule_template":
        try:
            return Rules.from_dict(value).to_dict()
        except DomainError as exc:
            problems = [{"code": p.code, "field": p.field, "params": dict(p.params)} for p in exc.problems]
            raise Unprocessable("rules_invalid", "the règlement is not valid", problems=problems) from None
    if entity == "kiosk_group":
        # A kiosk creates the group from this value as it is, in one tap: whatever is wrong must be said here.
        name = value.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            raise Unprocessable("group_name_invalid", "a group needs a name (200 characters at most)")
        for key in ("cooperative", "village", "template"):
            if key in value and (not isinstance(value[key], str) or len(value[key]) > 200):
                raise Unprocessable("group_value_invalid", f"{key}: text of 200 characters at most", field=key)
        if "country" not in value:  # the kiosk would file it under Togo's, out of its coordinators' sight
            raise Unprocessable("group_country_required", "a group needs its country (TG, BJ)", field="country")
        if not (isinstance(value["country"], str) and is_country(value["country"])):
            raise Unprocessable("group_value_invalid", "country: two capital letters (TG, BJ)", field="country")
        if "rules" in value:
            if "template" in value:
                raise Unprocessable("group_value_invalid", "rules or template, not both", field="rules")
            if not isinstance(value["rules"], dict):
                raise Unprocessable("rules_invalid", "the règlement is not valid", field="rules")
            value = value | {"rules": _check("rule_template", value["rules"])}
        return value
    raise NotFound("entity_unknown", f"unknown reference entity (known: {', '.join(ENTITIES)})")


def _live(conn: Connection, entity: str, key: str) -> bool:
    where = (reference.c.entity == entity) & (reference.c.key == key) & reference.c.deleted.is_(False)
    return conn.execute(select(reference.c.key).where(where).limit(1)).first() is not None


def _next_version(conn: Connection) -> int:
    conn.execute(update(counters).where(counters.c.name == "reference").values(value=counters.c.value + 1))
    return int(conn.scalar(select(counters.c.value).where(counters.c.name == "reference")))


def put(conn: Connection, entity: str, key: str, value: dict[str, Any], scope: str = "*") -> int:
    clean = _check(entity, value)
    if entity == "kiosk_group":
        if scope == "*":  # every kiosk would offer it, and each create its own group of that id
            raise Unprocessable("kiosk_group_needs_kiosk", "a group is assigned to one kiosk: give kiosk_id")
        if "template" in clean and not _live(conn, "rule_template", clean["template"]):
            raise Unprocessable("template_unknown", "no such rule_template", field="template")
    version = _next_version(conn)
    row = {
        "entity": entity,
        "key": key,
        "scope": scope,
        "value": json.dumps(clean, sort_keys=True, ensure_ascii=False),
        "version": version,
        "deleted": False,
    }
    stmt = insert(conn, reference)
    stmt = stmt.on_conflict_do_update(
        index_elements=["entity", "key", "scope"],
        set_={"value": stmt.excluded.value, "version": stmt.excluded.version, "deleted": stmt.excluded.deleted},
    )
    conn.execute(stmt, row)
    return version


def delete(conn: Connection, entity: str, key: str, scope: str = "*") -> int:
    if entity not in ENTITIES:
        raise NotFound("entity_unknown", f"unknown reference entity (known: {', '.join(ENTITIES)})")
    where = (reference.c.entity == entity) & (reference.c.key == key) & (reference.c.scope == scope)
    if conn.execute(select(reference.c.deleted).where(where)).scalar() in (None, True):
        raise NotFound("reference_unknown", "no such reference row")
    version = _next_version(conn)
    conn.execute(update(reference).where(where).values(value=None, version=version, deleted=True))
    return version


def _visible(kiosk_id: str) -> Any:
    return or_(reference.c.scope == "*", reference.c.scope == kiosk_id)


def version_for(conn: Connection, kiosk_id: str) -> int:
    return int(conn.scalar(select(func.coalesce(func.max(reference.c.version), 0)).where(_visible(kiosk_id))))


def pull(conn: Connection, kiosk_id: str, since: int, limit: int) -> tuple[list[dict[str, Any]], int, bool]:
    latest = int(conn.scalar(select(counters.c.value).where(counters.c.name == "reference")))
    if since > latest:
        # The kiosk knows a future we never had (the server was restored from a backup): start over.
        raise Gone("cursor_unknown", "this cursor is newer than the server's data: pull again from 0", latest=latest)
    rows = conn.execute(
        select(reference)
        .where(_visible(kiosk_id), reference.c.version > since)
        .order_by(reference.c.version)
        .limit(limit + 1)
    ).mappings()
    rows = list(rows)
    more = len(rows) > limit
    rows = rows[:limit]
    changes = [
        {
            "entity": r["entity"],
            "key": r["key"],
            "op": "del" if r["deleted"] else "put",
            "value": None if r["deleted"] else json.loads(r["value"]),
            "version": r["version"],
        }
        for r in rows
    ]
    cursor = rows[-1]["version"] if rows else (latest if not more else since)
    return changes, cursor, more


def listing(conn: Connection, entity: str | None = None) -> list[dict[str, Any]]:
    query = select(reference).order_by(reference.c.entity, reference.c.key)
    if entity:
        query = query.where(reference.c.entity == entity)
    return [
        {**dict(r), "value": json.loads(r["value"]) if r["value"] is not None else None}
        for r in conn.execute(query).mappings()
    ]
