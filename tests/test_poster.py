"""Posters, palettes and logos as pure rendering: every palette keeps the card's and the
poster's QR readable at half size, with and without a logo; Thai is drawn with real glyphs;
join links and source tags parse strictly; logos are checked and normalised."""

from __future__ import annotations

from dataclasses import replace
from io import BytesIO

import pytest
from aiogram.utils.deep_linking import create_deep_link
from babel.messages.pofile import read_po
from PIL import Image, ImageChops, ImageDraw

from bot.domain.program.model import DEFAULT_PROGRAM, Earning
from bot.domain.sources import parse_source, ranked
from bot.domain.tokens import LinkKind, join_payload, parse_payload, valid_source
from bot.i18n import build_i18n
from bot.media.card import _font, render_card
from bot.media.logo import LOGO_SIDE, MAX_PIXELS, LogoProblem, LogoRefused, normalise_logo
from bot.media.palettes import PALETTES, palette
from bot.media.poster import A4, Layout, PosterView, render_files, render_poster
from bot.media.swatches import render_swatches
from bot.texts import poster as texts
from tests.helpers import decode_qr
from tests.test_units import view as card_view

LINK = "https://t.me/loyalty_test_bot?start=j_counter"


def png_of(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def half(png: bytes) -> bytes:
    image = Image.open(BytesIO(png))
    return png_of(image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS))


def a_logo(size: tuple[int, int] = (300, 200), mode: str = "RGBA") -> bytes:
    image = Image.new(mode, size, (0, 0, 0, 0) if mode == "RGBA" else 0)
    image.paste((20, 20, 20, 255) if mode == "RGBA" else 255, (20, 20, size[0] - 20, size[1] - 20))
    return png_of(image)


LOGO = normalise_logo(a_logo())


def poster_view(**changes: str) -> PosterView:
    values = PosterView(
        shop_name="Corner Café & Co",
        headline="Your loyalty card is one scan away",
        steps=(
            "Scan the code with your phone's camera",
            "Open the bot in Telegram and press Start",
            "Your card is ready: collect points with every purchase",
        ),
        link=LINK,
        link_text="t.me/loyalty_test_bot",
    )
    return replace(values, **changes)


# --- the card --------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [choice.key for choice in PALETTES])
@pytest.mark.parametrize("with_logo", [False, True])
def test_card_qr_decodes_at_half_size_in_every_palette(key: str, with_logo: bool) -> None:
    view = card_view(palette=key, logo_digest=LOGO.digest if with_logo else "")
    png = render_card(view, LOGO.png if with_logo else None)
    assert decode_qr(half(png)) == [view.link]
    stamps = replace(view, stamps="3/10")
    assert decode_qr(half(render_card(stamps, LOGO.png if with_logo else None))) == [view.link]


def test_palette_and_logo_change_the_picture_and_the_cache_key() -> None:
    plain = card_view()
    pictures = {render_card(plain)}
    keys = {plain.cache_key()}
    for choice in PALETTES[1:]:
        coloured = replace(plain, palette=choice.key)
        pictures.add(render_card(coloured))
        keys.add(coloured.cache_key())
    with_logo = replace(plain, logo_digest=LOGO.digest)
    pictures.add(render_card(with_logo, LOGO.png))
    keys.add(with_logo.cache_key())
    assert len(pictures) == len(keys) == len(PALETTES) + 1
    # The default palette is the one the card always had: an empty key means it.
    assert render_card(replace(plain, palette=PALETTES[0].key)) == render_card(plain)
    assert palette("gone-since") == palette(None) == PALETTES[0]


def test_a_digest_without_the_logo_draws_no_logo() -> None:
    assert render_card(card_view(logo_digest="abc")) == render_card(card_view())


# --- the poster ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [choice.key for choice in PALETTES])
@pytest.mark.parametrize("with_logo", [False, True])
def test_poster_qr_decodes_at_half_size(key: str, with_logo: bool) -> None:
    image = render_poster(poster_view(palette=key), Layout.A4, LOGO.png if with_logo else None)
    assert image.size == A4
    assert decode_qr(half(png_of(image))) == [LINK]


@pytest.mark.parametrize("key", [PALETTES[0].key, "paper"])
def test_tent_has_four_panels_two_upside_down(key: str) -> None:
    sheet = render_poster(poster_view(palette=key), Layout.TENT, LOGO.png)
    assert sheet.size == A4
    assert decode_qr(png_of(sheet)) == [LINK] * 4
    assert decode_qr(half(png_of(sheet))) == [LINK] * 4
    # The top-left panel is the bottom-left one turned upside down, for folding.
    width, height = A4[0] // 2, A4[1] // 2
    upper = sheet.crop((0, 0, width, height)).rotate(180)
    lower = sheet.crop((0, height, width, A4[1]))
    # Inside the cut and fold guides, which run along the panels' edges, they are the same.
    inner = (8, 8, width - 8, height - 8)
    assert ImageChops.difference(upper.crop(inner), lower.crop(inner)).getbbox() is None


def test_files_are_an_a4_pdf_and_a_300_dpi_png() -> None:
    pdf, png = render_files(poster_view(), Layout.A4)
    assert pdf.startswith(b"%PDF-") and b"/MediaBox [ 0 0 595.2 841.92 ]" in pdf
    image = Image.open(BytesIO(png))
    assert image.size == A4 and round(image.info["dpi"][0]) == 300


def thai_catalog() -> dict[str, str]:
    with open("locales/th/LC_MESSAGES/messages.po", "rb") as fh:
        return {m.id: m.string for m in read_po(fh) if isinstance(m.id, str)}


def poster_words(translate: dict[str, str]) -> PosterView:
    ids = (
        "Your loyalty card is one scan away",
        "Scan the code with your phone's camera",
        "Open the bot in Telegram and press Start",
        "Your card is ready: collect points with every purchase",
    )
    words = [translate[i] for i in ids]
    return poster_view(headline=words[0], steps=(words[1], words[2], words[3]))


def test_thai_poster_is_drawn_with_real_glyphs() -> None:
    thai = poster_words(thai_catalog())
    text = thai.headline + "".join(thai.steps)
    assert any("\u0e00" <= char <= "\u0e7f" for char in text)
    # No tofu: every Thai character has its own glyph in the Thai font, not the empty box
    # the font draws for characters it lacks.
    font = _font(True, 60, False)

    def drawn_alone(char: str) -> bytes:
        image = Image.new("L", (120, 120))
        ImageDraw.Draw(image).text((30, 10), char, font=font, fill=255)
        return image.tobytes()

    missing = drawn_alone("\uffff")
    for char in set(text):
        if "\u0e00" <= char <= "\u0e7f":
            glyph = drawn_alone(char)
            assert glyph != missing and any(glyph), char
    english = render_poster(poster_view(), Layout.A4)
    drawn = render_poster(thai, Layout.A4)
    assert ImageChops.difference(english, drawn).getbbox() is not None
    assert decode_qr(half(png_of(drawn))) == [LINK]


def test_long_names_and_steps_still_fit() -> None:
    long = poster_view(
        shop_name="Кав'ярня «Зерно» " * 8,
        steps=("word " * 40, "สแกนโค้ด " * 30, "x" * 300),
    )
    for layout in Layout:
        assert decode_qr(png_of(render_poster(long, layout, LOGO.png)))[0] == LINK


def test_swatches_show_every_palette() -> None:
    png = render_swatches([(p, p.name) for p in PALETTES], "Shop", LINK)
    image = Image.open(BytesIO(png)).convert("RGB")
    colours = {colour for _count, colour in image.getcolors(1 << 20) or []}
    assert all(choice.background in colours for choice in PALETTES)


# --- join links ------------------------------------------------------------------------------


def test_join_links_parse_strictly() -> None:
    assert parse_payload("j_counter") == (LinkKind.JOIN, "counter")
    assert parse_payload("j_market-stall") == (LinkKind.JOIN, "market-stall")
    for bad in ("j_", "j_Counter", "j_-x", "j_x-", "j_direct", "j_referral", "j_" + "a" * 25):
        assert parse_payload(bad) is None, bad
    longest = join_payload("a" * 24)
    assert len(longest) <= 64
    assert create_deep_link("loyalty_test_bot", "start", longest).endswith("start=" + longest)
    with pytest.raises(ValueError):
        join_payload("Not A Tag")


@pytest.mark.parametrize(
    ("typed", "tag"),
    [(" Market-Stall ", "market-stall"), ("bus-stop-12", "bus-stop-12"), ("a", "a")],
)
def test_typed_sources_are_normalised(typed: str, tag: str) -> None:
    assert parse_source(typed) == tag and valid_source(tag)


@pytest.mark.parametrize("typed", ["", "two words", "ярмарок", "a_b", "direct", "x" * 25, "--"])
def test_bad_typed_sources_are_refused(typed: str) -> None:
    assert parse_source(typed) is None


def test_sources_ranked_by_count_then_name() -> None:
    assert ranked({"flyer": 2, "direct": 5, "counter": 2, "window": 0}) == [
        ("direct", 5),
        ("counter", 2),
        ("flyer", 2),
    ]


# --- logos -----------------------------------------------------------------------------------


def test_logo_is_normalised_to_a_small_png_keeping_transparency() -> None:
    big = normalise_logo(a_logo((2000, 1000)))
    image = Image.open(BytesIO(big.png))
    assert image.format == "PNG" and image.size == (LOGO_SIDE, LOGO_SIDE // 2)
    assert image.mode == "RGBA" and image.getpixel((0, 0))[3] == 0  # type: ignore[index]
    jpeg = BytesIO()
    Image.new("RGB", (100, 80), (10, 200, 10)).save(jpeg, format="JPEG")
    assert Image.open(BytesIO(normalise_logo(jpeg.getvalue()).png)).size == (100, 80)
    assert normalise_logo(a_logo()).digest == LOGO.digest  # the same picture, the same name


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", LogoProblem.NOT_AN_IMAGE),
        (b"GIF89a but not really", LogoProblem.NOT_AN_IMAGE),
        (a_logo()[:120], LogoProblem.NOT_AN_IMAGE),
        (b"\0" * (6 * 1024 * 1024), LogoProblem.TOO_LARGE),
    ],
)
def test_bad_logos_are_refused(data: bytes, problem: LogoProblem) -> None:
    with pytest.raises(LogoRefused) as refused:
        normalise_logo(data)
    assert refused.value.problem is problem


def test_decompression_bombs_are_refused_from_the_header() -> None:
    side = int(MAX_PIXELS**0.5) + 10
    bomb = png_of(Image.new("1", (side, side)))
    assert len(bomb) < 200_000
    with pytest.raises(LogoRefused) as refused:
        normalise_logo(bomb)
    assert refused.value.problem is LogoProblem.TOO_MANY_PIXELS


# --- the poster's words ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("earning", "language", "word"),
    [
        (Earning.POINTS, "en", "points"),
        (Earning.STAMPS, "en", "stamp"),
        (Earning.CASHBACK, "en", "cashback"),
        (Earning.STAMPS, "uk", "штамп"),
        (Earning.POINTS, "th", "แต้ม"),
    ],
)
def test_the_third_step_follows_the_program(earning: Earning, language: str, word: str) -> None:
    i18n = build_i18n()
    program = replace(DEFAULT_PROGRAM, earning=earning)
    with i18n.context(), i18n.use_locale(language):
        words = texts.poster_view("Shop", program, LINK, "loyalty_test_bot", "")
    assert word in words.steps[2] and words.link_text == "t.me/loyalty_test_bot"
