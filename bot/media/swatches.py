"""The palettes' preview: a small card-like tile in each palette, with its name, so the
owner sees the colours before picking them."""

from __future__ import annotations

from io import BytesIO

from PIL import Image, ImageDraw

from bot.media.card import draw_text, fit, qr_image
from bot.media.palettes import Palette

TILE_W, TILE_H = 520, 320
GAP = 40
LABEL = 64
COLUMNS = 2


def render_swatches(tiles: list[tuple[Palette, str]], shop_name: str, link: str) -> bytes:
    """`tiles`: each palette with its translated name, in the order offered."""
    rows = (len(tiles) + COLUMNS - 1) // COLUMNS
    width = COLUMNS * TILE_W + (COLUMNS + 1) * GAP
    height = rows * (TILE_H + LABEL) + (rows + 1) * GAP
    image = Image.new("RGB", (width, height), (236, 236, 240))
    draw = ImageDraw.Draw(image)
    code = qr_image(link, 5)
    code.thumbnail((190, 190))
    for index, (colours, name) in enumerate(tiles):
        x = GAP + (index % COLUMNS) * (TILE_W + GAP)
        y = GAP + (index // COLUMNS) * (TILE_H + LABEL + GAP)
        draw.rounded_rectangle((x, y, x + TILE_W, y + TILE_H), radius=18, fill=colours.background)
        draw.rectangle((x + 18, y, x + TILE_W - 18, y + 8), fill=colours.accent)
        draw_text(
            draw, (x + 28, y + 30), fit(shop_name, 34, TILE_W - 60, True), 34, colours.ink, True
        )
        draw_text(draw, (x + 28, y + 110), "1234 5678", 36, colours.ink, True)
        draw.ellipse((x + 30, y + 190, x + 62, y + 222), fill=colours.accent)
        draw_text(draw, (x + 76, y + 180), "250", 34, colours.accent, True)
        draw.rounded_rectangle(
            (x + TILE_W - 230, y + 90, x + TILE_W - 20, y + 300), radius=12, fill=(255, 255, 255)
        )
        image.paste(code, (x + TILE_W - 125 - code.width // 2, y + 195 - code.height // 2))
        draw_text(
            draw, (x + 8, y + TILE_H + 14), fit(name, 34, TILE_W - 16, True), 34, (30, 30, 36), True
        )
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
