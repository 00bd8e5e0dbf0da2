"""BOT_PROXY: every Bot API call goes through the proxy, and a malformed one stops start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiogram import Bot

from bot.config import ConfigError, load_settings
from bot.factory import create_bot
from bot.telegram.session import create_session
from tests.conftest import make_settings
from tests.fakeapi import TOKEN, FakeTelegram
from tests.proxies import Proxy
from tests.test_units import settings_env


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def origin(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname and parts.port
    return parts.hostname, parts.port


@pytest.mark.parametrize("scheme", ["http", "socks5"])
async def test_calls_go_through_the_proxy(fake: FakeTelegram, scheme: str) -> None:
    fake.user(42, "Olena")
    async with Proxy(scheme) as proxy:
        session = create_session(fake.base_url, proxy=proxy.url)
        bot = Bot(TOKEN, session=session)
        try:
            assert (await bot.send_message(42, "через проксі")).text == "через проксі"
            assert await bot.get_updates(timeout=0) == []
        finally:
            await session.close()
    assert [c.method for c in fake.requests] == ["sendMessage", "getUpdates"]
    # Both calls came through the proxy, to the fake server (one tunnel, kept alive).
    assert proxy.tunnels == [origin(fake.base_url)]


async def test_the_bot_takes_its_proxy_from_the_settings(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    fake.user(42, "Olena")
    async with Proxy("http") as proxy:
        bot = create_bot(make_settings(tmp_path, fake.base_url, bot_proxy=proxy.url))
        try:
            await bot.send_message(42, "hi")
        finally:
            await bot.session.close()
    assert proxy.tunnels == [origin(fake.base_url)]


@pytest.mark.parametrize(
    "value",
    ["socks5://127.0.0.1:1080", "socks4://proxy.lan:1080", "http://user:pa%40ss@proxy:3128"],
)
def test_proxy_settings(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    settings_env(monkeypatch, BOT_TOKEN=TOKEN, BOT_PROXY=f" {value} ")
    assert load_settings(env_file=None).bot_proxy == value


def test_no_proxy_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    settings_env(monkeypatch, BOT_TOKEN=TOKEN)
    assert load_settings(env_file=None).bot_proxy is None


@pytest.mark.parametrize(
    "value",
    [
        "proxy.lan:1080",  # no scheme
        "https://proxy.lan:443",  # aiohttp-socks has no TLS to the proxy
        "socks5://proxy.lan",  # no port
        "socks5://:1080",  # no host
        "http://proxy.lan:99999",
        "ftp://proxy.lan:21",
    ],
)
def test_malformed_proxies_are_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    settings_env(monkeypatch, BOT_TOKEN=TOKEN, BOT_PROXY=value)
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    [problem] = caught.value.problems
    assert problem.variable == "BOT_PROXY" and problem.params == {"value": value}


def test_the_error_does_not_repeat_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    settings_env(monkeypatch, BOT_TOKEN=TOKEN, BOT_PROXY="socks5://shop:secret@proxy.lan")
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    assert caught.value.problems[0].params == {"value": "socks5://shop:***@proxy.lan"}
