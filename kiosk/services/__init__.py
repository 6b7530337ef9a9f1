"""Use cases: one function, one transaction. The UI and the CLI call these and nothing lower.

Each takes a ``Kiosk`` (the store plus who is at the keyboard) and plain
values, checks the règlement (``decide``), verifies officers' PINs, appends
the events and returns what the caller needs to show.
"""

from .context import Approval, Kiosk

__all__ = ["Approval", "Kiosk"]
