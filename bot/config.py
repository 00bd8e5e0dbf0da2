"""Settings from the environment and an optional .env file, validated with plain-language errors."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp_socks.utils import parse_proxy_url
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.catalogs import LANGUAGES
from bot.domain.marks import N_
from bot.domain.parsing import default_region, is_region

TOKEN_RE = re.compile(r"^\d{5,20}:[A-Za-z0-9_-]{30,64}$")
URL_RE = re.compile(r"^https?://[^\s/]+(/[^\s]*)?$")
DEFAULT_PROGRAM = Path(__file__).resolve().parent.parent / "program.toml"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True, slots=True)
class Problem:
    """One configuration problem: the variable, an untranslated message and its parameters."""

    variable: str
    message: str
    params: dict[str, str] = field(default_factory=dict)


class ConfigError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.variable for p in problems))
        self.problems = problems


class RawSettings(BaseSettings):
    """Strings as found in the environment; validation happens in `load_settings`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str = ""
    bot_api_url: str = ""
    bot_proxy: str = ""
    database_url: str = "sqlite:///loyalty.db"
    owner_ids: str = ""
    shop_name: str = "Our shop"
    timezone: str = "UTC"
    default_locale: str = "en"
    phone_region: str = ""
    log_level: str = "INFO"
    program_file: str = ""
    broadcast_rate: str = "25"
    backup_dir: str = "backups"
    backup_keep: str = "7"
    cashier_bookings_per_minute: str = "30"
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_listen: str = "127.0.0.1:8080"


@dataclass(frozen=True, slots=True)
class Settings:
    bot_token: str
    bot_api_url: str | None
    database_path: str
    owner_ids: frozenset[int]
    shop_name: str
    timezone: ZoneInfo
    default_locale: str
    log_level: str
    program_file: Path
    broadcast_rate: float = 25.0  # promotion messages per second, under Telegram's ~30
    backup_dir: Path | None = None  # daily backups go here; None = no daily backups
    backup_keep: int = 7
    cashier_bookings_per_minute: int = 30
    webhook_url: str | None = None  # set: Telegram pushes updates here instead of polling
    webhook_secret: str = ""
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080
    # Local phone numbers ('067 123 45 67') are read as this country's; None: only +numbers.
    phone_region: str | None = None
    # Every Bot API call goes through this proxy (http://, socks4:// or socks5://).
    bot_proxy: str | None = None


def parse_database_url(url: str) -> str:
    """`sqlite:///relative.db`, `sqlite:////absolute.db` or `sqlite:///:memory:` -> a path."""
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ValueError(url)
    path = url[len(prefix) :]
    if not path or path.endswith("/") or "\x00" in path:
        raise ValueError(url)
    return path


def is_proxy_url(url: str) -> bool:
    """Whether aiogram's proxy support (aiohttp-socks) can use `url`: a scheme it knows, a
    host and a port. Checked by the same parser it uses, so start-up fails, not the first call."""
    try:
        parse_proxy_url(url)
    except ValueError:
        return False
    return True


def without_password(url: str) -> str:
    """`url` fit for an error message: a password in it is replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def load_settings(env_file: str | None = ".env") -> Settings:
    raw = RawSettings(_env_file=env_file)  # type: ignore[call-arg]
    problems: list[Problem] = []

    token = raw.bot_token.strip()
    if not token:
        problems.append(
            Problem(
                "BOT_TOKEN",
                N_(
                    "BOT_TOKEN is not set. Create a bot with @BotFather in Telegram "
                    "(/newbot), then put the token it gives you in BOT_TOKEN or in the .env file."
                ),
            )
        )
    elif not TOKEN_RE.match(token):
        problems.append(
            Problem(
                "BOT_TOKEN",
                N_(
                    "BOT_TOKEN does not look like a bot token (it should look like "
                    "123456789:AA...). Copy it again from @BotFather (/mybots, API Token)."
                ),
            )
        )

    api_url = raw.bot_api_url.strip().rstrip("/") or None
    if api_url and not URL_RE.match(api_url):
        problems.append(
            Problem(
                "BOT_API_URL",
                N_("BOT_API_URL must be an http:// or https:// address, got {value}."),
                {"value": api_url},
            )
        )

    proxy = raw.bot_proxy.strip() or None
    if proxy and not is_proxy_url(proxy):
        problems.append(
            Problem(
                "BOT_PROXY",
                N_(
                    "BOT_PROXY must look like socks5://host:1080, socks4://host:1080 or "
                    "http://host:3128 (user:password@ before the host if it needs them), "
                    "got {value}."
                ),
                {"value": without_password(proxy)},
            )
        )

    database_path = ""
    try:
        database_path = parse_database_url(raw.database_url.strip())
    except ValueError:
        problems.append(
            Problem(
                "DATABASE_URL",
                N_(
                    "DATABASE_URL {value} is not supported. Use sqlite:///loyalty.db "
                    "(a file next to the bot) or sqlite:////full/path/loyalty.db."
                ),
                {"value": raw.database_url},
            )
        )

    owners: set[int] = set()
    for part in raw.owner_ids.replace(" ", "").split(","):
        if not part:
            continue
        if part.isascii() and part.isdigit() and 0 < int(part) < 2**52:
            owners.add(int(part))
        else:
            problems.append(
                Problem(
                    "OWNER_IDS",
                    N_(
                        "OWNER_IDS must be Telegram user ids separated by commas; "
                        "{value} is not one."
                    ),
                    {"value": part},
                )
            )

    try:
        zone = ZoneInfo(raw.timezone.strip())
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
        problems.append(
            Problem(
                "TIMEZONE",
                N_("TIMEZONE {value} is not a known time zone; use a name like Europe/Kyiv."),
                {"value": raw.timezone},
            )
        )

    locale = raw.default_locale.strip().lower()
    if locale not in LANGUAGES:
        problems.append(
            Problem(
                "DEFAULT_LOCALE",
                N_("DEFAULT_LOCALE must be one of {choices}, got {value}."),
                {"value": raw.default_locale, "choices": ", ".join(LANGUAGES)},
            )
        )

    region_text = raw.phone_region.strip().upper()
    phone_region = region_text or default_region(locale)
    if region_text == "NONE":
        phone_region = None
    elif region_text and not is_region(region_text):
        problems.append(
            Problem(
                "PHONE_REGION",
                N_(
                    "PHONE_REGION must be a two-letter country code like UA, RU, MK or TH "
                    "(or none), got {value}."
                ),
                {"value": raw.phone_region},
            )
        )

    level = raw.log_level.strip().upper()
    if level not in LOG_LEVELS:
        problems.append(
            Problem(
                "LOG_LEVEL",
                N_("LOG_LEVEL must be one of {choices}, got {value}."),
                {"value": raw.log_level, "choices": ", ".join(LOG_LEVELS)},
            )
        )

    rate = 0.0
    with contextlib.suppress(ValueError):
        rate = float(raw.broadcast_rate.strip())
    if not 0.1 <= rate <= 30:
        problems.append(
            Problem(
                "BROADCAST_RATE",
                N_(
                    "BROADCAST_RATE must be a number of messages per second from 0.1 to 30 "
                    "(Telegram allows about 30), got {value}."
                ),
                {"value": raw.broadcast_rate},
            )
        )

    keep = raw.backup_keep.strip()
    if not (keep.isascii() and keep.isdigit() and 1 <= int(keep) <= 1000):
        problems.append(
            Problem(
                "BACKUP_KEEP",
                N_(
                    "BACKUP_KEEP must be the number of daily backups to keep, 1 to 1000, "
                    "got {value}."
                ),
                {"value": raw.backup_keep},
            )
        )
    backup_dir = Path(raw.backup_dir.strip()) if raw.backup_dir.strip() else None
    bookings = raw.cashier_bookings_per_minute.strip()
    if not (bookings.isascii() and bookings.isdigit() and 1 <= int(bookings) <= 100_000):
        problems.append(
            Problem(
                "CASHIER_BOOKINGS_PER_MINUTE",
                N_(
                    "CASHIER_BOOKINGS_PER_MINUTE must be a whole number from 1 to 100000, "
                    "got {value}."
                ),
                {"value": raw.cashier_bookings_per_minute},
            )
        )

    webhook_url = raw.webhook_url.strip() or None
    webhook_secret = raw.webhook_secret.strip()
    host, _sep, port_text = raw.webhook_listen.strip().rpartition(":")
    port = int(port_text) if port_text.isascii() and port_text.isdigit() else 0
    if webhook_url is not None:
        if not webhook_url.startswith("https://") or not URL_RE.match(webhook_url):
            problems.append(
                Problem(
                    "WEBHOOK_URL",
                    N_("WEBHOOK_URL must be an https:// address Telegram can reach, got {value}."),
                    {"value": webhook_url},
                )
            )
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", webhook_secret):
            problems.append(
                Problem(
                    "WEBHOOK_SECRET",
                    N_(
                        "WEBHOOK_SECRET must be 16 to 256 letters, digits, _ or -, so Telegram "
                        "can prove the updates come from it."
                    ),
                )
            )
        if not host or not 1 <= port <= 65535:
            problems.append(
                Problem(
                    "WEBHOOK_LISTEN",
                    N_("WEBHOOK_LISTEN must look like 127.0.0.1:8080, got {value}."),
                    {"value": raw.webhook_listen},
                )
            )

    shop_name = raw.shop_name.strip()[:64] or "Our shop"
    program_file = Path(raw.program_file.strip()) if raw.program_file.strip() else DEFAULT_PROGRAM

    if problems:
        raise ConfigError(problems)
    return Settings(
        bot_token=token,
        bot_api_url=api_url,
        bot_proxy=proxy,
        database_path=database_path,
        owner_ids=frozenset(owners),
        shop_name=shop_name,
        timezone=zone,
        default_locale=locale,
        log_level=level,
        program_file=program_file,
        broadcast_rate=rate,
        backup_dir=backup_dir,
        backup_keep=int(keep) if keep.isascii() and keep.isdigit() else 7,
        cashier_bookings_per_minute=int(bookings),
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        webhook_host=host or "127.0.0.1",
        webhook_port=port or 8080,
        phone_region=phone_region,
    )
