"""Reading a card's QR code from a photo a cashier sends (zxing-cpp, no system libraries)."""

from __future__ import annotations

from io import BytesIO
from urllib.parse import parse_qs, urlsplit

import zxingcpp
from PIL import Image, ImageOps

MAX_PIXELS = 40_000_000  # refuse decompression bombs long before Pillow's own limit

QR_ONLY = zxingcpp.barcode_formats_from_str("QRCode")


def links_in_photo(data: bytes) -> list[str]:
    """Texts of the QR codes found in an image; [] for anything unreadable."""
    try:
        opened = Image.open(BytesIO(data))
        if opened.width * opened.height > MAX_PIXELS:
            return []
        image = ImageOps.exif_transpose(opened).convert("L")
    except Exception:
        return []
    results = zxingcpp.read_barcodes(image, formats=QR_ONLY)
    if not results and max(image.size) > 1600:
        # Very large camera photos: a smaller copy is often read where the full one is not.
        image.thumbnail((1600, 1600))
        results = zxingcpp.read_barcodes(image, formats=QR_ONLY)
    return [result.text for result in results if result.text]


def start_payload(link: str, bot_username: str) -> str | None:
    """The ?start= payload of a t.me link to this bot, else None."""
    try:
        parts = urlsplit(link.strip())
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or parts.hostname not in ("t.me", "telegram.me"):
        return None
    if parts.path.strip("/").lower() != bot_username.lower():
        return None
    values = parse_qs(parts.query).get("start")
    return values[0] if values else None
