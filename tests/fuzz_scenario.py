"""The fuzz run itself: setting the shop up, legitimate flows interleaved with fuzz updates,
and what is left afterwards (`run` returns a `Report`; tests/test_fuzz.py asserts on it).

Generation draws only from one seeded `random.Random`, and the throttle's clock moves only
with the updates, so every run sends the same sequence of updates; the bot's own random ids
differ between runs, but the fuzzer picks among them by position, never by value.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import itertools
import logging
import random
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from PIL import Image

import bot.services.delivery
from bot.app import Application
from bot.domain.program.model import Program, Reward, Tier
from bot.i18n import LANGUAGES
from bot.keyboards.common import OpCb
from bot.keyboards.customer import MENU_BALANCE, MENU_CARD, MENU_HISTORY, MENU_INVITE, SKIP
from tests.conftest import OWNER_ID, make_settings
from tests.fakeapi import SentMessage
from tests.fuzz_updates import (
    FUZZ_CASHIERS,
    JOINED_CUSTOMERS,
    LEGIT_CASHIERS,
    LEGIT_CUSTOMERS,
    SEEDED_COUNT,
    SEEDED_FIRST,
    UpdateMaker,
    jpeg,
    qr_png,
)
from tests.fuzzing import (
    CardRenders,
    Delivery,
    Driver,
    ErrorLog,
    FuzzTelegram,
    TickClock,
    buttons_data,
    callback_classes,
    commands_of,
    legitimate_presses,
    run_on_clock,
)
from tests.helpers import seed_customers

SEED = 20240613
# One legitimate step (by one of the two desk cashiers) for every this many fuzz updates.
FUZZ_PER_LEGIT_STEP = 12
PROGRAM = Program(
    welcome_bonus=50,
    tiers=(Tier("Bronze", 0), Tier("Silver", 50_000), Tier("Gold", 150_000)),
    rewards=(Reward("Coffee", 40), Reward("Cake", 90)),
    cause="Trees for the park",
    # No referral program: a bonus would be an entry nobody pressed a button for.
    referral_bonus=0,
    referral_friend_bonus=0,
)


@dataclass
class Expected:
    """An entry a legitimate flow booked, as the flow's own chat showed it."""

    operation_id: str
    customer_id: int
    kind: str
    amount: int
    operator_id: int


@dataclass
class Report:
    deliveries: list[Delivery]
    errors: list[logging.LogRecord]
    server_errors: list[str]
    ledger: list[dict[str, Any]]
    customers: dict[int, dict[str, Any]]
    balance_mismatches: list[Any]
    lot_mismatches: list[Any]
    expected: list[Expected]
    permitted: set[str]
    flow_failures: list[str]
    joined_users: set[int]
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class FlowFailed(Exception):
    pass


class Fuzzer(UpdateMaker):
    def __init__(self, app: Application, fake: FuzzTelegram, clock: TickClock) -> None:
        super().__init__(fake, Driver(fake, app.dispatcher, app.bot, clock), random.Random(SEED))
        self.app = app
        self.callbacks = callback_classes()
        self.commands = sorted(commands_of(app.dispatcher) | {"start", "nosuchcommand"})
        self.menu_labels = [
            app.shop.i18n.gettext(label, locale=lang)
            for label in (MENU_CARD, MENU_BALANCE, MENU_HISTORY, MENU_INVITE, SKIP)
            for lang in LANGUAGES
        ]
        self.expected: list[Expected] = []
        self.flow_failures: list[str] = []
        self.joined: set[int] = set()
        self.in_flow: dict[int, bool] = {}

    # ------------------------------------------------------------------ setup

    async def join(self, telegram_id: int) -> SentMessage:
        user = self.user(telegram_id)
        self.fake.send_message(user, "/start")
        start = await self.drive.one("setup")
        self.joined.add(telegram_id)
        card = next(m for c in start.calls if (m := self.fake.sent(c)) and m.kind == "photo")
        for _ in range(2):  # skip the phone and birthday steps
            keyboard = self.fake.current_reply_keyboard(telegram_id)
            assert keyboard, self.fake.dump()
            self.fake.send_message(user, keyboard[-1]["text"])
            await self.drive.one("setup")
        return card

    async def hire(self, telegram_id: int) -> None:
        owner = self.user(OWNER_ID)
        self.fake.send_message(owner, "/staff")
        overview = self.fake.sent((await self.drive.one("setup")).calls[-1])
        assert overview is not None
        self.fake.press(owner, overview, overview.callback("Invite"))
        invite = await self.drive.one("setup")
        link = next(
            m.content.split()[-1]
            for c in invite.calls
            if (m := self.fake.sent(c)) and "start=s_" in m.content
        )
        self.fake.send_message(self.user(telegram_id), "/start " + link.split("start=")[1])
        joined = await self.drive.one("setup")
        contents = [m.content for c in joined.calls if (m := self.fake.sent(c))]
        assert any("cashier" in text for text in contents), contents

    async def setup(self) -> None:
        storage = self.app.shop.storage
        card_images: list[bytes] = []
        for telegram_id in (*LEGIT_CUSTOMERS, *JOINED_CUSTOMERS, *FUZZ_CASHIERS):
            card = await self.join(telegram_id)
            customer = await storage.customer_by_telegram(telegram_id)
            assert customer is not None
            if telegram_id not in LEGIT_CUSTOMERS:
                self.card_numbers[telegram_id] = customer.card_number
                self.card_payloads.append(customer.card_payload)
                card_images.append(jpeg(card.file_bytes or b""))
        for telegram_id in (*LEGIT_CASHIERS, *FUZZ_CASHIERS):
            await self.hire(telegram_id)
        database = self.app.shop.settings.database_path
        for telegram_id in seed_customers(database, SEEDED_COUNT, SEEDED_FIRST):
            self.user(telegram_id)
        with contextlib.closing(sqlite3.connect(database)) as db:
            for telegram_id, number, payload in db.execute(
                "SELECT telegram_id, card_number, card_payload FROM customers "
                "WHERE telegram_id >= ?",
                (SEEDED_FIRST,),
            ):
                self.card_numbers[telegram_id] = number
                self.card_payloads.append(payload)
        self.images = [
            *card_images[:4],
            jpeg(card_images[0], rotate=90),
            qr_png("https://example.com/not-a-card"),
            qr_png(f"https://t.me/{self.fake.bot_username}?start=c_forgedforgedforged00"),
            qr_png(f"https://t.me/{self.fake.bot_username}?start=s_forgedforgedforged00"),
            qr_png("https://t.me/some_other_bot?start=c_AAAAAAAAAAAAAAAAAAAAAA"),
            jpeg(qr_png("hello")),
        ]
        blank = io.BytesIO()
        Image.new("RGB", (320, 240), "white").save(blank, format="PNG")
        self.images.append(blank.getvalue())

    # ------------------------------------------------------------------ legitimate flows

    async def step(self, telegram_id: int) -> tuple[Delivery, list[SentMessage]]:
        """Deliver the queued update; the messages it sent or edited in the sender's chat."""
        delivery = await self.drive.one(f"legit {telegram_id}")
        self.harvest([delivery])
        return delivery, [m for c in delivery.replies() if (m := self.fake.sent(c))]

    @staticmethod
    def one_reply(replies: list[SentMessage], expect: str, what: str) -> SentMessage:
        if len(replies) != 1 or expect not in replies[0].content:
            raise FlowFailed(
                f"{what}: expected one reply with {expect!r}, got "
                f"{[m.content[:80] for m in replies]}"
            )
        return replies[0]

    @staticmethod
    def data(message: SentMessage, prefix: str) -> str:
        """The callback data of the message's first button whose data starts with prefix."""
        for data in buttons_data([message]):
            if data.startswith(prefix):
                return data
        raise FlowFailed(f"no {prefix!r} button on {message.content[:80]!r}")

    async def open_card(self, cashier: int, customer_id: int) -> SentMessage:
        customer = await self.app.shop.storage.customer_by_telegram(customer_id)
        assert customer is not None
        self.fake.send_message(self.user(cashier), customer.card_number)
        _, replies = await self.step(cashier)
        return self.one_reply(replies, "Type the purchase amount", "opening the card")

    async def purchase(self, cashier: int, customer_id: int) -> AsyncIterator[None]:
        storage = self.app.shop.storage
        await self.open_card(cashier, customer_id)
        yield
        amount = self.rng.choice(["25", "12.50", "80", "7,20"])
        self.fake.send_message(self.user(cashier), amount)
        _, replies = await self.step(cashier)
        confirmation = self.one_reply(replies, "Confirm?", f"purchase of {amount}")
        confirm = self.data(confirmation, "op:")
        operation = OpCb.unpack(confirm).id
        pending = await storage.pending(operation)
        assert pending is not None
        yield
        self.fake.press(self.user(cashier), confirmation, confirm)
        await self.step(cashier)
        self.finished.append(confirm)
        await self.booked(operation, pending.customer_id, "purchase", pending.points, cashier)
        if "Booked" not in confirmation.content:
            raise FlowFailed(f"purchase {operation}: the cashier reads {confirmation.content!r}")

    async def redeem(self, cashier: int, customer_id: int) -> AsyncIterator[None]:
        user = self.user(cashier)
        view = await self.open_card(cashier, customer_id)
        yield
        self.fake.press(user, view, self.data(view, "desk:redeem:"))
        await self.step(cashier)
        yield
        self.fake.send_message(user, "100")
        _, replies = await self.step(cashier)
        ask = self.one_reply(replies, "Up to", "the bill of a redemption")
        yield
        self.fake.press(user, ask, self.data(ask, "desk:redeem_max:"))
        delivery, _ = await self.step(cashier)
        request = next(
            (m for c in delivery.calls if (m := self.fake.sent(c)) and m.chat_id == customer_id),
            None,
        )
        if request is None:
            raise FlowFailed(f"redemption: no request reached customer {customer_id}")
        yes = self.data(request, "op:")
        operation = OpCb.unpack(yes).id
        pending = await self.app.shop.storage.pending(operation)
        assert pending is not None
        yield
        if not request.buttons():
            raise FlowFailed(
                f"the request {operation} was closed before the customer answered: "
                f"{request.content!r}"
            )
        self.fake.press(self.user(customer_id), request, yes)
        await self.step(customer_id)
        self.finished.append(yes)
        await self.booked(operation, pending.customer_id, "redeem", -pending.points, cashier)

    async def booked(
        self, operation: str, customer_id: int, kind: str, amount: int, cashier: int
    ) -> None:
        entry = await self.app.shop.storage.entry_by_operation(operation)
        if entry is None:
            raise FlowFailed(f"{kind} {operation} was confirmed but not booked")
        self.expected.append(Expected(operation, customer_id, kind, amount, cashier))

    async def desk(self, cashier: int, customers: tuple[int, ...]) -> AsyncIterator[None]:
        """One legitimate cashier, forever: a purchase, then spending, customer by customer."""
        for n in itertools.count():
            customer = customers[(n // 2) % len(customers)]
            flow = self.purchase if n % 2 == 0 else self.redeem
            self.in_flow[cashier] = True
            try:
                async for _ in flow(cashier, customer):
                    yield
            except FlowFailed as failure:
                self.flow_failures.append(f"cashier {cashier}, customer {customer}: {failure}")
            self.in_flow[cashier] = False
            yield

    # ------------------------------------------------------------------ the run

    async def fuzz(self, updates: int) -> None:
        half = len(LEGIT_CUSTOMERS) // 2
        desks = {
            LEGIT_CASHIERS[0]: self.desk(LEGIT_CASHIERS[0], LEGIT_CUSTOMERS[:half]),
            LEGIT_CASHIERS[1]: self.desk(LEGIT_CASHIERS[1], LEGIT_CUSTOMERS[half:]),
        }
        fuzzed = 0
        while fuzzed < updates:
            if self.rng.randrange(FUZZ_PER_LEGIT_STEP) == 0:
                await anext(desks[self.rng.choice(LEGIT_CASHIERS)])
                continue
            self.fuzz_update()
            delivered = await self.drive.deliver("fuzz")
            fuzzed += len(delivered)
            self.harvest(delivered)
        for cashier, desk in desks.items():  # finish the flows under way
            while self.in_flow.get(cashier):
                await anext(desk)
            await desk.aclose()


async def run(tmp: Path, updates: int) -> Report:
    # What earlier tests left unreachable is collected now, not in the middle of this run,
    # where a collected object's complaint (an unclosed session) would count against it.
    gc.collect()
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    began = time.monotonic()
    fake = FuzzTelegram()
    await fake.start()
    settings = make_settings(tmp, fake.base_url, backup_dir=tmp / "backups")
    app = await Application.create(settings, PROGRAM)
    clock = TickClock()
    run_on_clock(app.dispatcher, app.bot, clock)
    renders = CardRenders()
    patch = mock.patch.object(bot.services.delivery, "render_card", renders)
    patch.start()
    try:
        await app.prepare()
        if app.jobs.startup is not None:
            await asyncio.gather(app.jobs.startup, return_exceptions=True)
        # Nothing may act on its own schedule: every call must belong to an update.
        await app.jobs.stop()
        await app.broadcaster.stop()
        fuzzer = Fuzzer(app, fake, clock)
        await fuzzer.setup()
        renders.reuse = True
        await fuzzer.fuzz(updates)
        storage = app.shop.storage
        balances = await storage.balance_mismatches()
        lots = await storage.lot_mismatches()
    finally:
        patch.stop()
        await app.close()
        await fake.stop()
        logging.getLogger().removeHandler(errors)
    with contextlib.closing(sqlite3.connect(settings.database_path)) as db:
        db.row_factory = sqlite3.Row
        ledger = [dict(r) for r in db.execute("SELECT * FROM ledger ORDER BY id")]
        customers = {r["id"]: dict(r) for r in db.execute("SELECT * FROM customers")}
    return Report(
        deliveries=[d for d in fuzzer.drive.deliveries if d.label != "setup"],
        errors=errors.records,
        server_errors=fake.server_errors,
        ledger=ledger,
        customers=customers,
        balance_mismatches=balances,
        lot_mismatches=lots,
        expected=fuzzer.expected,
        permitted=legitimate_presses(fuzzer.drive.deliveries),
        flow_failures=fuzzer.flow_failures,
        joined_users=fuzzer.joined,
        counts={**fuzzer.counts, "cards drawn": renders.count},
        seconds=time.monotonic() - began,
    )
