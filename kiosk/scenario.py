"""Scenario files: a group, its rules, members and meetings, applied through the services.

Trainers rehearse meetings with them; tests describe meetings with them; the
demo is one. The whole file is applied in one transaction: a bad file gets an
error naming the place (``meetings[2].operations[5].amount: …``) and changes
nothing. The format is documented in docs/scenario.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.domain.errors import DomainError
from kiosk.domain.funds import count_for
from kiosk.i18n import messages
from kiosk.services import Approval, Kiosk
from kiosk.services import groups as G
from kiosk.services import meetings as M
from kiosk.services import movements as V


class ScenarioError(Exception):
    def __init__(self, where: str, text: str) -> None:
        self.where, self.text = where, text
        super().__init__(f"{where}: {text}" if where else text)


def load(path: str | Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError("", f"fichier introuvable : {path}") from None
    except UnicodeDecodeError:
        raise ScenarioError("", f"fichier illisible (UTF-8 attendu) : {path}") from None
    except OSError as exc:  # a folder, a file we may not read
        raise ScenarioError("", f"fichier illisible : {path} ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"ligne {exc.lineno}, colonne {exc.colno}", f"JSON invalide : {exc.msg}") from None
    if not isinstance(data, dict):
        raise ScenarioError("", "le fichier doit contenir un objet JSON")
    return data


def _need(obj: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in obj:
        raise ScenarioError(f"{where}.{key}" if where else key, "champ obligatoire manquant")
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ScenarioError(f"{where}.{key}" if where else key, f"type invalide : {value!r}")
    return value


def _date(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ScenarioError(where, f"date invalide : {value!r} (attendu AAAA-MM-JJ)") from None


class Runner:
    """Applies one scenario; keeps member numbers, PINs and recorded movements to resolve references."""

    def __init__(self, k: Kiosk, lang: str = "fr") -> None:
        self.k, self.lang = k, lang
        self.group_id = ""
        self.pins: dict[int, str] = {}
        self.txns: dict[tuple[int, int], str] = {}
        self.last_txn: str | None = None

    # -- references -------------------------------------------------------------------

    def member(self, number: Any, where: str) -> dict[str, Any]:
        if isinstance(number, bool) or not isinstance(number, int):
            raise ScenarioError(where, f"numéro de membre attendu : {number!r}")
        try:
            return self.k.member_by_number(self.group_id, number)
        except DomainError:
            raise ScenarioError(where, f"membre n° {number} inconnu") from None

    def approvals(self, numbers: Any, where: str) -> list[Approval]:
        if not isinstance(numbers, list):
            raise ScenarioError(where, "liste de deux numéros de responsables attendue")
        out = []
        for i, n in enumerate(numbers):
            member = self.member(n, f"{where}[{i}]")
            if n not in self.pins:
                raise ScenarioError(f"{where}[{i}]", f"le membre n° {n} n'a pas de code (pin)")
            out.append(Approval(member["member_id"], self.pins[n]))
        return out

    def counts(self, spec: Any, where: str) -> dict[str, dict[str, int]]:
        """``"expected"`` (what the books say), a billetage per box, or ``{"adjust": {box: ±F}}``."""
        expected = M.expected_cash(self.k, self.group_id)
        if spec is None or spec == "expected":
            return {f: count_for(a) for f, a in expected.items()}
        if isinstance(spec, dict) and "adjust" in spec:
            adjust = spec["adjust"]
            if not isinstance(adjust, dict):
                raise ScenarioError(f"{where}.adjust", "objet attendu")
            return {f: count_for(a + int(adjust.get(f, 0))) for f, a in expected.items()}
        if isinstance(spec, dict):
            return spec
        raise ScenarioError(where, f"billetage invalide : {spec!r}")

    # -- the file --------------------------------------------------------------------

    def run(self, data: dict[str, Any]) -> str:
        with self.k.store.write():
            self._step("group", lambda: self._group(data))
            for i, m in enumerate(_need(data, "members", "", list)):
                self._step(f"members[{i}]", lambda m=m, i=i: self._add_member(m, f"members[{i}]"))
            for i, meeting in enumerate(data.get("meetings", [])):
                # Each part names its own place; a value of the wrong shape anywhere else is this meeting's.
                self._step(f"meetings[{i}]", lambda i=i, meeting=meeting: self._meeting(i, meeting, f"meetings[{i}]"))
        return self.group_id

    def _step(self, where: str, fn: Any) -> Any:
        try:
            return fn()
        except DomainError as exc:
            raise ScenarioError(where, "; ".join(messages(exc, self.lang))) from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ScenarioError(where, f"valeur invalide ({exc})") from None

    def _group(self, data: dict[str, Any]) -> None:
        group = _need(data, "group", "", dict)
        self.group_id = G.create_group(
            self.k,
            _need(group, "name", "group", str),
            country=group.get("country", "TG"),
            cooperative=group.get("cooperative", ""),
            village=group.get("village", ""),
            rules=data.get("rules") or {},
        )

    def _add_member(self, m: Any, where: str) -> None:
        if not isinstance(m, dict):
            raise ScenarioError(where, "objet attendu")
        role = m.get("role", "membre")
        pin = m.get("pin")
        joined = _date(m.get("joined", "2026-01-01"), f"{where}.joined")
        row = G.add_member(
            self.k,
            self.group_id,
            _need(m, "name", where, str),
            _need(m, "sex", where, str),
            joined=joined,
            phone=m.get("phone", ""),
            role=role,
            pin=pin,
        )
        if pin is not None:
            self.pins[row["number"]] = pin

    def _meeting(self, i: int, spec: Any, where: str) -> None:
        if not isinstance(spec, dict):
            raise ScenarioError(where, "objet attendu")
        day = _date(_need(spec, "date", where, str), f"{where}.date")
        officers = self.approvals(_need(spec, "officers", where, list), f"{where}.officers")
        recorder = self._recorder(spec, where)
        counts = self.counts(spec.get("open_count"), f"{where}.open_count")
        meeting = self._step(
            f"{where}.open_count", lambda: M.open_meeting(self.k, self.group_id, day, counts, officers)
        )
        self._attendance(meeting, spec.get("attendance", {}), f"{where}.attendance")
        contributions = spec.get("contributions", "standard")
        if contributions:
            exceptions = {}
            if isinstance(contributions, dict):
                for num, amounts in contributions.get("exceptions", {}).items():
                    exceptions[self.member(int(num), f"{where}.contributions.exceptions")["member_id"]] = amounts
            self._step(
                f"{where}.contributions",
                lambda: M.standard_contributions(self.k, meeting, recorder, exceptions=exceptions),
            )
        for j, op in enumerate(spec.get("operations", [])):
            place = f"{where}.operations[{j}]"
            if not isinstance(op, dict) or "op" not in op:
                raise ScenarioError(place, "objet avec un champ « op » attendu")
            txn = self._step(place, lambda op=op, place=place: self._operation(meeting, recorder, op, place, i))
            if isinstance(txn, str):
                self.txns[(i, j)] = txn
                self.last_txn = txn
        if spec.get("close", True):
            close_counts = self.counts(spec.get("close_count"), f"{where}.close_count")
            self._step(f"{where}.close_count", lambda: M.close_meeting(self.k, meeting, close_counts, officers))

    def _recorder(self, spec: dict[str, Any], where: str) -> str:
        if "treasurer" in spec:
            return str(self.member(spec["treasurer"], f"{where}.treasurer")["member_id"])
        for row in G.officers(self.k, self.group_id):
            if row["role"] == "tresorier":
                return str(row["member_id"])
        officers = G.officers(self.k, self.group_id)
        if not officers:
            raise ScenarioError(where, "le groupe n'a aucun responsable")
        return str(officers[0]["member_id"])

    def _attendance(self, meeting: str, spec: Any, where: str) -> None:
        if not isinstance(spec, dict):
            raise ScenarioError(where, "objet attendu")
        default = spec.get("default", "present")
        entries: dict[str, Any] = {m["member_id"]: default for m in G.members(self.k, self.group_id)}
        for status in ("present", "late", "absent", "excused"):
            for n in spec.get(status, []):
                entries[self.member(n, f"{where}.{status}")["member_id"]] = status
        for n, by in spec.get("represented", {}).items():
            entries[self.member(int(n), f"{where}.represented")["member_id"]] = ("represented", by)
        self._step(where, lambda: M.record_attendance(self.k, meeting, entries))

    def _operation(self, meeting: str, by: str, op: dict[str, Any], where: str, meeting_index: int) -> Any:
        kind = op["op"]
        k = self.k

        def member_id() -> str:
            return str(self.member(op.get("member"), f"{where}.member")["member_id"])

        def approvals() -> list[Approval]:
            return self.approvals(op.get("approvers", []), f"{where}.approvers")

        if kind == "contribution":
            return V.contribution(k, meeting, by, member_id(), op.get("fund", "verte"), op["amount"])
        if kind == "fine":
            return V.fine(k, meeting, by, member_id(), op["fine"], op.get("amount"))
        if kind == "suggested_fines":
            for fine in M.suggested_fines(k, meeting):
                V.fine(k, meeting, by, fine["member_id"], fine["fine"], fine["amount"])
            return None
        if kind == "entry_fee":
            return V.entry_fee(k, meeting, by, member_id())
        if kind == "loan":
            return V.grant_loan(
                k, meeting, by, member_id(), op["amount"], op["term_months"], approvals(), fund=op.get("fund", "verte")
            )
        if kind == "repayment":
            loans = V.active_loans(k, member_id())
            if not loans and op.get("amount") == "due":
                return None  # "due": whatever is due today, which may be nothing
            if not loans:
                raise ScenarioError(f"{where}.member", "ce membre n'a pas de prêt en cours")
            loan = loans[0]
            today = date.fromisoformat(k.meeting(meeting)["date"])
            due = V.loan_due(k, loan["loan_id"], today)
            amount = {"due": due.now, "payoff": due.payoff}.get(op["amount"], op["amount"])
            if amount == 0:
                return None
            V.repay(k, meeting, by, loan["loan_id"], amount)
            return k.store.get("loans", (loan["loan_id"],))["last_repayment"]  # type: ignore[index]
        if kind == "aid":
            return V.give_aid(k, meeting, by, member_id(), op["aid"], approvals())
        if kind == "withdrawal":
            return V.withdraw(k, meeting, by, member_id(), op["amount"], approvals())
        if kind == "exit":
            V.member_exit(k, meeting, by, member_id(), approvals())
            return None
        if kind == "expense":
            return V.expense(k, meeting, by, op["fund"], op["amount"], op.get("label", ""), approvals())
        if kind == "outside_in":
            return V.outside_in(k, meeting, by, op["lender"], op["amount"])
        if kind == "outside_out":
            return V.outside_out(k, meeting, by, op["lender"], op["principal"], op.get("interest", 0), approvals())
        if kind == "correction":
            target = op.get("target", "last")
            if target == "last":
                txn = self.last_txn
            else:
                key = (target.get("meeting", meeting_index), target["op"])
                txn = self.txns.get(key)
            if txn is None:
                raise ScenarioError(f"{where}.target", f"aucun mouvement à corriger : {target!r}")
            return V.reverse(k, meeting, by, txn, op.get("reason", ""), approvals())
        if kind == "rules":
            G.adopt_rules(k, meeting, op["changes"], approvals())
            return None
        if kind == "share_out":
            V.do_share_out(k, meeting, by, approvals(), payout=bool(op.get("payout", False)))
            return None
        if kind == "add_member":
            self._add_member({key: v for key, v in op.items() if key != "op"}, where)
            return None
        raise ScenarioError(f"{where}.op", f"opération inconnue : {kind!r}")


def run_file(k: Kiosk, path: str | Path, lang: str = "fr") -> str:
    return Runner(k, lang).run(load(path))
