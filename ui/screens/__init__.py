"""The app's screens, by name (MainWindow.show_screen builds each the first time it is shown)."""

from __future__ import annotations

from typing import Any

from .corrections import CorrectionsScreen
from .group import GroupScreen
from .home import HomeScreen
from .login import LoginScreen
from .meeting import MeetingScreen
from .member_form import MemberFormScreen
from .members import MemberScreen, MembersScreen
from .rules import RulesScreen
from .settings import SettingsScreen

SCREENS: dict[str, Any] = {
    "home": HomeScreen,
    "login": LoginScreen,
    "group": GroupScreen,
    "meeting": MeetingScreen,
    "members": MembersScreen,
    "member": MemberScreen,
    "member_form": MemberFormScreen,
    "corrections": CorrectionsScreen,
    "rules": RulesScreen,
    "settings": SettingsScreen,
}
