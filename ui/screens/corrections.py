"""Corrections: nothing is erased. Pick the wrong movement, say why, two officers approve, and a
reversal that points at it is recorded; both stay visible here, on receipts and in every report."""

from __future__ import annotations

import json
from typing import Any

from kiosk.domain.ledger import NOT_REVERSIBLE
from kiosk.services import movements as V

from .. import theme
from ..approval import ApprovalOverlay
from ..i18n import _, kind_name, money, short_date
from ..overlays import MemberPicker, TextOverlay
from ..widgets import Scroll, button, card, column, label, row, set_status, show_fund
from .base import Screen

RECENT = 60  # the movements a treasurer may need to correct are the latest meeting's, all of them, and these
RECENT_MEETINGS = 4


def reasons() -> list[str]:
    return [_("Saisi deux fois"), _("Mauvais montant"), _("Mauvais membre"), _("Mauvaise caisse")]


class CorrectionsScreen(Screen):
    def __init__(self, win: Any) -> None:
        super().__init__(win)
        m = theme.current
        self.note = label("", kind="small", name="corr_note")
        # A whole meeting's movements are sixty and more: one member's are found in two taps.
        self.member: dict[str, Any] | None = None
        self.who = button("", "corr_member", on=self._pick_member)
        self.everyone = button(_("Tous"), "corr_everyone", on=lambda: self._filter(None))
        top = row(self.note, self.who, self.everyone, spacing=m.px(8))
        top.setStretch(0, 1)
        self.lay.addLayout(top)
        self.list = Scroll(columns=1)
        side = card()
        self.selected: dict[str, Any] | None = None
        self.reason = ""
        self.chosen = label(_("Touchez le mouvement à corriger."), name="corr_selected")
        self.reason_btn = button(_("Raison : toucher pour saisir"), "corr_reason", kind="tile", on=self._reason)
        # The one tap records a member's green and red contributions apart: one who paid nothing has both
        # undone under one approval, not two rounds of PINs.
        self.also: dict[str, Any] | None = None
        self.also_btn = button("", "corr_also", kind="tile", checkable=True, on=self._refresh)
        self.go = button(_("Corriger"), "corr_go", kind="danger", on=self._go)
        inner = column(label(_("Correction"), kind="title"), self.chosen, self.reason_btn, self.also_btn, None, self.go)
        inner.setContentsMargins(m.px(10), m.px(8), m.px(10), m.px(8))
        side.setLayout(inner)
        body = row(self.list, side, spacing=m.px(10))
        body.setStretch(0, 3)
        body.setStretch(1, 2)
        self.lay.addLayout(body, 1)

    def title(self) -> str:
        return _("Corrections")

    def enter(self, **kwargs: Any) -> None:
        self.selected, self.reason, self.member, self.also = None, "", None, None
        meeting_id = self.s.meeting_id()
        self.note.setText(
            _("Une correction s'inscrit à la séance ouverte ; le mouvement d'origine reste visible.")
            if meeting_id
            else _("Ouvrez une séance pour corriger un mouvement.")
        )
        self._fill()
        self._refresh()

    def _pick_member(self) -> None:
        MemberPicker(self.win, _("Mouvements de quel membre ?"), self.s.members(), self._filter).open()

    def _filter(self, member: dict[str, Any] | None) -> None:
        self.member, self.selected, self.also = member, None, None
        self._fill()
        self._refresh()

    def _fill(self) -> None:
        member = self.member
        self.who.setText(
            _("Membre : {n}. {name}", n=member["number"], name=member["name"]) if member else _("Membre : tous")
        )
        self.everyone.setVisible(member is not None)
        self.list.clear()
        # Every movement of the latest meeting (a 30-member one-tap alone makes 60), and the last
        # RECENT before it.
        latest = self.k.store.query(
            "SELECT COUNT(*) AS n FROM p_transactions WHERE meeting_id = "
            "(SELECT meeting_id FROM p_meetings WHERE group_id = ? ORDER BY number DESC LIMIT 1)",
            (self.s.group_id,),
        )[0]["n"]
        rows = self.k.store.query(
            "SELECT t.txn_id, t.kind, t.fund, t.amount, t.reverses, t.reversed_by, t.reason, t.member_id, "
            "t.detail, t.seq, t.meeting_id, m.number, m.name, mt.date, mt.number AS meeting_number "
            "FROM p_transactions t "
            "LEFT JOIN p_members m USING (member_id) JOIN p_meetings mt USING (meeting_id) "
            # The group's last meetings by index: years of history must not make this screen slow.
            "WHERE t.meeting_id IN (SELECT meeting_id FROM p_meetings WHERE group_id = ? ORDER BY number DESC LIMIT ?) "
            + ("AND t.member_id = ? " if member else "")
            # One tap records a whole meeting's contributions in one event: by member number within it.
            + "ORDER BY t.seq DESC, m.number, t.fund DESC LIMIT ?",
            (self.s.group_id, RECENT_MEETINGS, *([member["member_id"]] if member else []), RECENT + latest),
        )
        for r in rows:
            who = f" · {r['number']}. {r['name']}" if r["name"] else ""
            when = f"{short_date(r['date'])} · " + _("séance {n}", n=r["meeting_number"])
            text = f"{kind_name(r['kind'])}{who}\n{money(r['amount'])} · {when}"
            status = ""
            if r["kind"] == "reversal":
                reason = r["reason"] if len(r["reason"]) <= 28 else r["reason"][:27] + "…"
                text = (
                    _("ANNULATION de : {kind}", kind=kind_name(self._detail_kind(r)))
                    + f"{who}\n{money(r['amount'])} · "
                    + _("motif : {reason}", reason=reason)
                )
                status = "exception"
            elif r["reversed_by"]:
                text += " · " + _("annulé")
                status = "reversed"
            # One plain button a row (icon and two lines of text): a list of sixty must build fast.
            b = button(text, f"txn_{r['txn_id'][:8]}", kind="tile", fund=r["fund"], on=lambda r=r: self._pick(r))
            b.setEnabled(self._reversible(r))
            set_status(b, status)
            self.list.add_row(b)
        if not rows:
            self.list.add_row(label(_("Aucun mouvement."), kind="muted"))
        self.list.done()

    @staticmethod
    def _detail_kind(r: dict[str, Any]) -> str:
        detail = json.loads(r["detail"]) if isinstance(r["detail"], str) else (r["detail"] or {})
        return str(detail.get("kind", ""))

    def _reversible(self, r: dict[str, Any]) -> bool:
        return r["kind"] not in NOT_REVERSIBLE and not r["reversed_by"] and self.s.meeting_id() is not None

    def _pick(self, r: dict[str, Any]) -> None:
        self.selected, self.also = r, self._companion(r)
        self.also_btn.setChecked(False)  # never reversed unasked: the treasurer says it is both
        self._refresh()

    def _companion(self, r: dict[str, Any]) -> dict[str, Any] | None:
        """The member's contribution to the other fund at the same meeting, still standing (the nearest, as
        the one tap records the two together)."""
        if r["kind"] != "contribution":
            return None
        found = self.k.store.query(
            "SELECT txn_id, kind, fund, amount FROM p_transactions WHERE meeting_id = ? AND member_id = ? "
            "AND kind = 'contribution' AND fund != ? AND reversed_by IS NULL ORDER BY abs(seq - ?) LIMIT 1",
            (r["meeting_id"], r["member_id"], r["fund"], r["seq"]),
        )
        return found[0] if found else None

    def _targets(self) -> list[dict[str, Any]]:
        """What the correction will reverse: the movement chosen, and its companion if the treasurer said so."""
        if self.selected is None:
            return []
        also = self.also if self.also is not None and self.also_btn.isChecked() else None
        return [self.selected, *([also] if also else [])]

    def _reason(self) -> None:
        def done(text: str) -> None:
            self.reason = text
            self._refresh()

        TextOverlay(
            self.win, _("Raison de la correction"), done, initial=self.reason, chips=reasons(), auto_caps=False
        ).open()

    def _refresh(self) -> None:
        r = self.selected
        if r is None:
            self.chosen.setText(_("Touchez le mouvement à corriger."))
        else:
            who = f"{r['number']}. {r['name']}" if r["name"] else ""
            self.chosen.setText(
                f"{kind_name(r['kind'])} · {money(r['amount'])}\n{who}\n"
                + _("séance {n} du {date}", n=r["meeting_number"], date=short_date(r["date"]))
            )
        self.reason_btn.setText(
            _("Raison : {reason}", reason=self.reason) if self.reason else _("Raison : toucher pour saisir")
        )
        also = self.also
        self.also_btn.setVisible(also is not None)
        if also is not None:
            self.also_btn.setText(
                _("Annuler aussi :\n{kind} · {amount}", kind=kind_name(also["kind"]), amount=money(also["amount"]))
            )
            show_fund(self.also_btn, also["fund"])
        self.go.setEnabled(r is not None and len(self.reason) >= 3 and self.s.meeting_id() is not None)

    def _go(self) -> None:
        r = self.selected
        meeting_id = self.s.meeting_id()
        if r is None or meeting_id is None:
            return
        reason = self.reason
        targets = self._targets()
        ids = [t["txn_id"] for t in targets]

        def approved(approvals: list[Any]) -> None:
            ok, _txns = self.win.attempt(V.reverse_together, self.k, meeting_id, self.s.by, ids, reason, approvals)
            if ok:
                self.win.toast(
                    _("Correction enregistrée : le mouvement est annulé.")
                    if len(ids) == 1
                    else _("Correction enregistrée : les {n} mouvements sont annulés.", n=len(ids))
                )
                self.enter()

        lines = [
            _("Annuler : {kind} de {amount}", kind=kind_name(t["kind"]), amount=money(t["amount"])) for t in targets
        ]

        def confirmed() -> None:
            ApprovalOverlay(
                self.win,
                _("Approuver la correction"),
                " + ".join(lines) + f" — {reason}",
                approved,
                beneficiary=r["member_id"],
            ).open()

        self.win.confirm(
            _("Correction"),
            -sum(t["amount"] for t in targets),
            [*lines, _("motif : {reason}", reason=reason)],
            confirmed,
            fund=r["fund"] if len({t["fund"] for t in targets}) == 1 else "",
            ok_text=_("Faire approuver"),
            danger=True,
        )
