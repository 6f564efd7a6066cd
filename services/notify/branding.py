"""The library's look in e-mails: name, logo, colours, and colour contrast that stays readable. Pure."""

from __future__ import annotations

from dataclasses import dataclass

WHITE = "#FFFFFF"
DARK = "#212B32"


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """WCAG relative luminance of a '#RRGGBB' colour."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(background: str) -> str:
    """White or dark text, whichever reads better on `background`."""
    return WHITE if contrast_ratio(WHITE, background) >= contrast_ratio(DARK, background) else DARK


def readable(colour: str, background: str, minimum: float = 4.5) -> str:
    """`colour` if it meets WCAG AA on `background`, else the better of white and dark."""
    return colour if contrast_ratio(colour, background) >= minimum else text_on(background)


@dataclass(frozen=True)
class Branding:
    library_name: str
    logo_url: str
    primary: str
    text: str
    background: str

    @property
    def on_primary(self) -> str:
        return text_on(self.primary)

    @property
    def link(self) -> str:
        """Links sit on white cards: the primary colour if it is readable there."""
        return readable(self.primary, WHITE)

    @property
    def body_text(self) -> str:
        return readable(self.text, WHITE)
