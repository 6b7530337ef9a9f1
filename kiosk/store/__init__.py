"""The kiosk's SQLite store: journal, projections and local-only tables."""

from .database import Store, StoreError, Writer

__all__ = ["Store", "StoreError", "Writer"]
