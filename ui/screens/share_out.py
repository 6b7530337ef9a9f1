"""The end of a cycle, for groups whose règlement has one (VSLA/AVEC style): the share-out (*partage*).

What the caisse verte earned since the last share-out (PAF, penalties, fines paid into it), or lost
(a shortfall, expenses above the earnings), goes to each member in proportion to their savings. Either
it is only credited to their savings, or the cycle ends and every member is paid their savings and
share in cash. Two officers approve; the figures come from the books under the writer's lock
(kiosk.services.movements.do_share_out), the plan shown here is what the PINs approve.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from kiosk.services import movements as V

from ..approval import ApprovalOverlay
from ..i18n import _, money
from ..widgets import Scroll, button, column, label, line_card, row


class ShareOutPanel(QWidget):
    def __init__(self, step: Any) -> None:
        super().__init__()
        self.step = step
        self.win, self.k, self.s = step.win, step.k, step.s
        self.summary = label("", name="share_summary")
        self.list = Scroll(columns=1)
        self.credit = button(_("Porter à l'épargne"), "share_credit", on=lambda: self._go(payout=False))
        self.payout = button(_("Partager et verser"), "share_payout", kind="primary", on=lambda: self._go(payout=True))
        self.setLayout(
            column(
                label(_("Partage de fin de cycle, approuvé par deux responsables."), kind="small"),
                self.summary,
                self.list,
                row(None, self.credit, self.payout),
            )
        )

    def refresh(self) -> None:
        plan = V.share_out_plan(self.k, self.step.group_id)
        result = plan["distributable"]
        if not any(plan["shares"].values()):  # at most the roundings of the last share-out: too little to divide
            text = _("Ni gain ni perte à partager depuis le dernier partage.")
        elif result > 0:
            text = _("Gains de la caisse verte à partager : {amount}, en proportion de l'épargne de chacun.",
                     amount=money(result))  # fmt: skip
        elif result < 0:
            text = _("Perte de la caisse verte : {amount}. Chacun la supporte en proportion de son épargne.",
                     amount=money(-result))  # fmt: skip
        if plan["left_over"]:
            text += "\n" + _("Les arrondis restent en caisse : {amount}.", amount=money(plan["left_over"]))
        self.summary.setText(text)
        self.list.clear()
        for member in self.s.members():
            saved, share = plan["savings"].get(member["member_id"], 0), plan["shares"].get(member["member_id"], 0)
            if not saved and not share:
                continue
            detail = _("épargne {saved} · part {share}\ntotal {total}", saved=money(saved),
                       share=money(share, signed=True), total=money(saved + share))  # fmt: skip
            self.list.add_row(
                line_card(
                    f"{member['number']}. {member['name']}",
                    label(detail, kind="small", wrap=False),
                    fund="verte",
                    name=f"share_{member['number']}",
                )
            )
        self.list.done()

    def _go(self, *, payout: bool) -> None:
        meeting_id = self.step.meeting_id
        ok, plan = self.win.attempt(V.check_share_out, self.k, meeting_id, payout=payout)
        if not ok:
            return  # said before two officers type their PINs for nothing
        shares = sum(plan["shares"].values())
        paid = sum(plan["savings"].values()) + shares
        if payout:
            title = _("Partage : verser l'épargne et les parts")
            lines = [_("Chaque membre reçoit toute son épargne et sa part, en espèces."),
                     _("La caisse verte verse {amount}.", amount=money(paid))]  # fmt: skip
        else:
            title = _("Partage : porter les parts à l'épargne")
            lines = [
                _("Gains portés à l'épargne : {amount}.", amount=money(shares))
                if shares >= 0
                else _("Perte retirée de l'épargne : {amount}.", amount=money(-shares)),
                _("Rien n'est versé en espèces."),
            ]

        def approved(approvals: list[Any]) -> None:
            ok, _plan = self.win.attempt(V.do_share_out, self.k, meeting_id, self.s.by, approvals, payout=payout)
            if ok:
                self.win.toast(_("Partage enregistré."))
                self.refresh()

        def confirmed() -> None:
            ApprovalOverlay(self.win, title, " · ".join(lines), approved).open()

        amount = paid if payout else None
        self.win.confirm(title, amount, lines, confirmed, fund="verte", ok_text=_("Faire approuver"))
