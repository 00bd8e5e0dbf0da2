"""The card colours an owner can pick: a few tested palettes rather than free colours, so
every card stays readable and its QR keeps dark modules on a white patch."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.marks import N_

RGB = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Palette:
    key: str
    name: str  # marked with N_, translated where shown
    background: RGB
    accent: RGB
    ink: RGB  # text on the background
    muted: RGB  # labels on the background


PALETTES: tuple[Palette, ...] = (
    Palette(
        "navy", N_("Night blue"), (24, 54, 86), (242, 183, 5), (255, 255, 255), (170, 192, 214)
    ),
    Palette(
        "forest", N_("Forest"), (24, 66, 48), (140, 214, 160), (255, 255, 255), (176, 206, 188)
    ),
    Palette("berry", N_("Berry"), (96, 22, 64), (255, 160, 122), (255, 255, 255), (224, 180, 202)),
    Palette("coal", N_("Charcoal"), (36, 36, 40), (255, 112, 67), (255, 255, 255), (184, 184, 190)),
    Palette("paper", N_("Paper"), (246, 240, 228), (196, 74, 36), (34, 30, 26), (104, 94, 84)),
)
DEFAULT = PALETTES[0]
_BY_KEY = {palette.key: palette for palette in PALETTES}


def palette(key: str | None) -> Palette:
    """The palette with that key; the default for None or a key no longer offered."""
    return _BY_KEY.get(key or "", DEFAULT)
