"""Print-ready posters with the shop's join QR: an A4 poster, and A6 table tents (four A6
panels on one A4 sheet), as PNG and PDF at 300 dpi, drawn with Pillow.

The table tent is an A4 sheet because every shop printer takes A4: cut it down the middle
(dashed line) into two strips of 105 x 297 mm and fold each across (dotted line); the upper
panel is printed upside down, so once folded both faces of the tent read upright. Two tents
per sheet, no paper wasted, no special stock."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from io import BytesIO

from PIL import Image, ImageDraw

from bot.media.card import draw_text, paste_logo, qr_image, text_width
from bot.media.palettes import Palette, palette

DPI = 300
A4 = (2480, 3508)  # 210 x 297 mm at 300 dpi
A6 = (1240, 1754)  # 105 x 148.5 mm: a quarter of the A4 sheet
DARK = (30, 30, 36)  # body text on the white page
GREY = (120, 120, 128)
GUIDE = (190, 190, 196)  # cut and fold lines


class Layout(StrEnum):
    A4 = "a4"
    TENT = "tent"


@dataclass(frozen=True, slots=True)
class PosterView:
    """What the poster says, already translated."""

    shop_name: str
    headline: str
    steps: tuple[str, str, str]
    link: str  # what the QR holds
    link_text: str  # the link printed under the QR for those who type it
    palette: str = ""


def _light(colour: tuple[int, int, int]) -> bool:
    red, green, blue = colour
    return 0.299 * red + 0.587 * green + 0.114 * blue > 150


def _heading_colour(colours: Palette) -> tuple[int, int, int]:
    """A strong colour of the palette that reads well on white."""
    return colours.accent if _light(colours.background) else colours.background


def wrap(text: str, size: int, width: int, bold: bool = False) -> list[str]:
    """Greedy line breaks at spaces (Thai phrases are separated by spaces too)."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size, bold) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def fitted(
    text: str, size: int, width: int, max_lines: int, bold: bool = False
) -> tuple[int, list[str]]:
    """The largest size up to `size` at which the text wraps into `max_lines` that fit."""
    while True:
        lines = wrap(text, size, width, bold)
        fits = len(lines) <= max_lines and all(text_width(li, size, bold) <= width for li in lines)
        if fits or size <= 12:
            return size, lines[:max_lines]
        size = int(size * 0.92)


def _centred(
    draw: ImageDraw.ImageDraw,
    centre_x: int,
    top: int,
    lines: list[str],
    size: int,
    fill: tuple[int, int, int],
    bold: bool = False,
) -> int:
    """Draw lines centred on `centre_x` from `top`; returns the y below the last."""
    for line in lines:
        draw_text(
            draw, (int(centre_x - text_width(line, size, bold) / 2), top), line, size, fill, bold
        )
        top += int(size * 1.3)
    return top


def render_panel(view: PosterView, logo: bytes | None, size: tuple[int, int]) -> Image.Image:
    """One poster face: header band with name and logo, headline, QR, three steps."""
    width, height = size
    colours = palette(view.palette)
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    margin = width // 12

    band = int(height * 0.16)
    draw.rectangle((0, 0, width, band), fill=colours.background)
    draw.rectangle((0, band, width, band + max(4, height // 120)), fill=colours.accent)
    name_left, name_width = margin, width - 2 * margin
    if logo is not None:
        box = int(band * 0.66)
        paste_logo(image, logo, (margin, (band - box) // 2), box)
        name_left += box + margin // 2
        name_width -= box + margin // 2
    name_size, name_lines = fitted(view.shop_name, int(band * 0.34), name_width, 2, bold=True)
    name_top = (band - int(name_size * 1.3) * len(name_lines)) // 2
    for line in name_lines:
        draw_text(draw, (name_left, name_top), line, name_size, colours.ink, True)
        name_top += int(name_size * 1.3)

    heading_size, heading = fitted(view.headline, int(height * 0.036), width - 2 * margin, 2, True)
    below = _centred(
        draw, width // 2, int(height * 0.19), heading, heading_size, _heading_colour(colours), True
    )

    # The QR on the white page keeps its own four-module quiet zone; modules stay black.
    qr_top = max(below + height // 80, int(height * 0.25))
    qr_side = min(int(width * 0.66), int(height * 0.42))
    probe = qr_image(view.link, 1)
    code = qr_image(view.link, max(2, qr_side // probe.width))
    image.paste(code, ((width - code.width) // 2, qr_top))
    link_size = int(height * 0.016)
    below = _centred(draw, width // 2, qr_top + code.height, [view.link_text], link_size, GREY)

    step_top = below + height // 40
    slot = (height - margin // 2 - step_top) // 3
    text_size = int(min(height * 0.026, slot / 2.9))
    dot = int(text_size * 1.5)
    text_left = margin + dot + margin // 3
    for number, step in enumerate(view.steps, start=1):
        top = step_top + (number - 1) * slot
        size_now, lines = fitted(step, text_size, width - text_left - margin, 2)
        block = int(size_now * 1.3) * len(lines)
        draw.ellipse((margin, top, margin + dot, top + dot), fill=colours.accent)
        digit = str(number)
        digit_size = int(dot * 0.6)
        draw_text(
            draw,
            (
                int(margin + (dot - text_width(digit, digit_size, True)) / 2),
                int(top + dot * 0.12),
            ),
            digit,
            digit_size,
            colours.background,
            True,
        )
        line_top = top + max(0, (dot - block) // 2)
        for line in lines:
            draw_text(draw, (text_left, line_top), line, size_now, DARK)
            line_top += int(size_now * 1.3)
    return image


def _dashed(
    draw: ImageDraw.ImageDraw, start: tuple[int, int], end: tuple[int, int], dash: int
) -> None:
    (x0, y0), (x1, y1) = start, end
    length = max(abs(x1 - x0), abs(y1 - y0))
    for offset in range(0, length, dash * 2):
        stop = min(offset + dash, length)
        if x0 == x1:
            draw.line((x0, y0 + offset, x0, y0 + stop), fill=GUIDE, width=3)
        else:
            draw.line((x0 + offset, y0, x0 + stop, y0), fill=GUIDE, width=3)


def render_poster(view: PosterView, layout: Layout, logo: bytes | None = None) -> Image.Image:
    """The whole A4 page at 300 dpi."""
    if layout is Layout.A4:
        return render_panel(view, logo, A4)
    sheet = Image.new("RGB", A4, (255, 255, 255))
    panel = render_panel(view, logo, A6)
    upside_down = panel.rotate(180)
    for column in range(2):
        sheet.paste(upside_down, (column * A6[0], 0))
        sheet.paste(panel, (column * A6[0], A6[1]))
    draw = ImageDraw.Draw(sheet)
    _dashed(draw, (A6[0], 0), (A6[0], A4[1]), 36)  # cut
    _dashed(draw, (0, A6[1]), (A4[0], A6[1]), 8)  # fold
    return sheet


def to_png(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, format="PNG", dpi=(DPI, DPI), compress_level=6)
    return out.getvalue()


def to_pdf(image: Image.Image) -> bytes:
    """One page whose size is the image at 300 dpi (A4). Pillow embeds it as a JPEG; at
    this quality and no chroma subsampling the QR's edges and small text stay sharp."""
    out = BytesIO()
    image.save(out, format="PDF", resolution=DPI, quality=92, subsampling=0)
    return out.getvalue()


def render_files(
    view: PosterView, layout: Layout, logo: bytes | None = None
) -> tuple[bytes, bytes]:
    """(PDF, PNG) of the poster."""
    image = render_poster(view, layout, logo)
    return to_pdf(image), to_png(image)
