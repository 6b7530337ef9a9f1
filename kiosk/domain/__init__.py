"""The MUSO domain: pure values, rules, loans, postings, events and the reducer.

Standard library only (enforced by tests/test_architecture.py): the kiosk, the
printer and the sync server all share this code, so it must not know about Qt,
SQLite, HTTP or printers.
"""
