"""Receipt size and render time.

    python benchmarks/bench_receipts.py [--samples 500]

Bytes per typical member receipt (the two standard contributions, balances, code
and the server's QR) at 32 and 48 columns — goal ≤ 1 KB, about a second at 9600
baud — and the median time to lay out and encode one (goal ≤ 5 ms), with as a
baseline in the same run the time to encode the same text with no ESC/POS at all.
"""

from __future__ import annotations

import argparse
import statistics
import time

from printer.escpos_out import Style, as_text, render
from printer.layout import layout
from printer.samples import member


def typical() -> dict:  # type: ignore[type-arg]
    doc = member()
    doc["movements"] = doc["movements"][:2]
    return doc


def median_ms(fn, samples: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args()
    doc = typical()
    render(layout(doc, 32), Style(width=32))  # warm-up: python-escpos loads its printer profiles once
    print(f"{'width':>6} {'bytes':>6} {'@9600 baud':>11} {'render ms':>10} {'text-only ms':>13} {'ratio':>6}")
    for width in (32, 48):
        data = render(layout(doc, width), Style(width=width))
        full = median_ms(lambda w=width: render(layout(doc, w), Style(width=w)), args.samples)
        base = median_ms(lambda w=width: as_text(layout(doc, w), w).encode("cp1252"), args.samples)
        seconds = len(data) * 10 / 9600  # 8N1: ten bits a byte
        print(f"{width:>6} {len(data):>6} {seconds:>10.2f}s {full:>10.3f} {base:>13.3f} {full / base:>6.1f}")
    print("goals: ≤ 1024 bytes a receipt, ≤ 5 ms median render")


if __name__ == "__main__":
    main()
