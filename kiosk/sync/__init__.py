"""The kiosk's side of sync: enrollment, pushes, pulls, restore, USB bundles, clock correction.

Runs in its own process (``muso-kiosk sync --daemon``) with its own database
connection, so it only ever reads committed events.
"""
