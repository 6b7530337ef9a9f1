"""Token buckets per kiosk (after authentication) and per client address (before it).

In-process, on purpose: no extra service for a small NGO server. The
limitation is documented in docs/sync.md: with ``--workers N`` (or several
machines) each process has its own buckets, so a kiosk gets up to N times the
rate. That still bounds abuse, because pushes are cheap and idempotent;
where a hard global limit matters, put one at the reverse proxy as well.

Kiosks are limited by their *verified* id, never by the id a request
claims: otherwise anyone could spend a victim kiosk's allowance with
unsigned garbage and keep it from syncing.

Before a kiosk is verified, its address is charged for each request that
fails authentication (a bad signature, an unknown or revoked kiosk), and
refused while that allowance is spent: checking a signature costs a database
read and an Ed25519 verification, which nobody should get to run at will.
Kiosks behind one 2G operator's address share that allowance, but only
failures spend it: an attacker behind the same address can delay them, as it
could by flooding the server anyway.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(self, per_minute: float, burst: int, max_keys: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """0 if the request may go ahead, else the seconds to wait before retrying."""
        return self._spend(key, 1, now)

    def waiting(self, key: str, now: float | None = None) -> float:
        """What ``take`` would answer, spending nothing: for limits charged only when a request fails."""
        return self._spend(key, 0, now)

    def _spend(self, key: str, cost: int, now: float | None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if not cost:
                    return 0.0  # an unknown key has a full bucket: no need to make one
                if len(self._buckets) >= self.max_keys:
                    self._forget_full(now)
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= cost
                return 0.0
            return (1 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        # Buckets that have refilled hold no information: dropping them bounds memory.
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            self._buckets.clear()
