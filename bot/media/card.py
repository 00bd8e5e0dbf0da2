"""The card picture: shop, holder, number, balance, tier and a QR deep link, as a PNG."""

from __future__ import annotations

import hashlib
from dataclasses import astuple, dataclass
from functools import lru_cache
from io import BytesIO

import fontpkg_noto_sans
import fontpkg_noto_sans_thai
import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

from bot.media.palettes import Palette, palette

RENDER_VERSION = "3"  # bump when the layout changes so cached file_ids are not reused
WIDTH, HEIGHT = 1200, 740
MARGIN = 60
QR_BOX = 470
LOGO_BOX = 112  # the logo's patch, top right above the QR: small, so the card stays readable

_LATIN_FONT = next((fontpkg_noto_sans.ROOT / "files").glob("NotoSans[[]*.ttf"))
_THAI_FONT = next((fontpkg_noto_sans_thai.ROOT / "files").glob("NotoSansThai*.ttf"))


@dataclass(frozen=True, slots=True)
class CardView:
    """Everything the picture shows, already translated; also the cache key's input."""

    shop_name: str
    holder: str
    card_number: str
    balance: str
    tier: str
    link: str
    label_holder: str
    label_number: str
    label_balance: str
    label_tier: str
    footer: str
    stamps: str = ""  # "filled/total" on a stamp card: drawn as circles in place of the tier
    palette: str = ""  # a key of bot.media.palettes (empty: the default)
    logo_digest: str = ""  # the logo drawn (empty: none); its bytes go to render_card

    def cache_key(self) -> str:
        digest = hashlib.sha256("\x1f".join((RENDER_VERSION, *astuple(self))).encode())
        return digest.hexdigest()[:32]


@lru_cache(maxsize=32)
def _font(thai: bool, size: int, bold: bool) -> ImageFont.FreeTypeFont:
    font = ImageFont.truetype(str(_THAI_FONT if thai else _LATIN_FONT), size)
    font.set_variation_by_name("Bold" if bold else "Regular")
    return font


def _is_thai(char: str) -> bool:
    return "\u0e00" <= char <= "\u0e7f"


def _runs(text: str) -> list[tuple[bool, str]]:
    """Split text into runs of Thai and non-Thai, so each run gets a font that has its glyphs."""
    runs: list[tuple[bool, str]] = []
    for char in text:
        thai = _is_thai(char)
        if runs and (runs[-1][0] == thai or char == " "):
            runs[-1] = (runs[-1][0], runs[-1][1] + char)
        else:
            runs.append((thai, char))
    return runs


def text_width(text: str, size: int, bold: bool = False) -> float:
    return sum(_font(thai, size, bold).getlength(run) for thai, run in _runs(text))


def fit(text: str, size: int, width: int, bold: bool = False) -> str:
    """Shorten with an ellipsis until the text fits the width."""
    if text_width(text, size, bold) <= width:
        return text
    while text and text_width(text + "…", size, bold) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[int, int],
    text: str,
    size: int,
    fill: tuple[int, int, int],
    bold: bool = False,
) -> None:
    x, y = xy
    for thai, run in _runs(text):
        font = _font(thai, size, bold)
        draw.text((x, y), run, font=font, fill=fill)
        x += int(font.getlength(run))


def qr_image(link: str, box_size: int) -> Image.Image:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(link)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def logo_image(png: bytes, box: int) -> Image.Image:
    """The stored logo scaled to fit a square of `box` pixels, with its transparency."""
    logo = Image.open(BytesIO(png)).convert("RGBA")
    logo.thumbnail((box, box), Image.Resampling.LANCZOS)
    return logo


def paste_logo(image: Image.Image, png: bytes, xy: tuple[int, int], box: int) -> None:
    """The logo centred on a white rounded patch: dark and transparent logos stay visible
    on any palette."""
    x, y = xy
    ImageDraw.Draw(image).rounded_rectangle(
        (x, y, x + box, y + box), radius=box // 8, fill=(255, 255, 255)
    )
    pad = box // 10
    logo = logo_image(png, box - 2 * pad)
    image.paste(
        logo, (x + (box - logo.width) // 2, y + (box - logo.height) // 2), logo.getchannel("A")
    )


def _draw_stamps(
    draw: ImageDraw.ImageDraw, xy: tuple[int, int], stamps: str, width: int, colours: Palette
) -> None:
    """A row of filled and empty circles; as "7 / 20" text when they would not fit."""
    filled, total = (int(part) for part in stamps.split("/"))
    x, y = xy
    step = width // max(total, 1)
    if step < 24:
        draw_text(draw, (x, y - 4), f"{filled} / {total}", 44, colours.ink, True)
        return
    size = min(step - 8, 44)
    for index in range(total):
        box = (x + index * step, y, x + index * step + size, y + size)
        if index < filled:
            draw.ellipse(box, fill=colours.accent)
        else:
            draw.ellipse(box, outline=colours.muted, width=3)


def render_card(view: CardView, logo: bytes | None = None) -> bytes:
    """`logo`: the stored logo whose digest is `view.logo_digest`, drawn when both are set."""
    colours = palette(view.palette)
    ink, muted = colours.ink, colours.muted
    image = Image.new("RGB", (WIDTH, HEIGHT), colours.background)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 14), fill=colours.accent)

    text_width_max = WIDTH - QR_BOX - 3 * MARGIN
    name_width = WIDTH - 2 * MARGIN
    if logo is not None and view.logo_digest:
        paste_logo(image, logo, (WIDTH - MARGIN - LOGO_BOX, 28), LOGO_BOX)
        name_width -= LOGO_BOX + 24
    draw_text(draw, (MARGIN, 50), fit(view.shop_name, 58, name_width, True), 58, ink, True)

    rows = (
        (view.label_holder, view.holder, 44, 160),
        (view.label_number, view.card_number, 64, 290),
        (view.label_balance, view.balance, 52, 430),
        (view.label_tier, view.tier, 44, 560),
    )
    for label, value, size, top in rows:
        draw_text(draw, (MARGIN, top), fit(label, 28, text_width_max), 28, muted)
        if view.stamps and label == view.label_tier:
            _draw_stamps(draw, (MARGIN, top + 40), view.stamps, text_width_max, colours)
            continue
        draw_text(draw, (MARGIN, top + 36), fit(value, size, text_width_max, True), size, ink, True)

    # A white quiet zone around the code keeps it readable on a dark card.
    qr_left, qr_top = WIDTH - MARGIN - QR_BOX, 150
    draw.rounded_rectangle(
        (qr_left, qr_top, qr_left + QR_BOX, qr_top + QR_BOX), radius=24, fill=(255, 255, 255)
    )
    probe = qr_image(view.link, 1)
    box = max(2, (QR_BOX - 20) // probe.width)
    code = qr_image(view.link, box)
    image.paste(code, (qr_left + (QR_BOX - code.width) // 2, qr_top + (QR_BOX - code.height) // 2))

    draw_text(draw, (MARGIN, HEIGHT - 70), fit(view.footer, 28, WIDTH - 2 * MARGIN), 28, muted)
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
