"""Charts as inline SVG, drawn on the server: no JavaScript, a few hundred bytes each.

Coordinators read them on a phone over a slow link, so the markup is small
and readable without CSS: each chart has a <title>, axis labels in plain
text, and the last value written next to each line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from kiosk.domain.money import group_thousands

W, H = 560, 220
PAD_L, PAD_R, PAD_T, PAD_B = 64, 96, 16, 28
COLOURS = ("#1b7f3b", "#b3261e", "#1f5fbf", "#8a6d00")  # verte, rouge, bleue, other


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[str, int]]  # (label on the x axis, e.g. "2026-T2" or a date; value)
    colour: str = COLOURS[0]


def _nice_max(value: int) -> int:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value:
            return top
    return value


def _short(value: int) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f} M".replace(".", ",")
    if abs(value) >= 10_000:
        return f"{value // 1000} k"
    return group_thousands(value)


def line_chart(title: str, series: Sequence[Series], *, unit: str = "FCFA") -> str:
    xs = sorted({x for s in series for x, _ in s.points})
    if not xs:
        return f'<p class="empty">{escape(title)} : pas encore de données.</p>'
    top = _nice_max(max((v for s in series for _, v in s.points), default=0))
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B

    def x_of(x: str) -> float:
        return PAD_L + (xs.index(x) * plot_w / (len(xs) - 1) if len(xs) > 1 else plot_w / 2)

    def y_of(v: int) -> float:
        return PAD_T + plot_h - v * plot_h / top

    out = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        '<g font-size="11" fill="#444">',
    ]
    for frac in (0, 0.5, 1):
        y = y_of(int(top * frac))
        out.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.0f}" y2="{y:.0f}" stroke="#ddd"/>')
        out.append(f'<text x="{PAD_L - 6}" y="{y + 4:.0f}" text-anchor="end">{_short(int(top * frac))}</text>')
    for x in (xs[0], xs[-1]) if len(xs) > 1 else (xs[0],):
        anchor = "start" if x == xs[0] and len(xs) > 1 else "end" if len(xs) > 1 else "middle"
        out.append(f'<text x="{x_of(x):.0f}" y="{H - 8}" text-anchor="{anchor}">{escape(x)}</text>')
    out.append(f'<text x="{PAD_L}" y="{PAD_T - 4}">{escape(unit)}</text>')
    for s in series:
        if not s.points:
            continue
        pts = " ".join(f"{x_of(x):.0f},{y_of(v):.0f}" for x, v in sorted(s.points))
        last_x, last_v = sorted(s.points)[-1]
        out.append(f'<polyline fill="none" stroke="{s.colour}" stroke-width="2.5" points="{pts}"/>')
        out.append(
            f'<text x="{x_of(last_x) + 6:.0f}" y="{y_of(last_v) + 4:.0f}" fill="{s.colour}">'
            f"{escape(s.label)} {_short(last_v)}</text>"
        )
    out.append("</g></svg>")
    return "".join(out)


def bar_chart(title: str, bars: Sequence[tuple[str, int]], *, maximum: int = 100, unit: str = "%") -> str:
    """Vertical bars (e.g. attendance per meeting, in %)."""
    if not bars:
        return f'<p class="empty">{escape(title)} : pas encore de données.</p>'
    plot_w, plot_h = W - PAD_L - 16, H - PAD_T - PAD_B
    step = plot_w / len(bars)
    width = max(2.0, step * 0.7)
    out = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title><g font-size="11" fill="#444">',
    ]
    for frac in (0, 0.5, 1):
        y = PAD_T + plot_h - plot_h * frac
        out.append(f'<line x1="{PAD_L}" x2="{W - 16}" y1="{y:.0f}" y2="{y:.0f}" stroke="#ddd"/>')
        out.append(f'<text x="{PAD_L - 6}" y="{y + 4:.0f}" text-anchor="end">{int(maximum * frac)} {unit}</text>')
    for i, (label, value) in enumerate(bars):
        h = plot_h * min(value, maximum) / maximum
        x = PAD_L + i * step + (step - width) / 2
        out.append(
            f'<rect x="{x:.1f}" y="{PAD_T + plot_h - h:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{COLOURS[2]}">'
            f"<title>{escape(label)} : {value} {unit}</title></rect>"
        )
    out.append(f'<text x="{PAD_L}" y="{H - 8}">{escape(bars[0][0])}</text>')
    out.append(f'<text x="{W - 16}" y="{H - 8}" text-anchor="end">{escape(bars[-1][0])}</text>')
    out.append("</g></svg>")
    return "".join(out)
