"""A group's menu once an officer is logged in: its boxes, and the way to the meeting and the rest."""

from __future__ import annotations

from typing import Any

from kiosk.domain.funds import Fund
from kiosk.services import meetings as M

from .. import theme
from ..i18n import _, fund_name, money, step_name
from ..widgets import button, card, column, fund_icon_label, label, row
from .base import Screen


class GroupScreen(Screen):
    def __init__(self, win: Any) -> None:
        super().__init__(win)
        self.heading = label("", kind="title", name="group_title")
        self.lay.addWidget(self.heading)
        funds = row()
        self.cash: dict[str, Any] = {}
        m = theme.current
        for fund in Fund:
            box = card()
            amount = label("", kind="title", name=f"group_cash_{fund.value}", wrap=False)
            inner = row(
                fund_icon_label(fund.value, m.px(40)), column(label(fund_name(fund.value), kind="small"), amount)
            )
            inner.setContentsMargins(m.px(10), m.px(6), m.px(10), m.px(6))
            box.setLayout(inner)
            funds.addWidget(box)
            self.cash[fund.value] = amount
        self.lay.addLayout(funds)
        self.meeting = button("", "menu_meeting", kind="primary", on=lambda: win.show_screen("meeting"), expand=True)
        self.meeting.setMinimumHeight(m.px(84))
        self.lay.addWidget(self.meeting, 2)
        tiles = row(
            button(_("Membres"), "menu_members", on=lambda: win.show_screen("members"), expand=True),
            button(_("Corrections"), "menu_corrections", on=lambda: win.show_screen("corrections"), expand=True),
            button(_("Règlement"), "menu_rules", on=lambda: win.show_screen("rules"), expand=True),
            button(_("Paramètres"), "menu_settings", on=lambda: win.show_screen("settings"), expand=True),
        )
        self.lay.addLayout(tiles, 1)

    def title(self) -> str:
        return _("Menu")

    def enter(self, **kwargs: Any) -> None:
        group = self.s.group
        self.heading.setText(group["name"])
        for fund, lab in self.cash.items():
            lab.setText(money(self.k.cash(group["group_id"], fund)))
        meeting_id = group["open_meeting"]
        if meeting_id:
            meeting = self.k.meeting(meeting_id)
            self.meeting.setText(
                _(
                    "Reprendre la séance n° {n}\nétape : {step}",
                    n=meeting["number"],
                    step=step_name(M.step(self.k, meeting_id)),
                )
            )
        else:
            self.meeting.setText(_("Ouvrir la séance n° {n}", n=group["meeting_count"] + 1))
