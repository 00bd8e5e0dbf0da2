"""Pure functions: payloads, card numbers, dates, phones, settings, program file, card picture."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from bot.config import ConfigError, load_settings, parse_database_url
from bot.domain import tokens
from bot.domain.parsing import DateError, contact_phone, mask_phone, parse_birthday
from bot.domain.program.loader import (
    MAX_REWARDS,
    MAX_TIERS,
    ProgramError,
    load_program,
    money_to_minor,
    parse_program,
)
from bot.domain.tokens import (
    PAYLOAD_RE,
    LinkKind,
    format_card_number,
    luhn_digit,
    new_card_identity,
    new_card_number,
    new_payload,
    normalize_card_number,
    parse_payload,
)
from bot.i18n import LANGUAGES
from bot.media.card import CardView, render_card
from bot.texts.numbers import number_formats
from tests.fakeapi import TOKEN
from tests.helpers import decode_qr

TODAY = date(2026, 11, 23)


# --- payloads and card numbers -------------------------------------------------------------


def test_payloads_are_short_random_and_parse_back() -> None:
    seen = set()
    for kind in (LinkKind.CARD, LinkKind.STAFF_INVITE, LinkKind.REFERRAL):
        for _ in range(200):
            payload = new_payload(kind)
            assert PAYLOAD_RE.match(payload) and len(payload) <= 64
            assert parse_payload(payload) == (kind, payload)
            seen.add(payload)
    assert len(seen) == 600
    with pytest.raises(ValueError):
        new_payload(LinkKind.JOIN)  # a join link's payload is its source tag


@given(st.text(max_size=80))
def test_parse_payload_never_raises_and_accepts_only_the_alphabet(text: str) -> None:
    parsed = parse_payload(text)
    if parsed is not None:
        assert PAYLOAD_RE.match(text) and parsed[1] == text


def test_card_numbers_are_luhn_valid_and_typo_proof() -> None:
    for _ in range(500):
        number = new_card_number()
        assert len(number) == 8 and number.isdigit() and number[0] != "0"
        assert normalize_card_number(format_card_number(number)) == number
        assert normalize_card_number(number[:4] + "-" + number[4:]) == number
        # Any single mistyped digit is caught by the check digit.
        for index in range(8):
            wrong = str((int(number[index]) + 1) % 10)
            assert normalize_card_number(number[:index] + wrong + number[index + 1 :]) is None


@pytest.mark.parametrize(
    "text", ["", "1234567", "123456789", "abcdefgh", "１２３４５６７８", "1234 567x"]
)
def test_bad_card_numbers(text: str) -> None:
    assert normalize_card_number(text) is None


def test_luhn_known_value() -> None:
    assert luhn_digit("7992739871") == "3"


def test_card_identity_pairs_differ() -> None:
    (n1, p1), (n2, p2) = new_card_identity(), new_card_identity()
    assert p1 != p2 and p1.startswith("c_") and n1.isdigit() and n2.isdigit()


def test_bulk_card_identities_redraw_colliding_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only three numbers to draw from: every later draw collides until the set is full.
    draws = iter(["11111116", "11111116", "22222224", "11111116", "22222224", "33333332"])
    monkeypatch.setattr(tokens, "new_card_number", lambda: next(draws))
    cards = tokens.distinct_card_identities(3)
    assert sorted(number for number, _ in cards) == ["11111116", "22222224", "33333332"]
    assert len({payload for _, payload in cards}) == 3
    draws = iter(["11111116", "22222224", "33333332"])
    assert [n for n, _ in tokens.distinct_card_identities(1, {"11111116", "22222224"})] == [
        "33333332"
    ]


# --- birthdays -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31.12.1990", date(1990, 12, 31)),
        ("1.2.1985", date(1985, 2, 1)),
        ("29/02/2000", date(2000, 2, 29)),
        ("1990-12-31", date(1990, 12, 31)),
        (" 05-06-1977 ", date(1977, 6, 5)),
    ],
)
def test_birthdays_parse(text: str, expected: date) -> None:
    assert parse_birthday(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("tomorrow", "format"),
        ("31.12.90", "format"),
        ("1990.12.31", "format"),
        ("31.13.1990", "calendar"),
        ("29.02.2001", "calendar"),
        ("00.01.1990", "calendar"),
        ("24.11.2026", "future"),
        ("01.01.1900", "past"),
        ("３１.１２.１９９０", "format"),
        ("31..12.1990", "format"),
    ],
)
def test_bad_birthdays(text: str, reason: str) -> None:
    with pytest.raises(DateError) as caught:
        parse_birthday(text, TODAY)
    assert caught.value.reason == reason


@given(st.text(max_size=30))
def test_birthday_parser_only_raises_date_error(text: str) -> None:
    try:
        born = parse_birthday(text, TODAY)
    except DateError:
        return
    assert born <= TODAY


# --- phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+380 (67) 123-45-67", "+380671234567"),
        ("380671234567", "+380671234567"),
        ("+66 81 234 5678", "+66812345678"),
        ("12345", None),
        ("+1 555 CALL NOW", None),
        ("٠٦٧١٢٣٤٥٦٧", None),
        ("+" + "9" * 16, None),
    ],
)
def test_contact_phone(text: str, expected: str | None) -> None:
    assert contact_phone(text) == expected


def test_mask_phone_hides_the_middle() -> None:
    masked = mask_phone("+380671234567")
    assert masked.startswith("+38067") and masked.endswith("67") and "1234" not in masked
    assert mask_phone(None) == "—"


# --- settings --------------------------------------------------------------------------------


def settings_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for key in (
        "BOT_TOKEN",
        "BOT_API_URL",
        "BOT_PROXY",
        "DATABASE_URL",
        "OWNER_IDS",
        "SHOP_NAME",
        "TIMEZONE",
        "DEFAULT_LOCALE",
        "LOG_LEVEL",
        "PROGRAM_FILE",
    ):
        monkeypatch.delenv(key, raising=False)
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def test_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings_env(monkeypatch, BOT_TOKEN=TOKEN)
    settings = load_settings(env_file=None)
    assert settings.database_path == "loyalty.db"
    assert settings.bot_api_url is None
    assert settings.owner_ids == frozenset()
    assert str(settings.timezone) == "UTC" and settings.default_locale == "en"
    assert settings.program_file.name == "program.toml" and settings.program_file.exists()


def test_settings_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    settings_env(
        monkeypatch,
        BOT_TOKEN=f" {TOKEN} ",
        BOT_API_URL="http://127.0.0.1:8081/",
        DATABASE_URL="sqlite:////var/lib/loyalty/shop.db",
        OWNER_IDS="12, 34,,56",
        TIMEZONE="Asia/Bangkok",
        DEFAULT_LOCALE="TH",
        LOG_LEVEL="debug",
    )
    settings = load_settings(env_file=None)
    assert settings.bot_token == TOKEN
    assert settings.bot_api_url == "http://127.0.0.1:8081"
    assert settings.database_path == "/var/lib/loyalty/shop.db"
    assert settings.owner_ids == frozenset({12, 34, 56})
    assert (str(settings.timezone), settings.default_locale, settings.log_level) == (
        "Asia/Bangkok",
        "th",
        "DEBUG",
    )


def test_settings_from_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_env(monkeypatch)
    env_file = tmp_path / ".env"
    env_file.write_text(f"BOT_TOKEN={TOKEN}\nSHOP_NAME=Pekara\n", encoding="utf-8")
    settings = load_settings(env_file=str(env_file))
    assert settings.shop_name == "Pekara"


def test_settings_collects_every_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    settings_env(
        monkeypatch,
        BOT_TOKEN="123:abc",
        DATABASE_URL="mysql://x",
        OWNER_IDS="1,-2",
        TIMEZONE="Nowhere/City",
        DEFAULT_LOCALE="de",
        LOG_LEVEL="LOUD",
        BOT_API_URL="not a url",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    assert [p.variable for p in caught.value.problems] == [
        "BOT_TOKEN",
        "BOT_API_URL",
        "DATABASE_URL",
        "OWNER_IDS",
        "TIMEZONE",
        "DEFAULT_LOCALE",
        "LOG_LEVEL",
    ]


@pytest.mark.parametrize("url", ["sqlite://x.db", "sqlite:///", "postgresql://h/db", "x.db"])
def test_bad_database_urls(url: str) -> None:
    with pytest.raises(ValueError):
        parse_database_url(url)


# --- program file ----------------------------------------------------------------------------


def test_shipped_program_loads() -> None:
    program = load_program(Path(__file__).resolve().parent.parent / "program.toml")
    assert program.welcome_bonus == 0
    assert [t.name for t in program.tiers] == ["Bronze", "Silver", "Gold"]
    assert program.tier_for(0).name == "Bronze"
    assert program.tier_for(50_000).name == "Silver"
    assert program.tier_for(10**9).name == "Gold"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"welcome_bonus": -1}, "welcome_bonus"),
        ({"welcome_bonus": 1.5}, "welcome_bonus"),
        ({"welcome_bonus": True}, "welcome_bonus"),
        ({"tiers": []}, "tiers"),
        ({"tiers": [{"name": "A", "spend": 5}]}, "tiers[1].spend"),
        ({"tiers": [{"name": "A", "spend": 0}, {"name": "B", "spend": 0}]}, "tiers[2].spend"),
        ({"tiers": [{"name": "", "spend": 0}]}, "tiers[1].name"),
        ({"tiers": [{"name": "A", "spend": 0}, {"name": "B", "spend": "1e3"}]}, "tiers[2].spend"),
        ({"tiers": [{"name": "A", "spend": 0}, {"name": "B", "spend": 1.001}]}, "tiers[2].spend"),
        ({"welcom_bonus": 5}, "welcom_bonus"),
        ({"earn_rate": 1e30}, "earn_rate"),
        ({"tiers": [{"name": "A", "spend": 0}, {"name": "A", "spend": 5}]}, "tiers[2].name"),
        ({"rewards": [{"name": "Tea", "cost": 5}, {"name": "Tea", "cost": 9}]}, "rewards[2].name"),
        ({"tiers": [{"name": f"T{i}", "spend": i} for i in range(11)]}, "tiers"),
        ({"rewards": [{"name": f"R{i}", "cost": 1 + i} for i in range(31)]}, "rewards"),
        ({"tiers": [{"name": "A", "spend": 0}, {"name": "B", "spend": 1e30}]}, "tiers[2].spend"),
    ],
)
def test_program_errors_name_the_key(data: dict, key: str) -> None:
    with pytest.raises(ProgramError) as caught:
        parse_program(data, Path("p.toml"))
    assert caught.value.key == key


def test_program_limits_and_duplicates_say_so() -> None:
    tiers = [{"name": "Gold", "spend": 0}, {"name": "Gold", "spend": 5}]
    with pytest.raises(ProgramError) as caught:
        parse_program({"tiers": tiers}, Path("p.toml"))
    assert caught.value.problem == "is used by another tier"
    rewards = [{"name": "Tea", "cost": 5}, {"name": "Tea", "cost": 9}]
    with pytest.raises(ProgramError) as caught:
        parse_program({"rewards": rewards}, Path("p.toml"))
    assert caught.value.problem == "is used by another reward"
    many = [{"name": f"R{i}", "cost": 1 + i} for i in range(MAX_REWARDS)]
    assert len(parse_program({"rewards": many}, Path("p.toml")).rewards) == MAX_REWARDS
    with pytest.raises(ProgramError) as caught:
        parse_program({"rewards": [*many, {"name": "One more", "cost": 1}]}, Path("p.toml"))
    assert caught.value.params == {"max": MAX_REWARDS}
    tiers = [{"name": f"T{i}", "spend": i} for i in range(MAX_TIERS)]
    assert len(parse_program({"tiers": tiers}, Path("p.toml")).tiers) == MAX_TIERS


def test_program_file_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("welcome_bonus = = 3", encoding="utf-8")
    with pytest.raises(ProgramError) as caught:
        load_program(path)
    assert caught.value.key == "TOML"


def test_program_file_with_a_huge_number(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("earn_rate = 1e30\n", encoding="utf-8")
    with pytest.raises(ProgramError) as caught:
        load_program(path)
    assert caught.value.key == "earn_rate"


@pytest.mark.parametrize(
    ("value", "minor"), [(12, 1200), (12.5, 1250), ("12.50", 1250), ("0", 0), (499.99, 49999)]
)
def test_money_to_minor(value: object, minor: int) -> None:
    assert money_to_minor(value) == minor


@pytest.mark.parametrize(
    "value", ["nan", "inf", "-1", "1.001", True, None, [1], "1e2x", 1e30, -1e30]
)
def test_money_to_minor_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        money_to_minor(value)


# --- the card picture ------------------------------------------------------------------------


def view(**changes: str) -> CardView:
    values = {
        "shop_name": "Кав'ярня «Зерно»",
        "holder": "สมชาย ใจดี",
        "card_number": "1234 5678",
        "balance": "120 балів",
        "tier": "Срібний",
        "link": "https://t.me/loyalty_test_bot?start=c_" + "A" * 22,
        "label_holder": "Власник",
        "label_number": "Номер",
        "label_balance": "Баланс",
        "label_tier": "Рівень",
        "footer": "Покажіть QR-код на касі",
    }
    values.update(changes)
    return CardView(**values)


def test_card_png_decodes_to_its_link() -> None:
    png = render_card(view())
    image = Image.open(BytesIO(png))
    assert image.format == "PNG" and image.size == (1200, 740)
    assert decode_qr(png) == [view().link]


def test_card_with_extreme_names_still_renders() -> None:
    long_name = "Åsa-Marie " * 30 + "🙂 <b>&amp;"
    png = render_card(view(holder=long_name, shop_name="Ш" * 200))
    assert decode_qr(png) == [view().link]


def test_stamp_card_draws_circles_and_still_decodes() -> None:
    png = render_card(view(stamps="7/10", label_tier="Штампи"))
    assert decode_qr(png) == [view().link]
    image = Image.open(BytesIO(png)).convert("RGB")
    # The first circle is filled with the accent colour, the last one is not.
    assert image.getpixel((60 + 20, 596 + 24)) == (242, 183, 5)
    assert image.getpixel((60 + 9 * 55 + 20, 596 + 24)) != (242, 183, 5)
    assert view(stamps="7/10").cache_key() != view(stamps="8/10").cache_key()
    assert decode_qr(render_card(view(stamps="3/200"))) == [view().link]


def test_cache_key_follows_content() -> None:
    assert view().cache_key() == view().cache_key()
    assert view().cache_key() != view(balance="121 балів").cache_key()
    assert view().cache_key() != view(label_balance="Balance").cache_key()


@given(st.sampled_from(LANGUAGES), st.integers(min_value=-(10**15), max_value=10**15))
def test_numbers_read_as_babel_writes_them(language: str, value: int) -> None:
    """The grouping shortcut for integers and money gives Babel's own output."""
    formats = number_formats(language)
    assert formats.group is not None  # every shipped language takes the shortcut
    parsed = formats.locale
    assert formats.number(value) == formats.integer.apply(value, parsed)
    assert formats.amount(value) == formats.money.apply(Decimal(value) / 100, parsed)
