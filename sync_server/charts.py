"""Charts as inline SVG, drawn on the server: no JavaScript, a few kilobytes each.

Coordinators read them on a phone over a slow link, so the markup is small
and readable without CSS: each chart has a <title>, axis labels in plain
text, and the last value written next to each line (labels are pushed apart
when two lines end close together). The SVG scales to the page's width
(``viewBox``), so the same chart serves a phone and a laptop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from itertools import pairwise

from kiosk.domain.money import group_thousands

# A narrow canvas with large type: on a 360 px phone the chart is drawn at about 0.75 scale and the
# labels stay readable (10-11 px); on a laptop the same SVG simply grows.
W, H = 480, 230
PAD_L, PAD_R, PAD_T, PAD_B = 54, 112, 26, 30
FONT = 14
COLOURS = ("#1b7f3b", "#b3261e", "#1f5fbf", "#8a6d00")  # verte, rouge, bleue, other
EMPTY = "pas encore de données"


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[tuple[str, int]]  # (label on the x axis, e.g. "2026-07" or a date; value)
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


def _short(value: int, lang: str = "fr") -> str:
    if abs(value) >= 1_000_000:
        text = f"{value / 1_000_000:.1f} M"
        return text.replace(".", ",") if lang == "fr" else text  # 1,2 M in French, 1.2 M in English
    if abs(value) >= 10_000:
        return f"{value // 1000} k"
    return group_thousands(value)


def _ticks(xs: list[str]) -> list[str]:
    if len(xs) <= 2:
        return xs
    return [xs[0], xs[len(xs) // 2], xs[-1]]


def _colon(lang: str) -> str:
    return " :" if lang == "fr" else ":"


def _empty(title: str, empty: str, lang: str = "fr") -> str:
    return f'<p class="empty">{escape(title)}{_colon(lang)} {escape(empty)}.</p>'


def _spread(ys: list[float], gap: float = 13.0) -> list[float]:
    """Move end labels apart so that none overlaps another (in order, keeping them inside the plot)."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    out = list(ys)
    for a, b in pairwise(order):
        if out[b] - out[a] < gap:
            out[b] = out[a] + gap
    return out


def line_chart(
    title: str, series: Sequence[Series], *, unit: str = "F CFA", empty: str = EMPTY, lang: str = "fr"
) -> str:
    xs = sorted({x for s in series for x, _ in s.points})
    if not xs or not any(v for s in series for _, v in s.points):
        return _empty(title, empty, lang)
    top = _nice_max(max((v for s in series for _, v in s.points), default=0))
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    index = {x: i for i, x in enumerate(xs)}

    def x_of(x: str) -> float:
        return PAD_L + (index[x] * plot_w / (len(xs) - 1) if len(xs) > 1 else plot_w / 2)

    def y_of(v: int) -> float:
        return PAD_T + plot_h - max(v, 0) * plot_h / top

    out = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<g font-size="{FONT}" fill="#444" font-family="sans-serif">',
    ]
    for frac in (0, 0.5, 1):
        y = y_of(int(top * frac))
        out.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.0f}" y2="{y:.0f}" stroke="#ddd"/>')
        out.append(f'<text x="{PAD_L - 6}" y="{y + 4:.0f}" text-anchor="end">{_short(int(top * frac), lang)}</text>')
    ticks = _ticks(xs)
    for i, x in enumerate(ticks):
        anchor = "middle" if len(ticks) == 1 or 0 < i < len(ticks) - 1 else "start" if i == 0 else "end"
        out.append(f'<text x="{x_of(x):.0f}" y="{H - 8}" text-anchor="{anchor}">{escape(x)}</text>')
    out.append(f'<text x="4" y="{FONT}">{escape(unit)}</text>')  # above the axis, clear of its top label
    drawn = [s for s in series if s.points]
    ends = [sorted(s.points)[-1] for s in drawn]
    label_ys = _spread([y_of(v) + 5 for _, v in ends], gap=FONT + 2)
    for s, (last_x, last_v), ly in zip(drawn, ends, label_ys, strict=True):
        pts = " ".join(f"{x_of(x):.1f},{y_of(v):.1f}" for x, v in sorted(s.points))
        out.append(f'<polyline fill="none" stroke="{s.colour}" stroke-width="2.5" points="{pts}"/>')
        end = f"{escape(s.label)} {_short(last_v, lang)}"
        out.append(f'<text x="{x_of(last_x) + 6:.0f}" y="{ly:.0f}" fill="{s.colour}">{end}</text>')
    out.append("</g></svg>")
    return "".join(out)


def bar_chart(
    title: str,
    bars: Sequence[tuple[str, int]],
    *,
    maximum: int = 100,
    unit: str = "%",
    empty: str = EMPTY,
    lang: str = "fr",
) -> str:
    """Vertical bars (e.g. attendance per meeting, in %), each with its value in a tooltip."""
    if not bars:
        return _empty(title, empty, lang)
    plot_w, plot_h = W - PAD_L - 16, H - PAD_T - PAD_B
    step = plot_w / len(bars)
    width = max(2.0, step * 0.7)
    out = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<g font-size="{FONT}" fill="#444" font-family="sans-serif">',
    ]
    for frac in (0, 0.5, 1):
        y = PAD_T + plot_h - plot_h * frac
        out.append(f'<line x1="{PAD_L}" x2="{W - 16}" y1="{y:.0f}" y2="{y:.0f}" stroke="#ddd"/>')
        out.append(f'<text x="{PAD_L - 6}" y="{y + 4:.0f}" text-anchor="end">{int(maximum * frac)} {unit}</text>')
    for i, (label, value) in enumerate(bars):
        h = plot_h * min(max(value, 0), maximum) / maximum
        x = PAD_L + i * step + (step - width) / 2
        out.append(
            f'<rect x="{x:.1f}" y="{PAD_T + plot_h - h:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{COLOURS[2]}">'
            f"<title>{escape(label)}{_colon(lang)} {value} {unit}</title></rect>"
        )
    out.append(f'<text x="{PAD_L}" y="{H - 8}">{escape(bars[0][0])}</text>')
    if len(bars) > 1:
        out.append(f'<text x="{W - 16}" y="{H - 8}" text-anchor="end">{escape(bars[-1][0])}</text>')
    out.append("</g></svg>")
    return "".join(out)
