"""The shop's logo as sent by the owner, checked and normalised for storage: any image
Pillow opens, verified, within pixel limits, stored as a PNG of at most LOGO_SIDE pixels."""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from enum import StrEnum
from io import BytesIO

from PIL import Image, ImageOps

MAX_BYTES = 5 * 1024 * 1024  # checked on file_size before anything is downloaded
MAX_PIXELS = 25_000_000  # from the header, before decoding: refuses decompression bombs
LOGO_SIDE = 512


class LogoProblem(StrEnum):
    NOT_AN_IMAGE = "not_an_image"
    TOO_LARGE = "too_large"  # bytes
    TOO_MANY_PIXELS = "too_many_pixels"


class LogoRefused(Exception):
    def __init__(self, problem: LogoProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Logo:
    png: bytes
    digest: str  # names the picture in the card's cache key


def digest_of(png: bytes) -> str:
    return hashlib.sha256(png).hexdigest()[:16]


def normalise_logo(data: bytes) -> Logo:
    """The logo to store, or LogoRefused saying what is wrong with `data`."""
    if len(data) > MAX_BYTES:
        raise LogoRefused(LogoProblem.TOO_LARGE)
    try:
        with warnings.catch_warnings():
            # Pillow warns (and past twice the limit raises) on huge images; the header's
            # size is checked here first, against a far smaller limit.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(BytesIO(data))
            if probe.width * probe.height > MAX_PIXELS:
                raise LogoRefused(LogoProblem.TOO_MANY_PIXELS)
            probe.verify()  # structure and checksums, without decoding the pixels
            opened = Image.open(BytesIO(data))  # verify() leaves the image unusable
            opened.load()
    except LogoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LogoRefused(LogoProblem.TOO_MANY_PIXELS) from None
    except Exception:  # Pillow raises many kinds on broken or foreign data
        raise LogoRefused(LogoProblem.NOT_AN_IMAGE) from None
    image = ImageOps.exif_transpose(opened).convert("RGBA")
    image.thumbnail((LOGO_SIDE, LOGO_SIDE), Image.Resampling.LANCZOS)
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    png = out.getvalue()
    return Logo(png, digest_of(png))
