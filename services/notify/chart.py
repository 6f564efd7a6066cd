"""The board briefing's chart: items per theme and month, drawn with matplotlib as a PNG.

One small grouped bar chart (a bar per month, a group per theme), in the brand's colour, for
the PDF (embedded as a data URI) and the e-mail (an inline image). Pure apart from matplotlib.
"""

from __future__ import annotations

import io

from services.notify.briefing import Trend


def _shades(hex_colour: str, n: int) -> list[tuple[float, float, float]]:
    """n shades of the brand colour, palest (oldest month) to full (this month)."""
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    out = []
    for i in range(n):
        mix = 0.25 + 0.75 * (i + 1) / n  # share of the brand colour against white
        out.append((1 - mix * (1 - r), 1 - mix * (1 - g), 1 - mix * (1 - b)))
    return out


def theme_chart_png(trend: Trend, *, colour: str = "#005EB8", width_in: float = 6.4, dpi: int = 150,
                    font: float = 8) -> bytes | None:
    """The chart as PNG bytes; None when there is nothing to draw. The e-mail's is narrower with
    larger type (a phone shows it at about 350 px), the PDF's as wide as the page."""
    if not trend.series:
        return None
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory only
    from matplotlib.figure import Figure

    labels = [label for label, _ in trend.series][::-1]  # largest change at the top
    counts = [values for _, values in trend.series][::-1]
    months = len(trend.months)
    height = 0.6 + (0.3 + font / 40) * len(labels) * max(1, months / 3)
    fig = Figure(figsize=(width_in, height), dpi=dpi)
    ax = fig.add_subplot()
    bar = 0.8 / months
    for m, shade in enumerate(_shades(colour, months)):
        ys = [i + (m - (months - 1) / 2) * bar for i in range(len(labels))]
        ax.barh(ys, [c[m] for c in counts], height=bar * 0.92, color=shade, label=trend.months[m])
    most = 36 if width_in >= 5 else 22  # a phone keeps the bars wide
    ax.set_yticks(range(len(labels)), labels=[label if len(label) <= most else label[:most - 1] + "\u2026" for label in labels])
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("items", fontsize=font)
    ax.tick_params(labelsize=font)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(fontsize=font - 1, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=months if width_in >= 5 else 2)
    fig.tight_layout(pad=0.4)
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
