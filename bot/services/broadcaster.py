"""Delivering promotions: the owner's text personalized per customer, sent through the outbox
at a steady rate, each recipient at most once, resuming after a restart. What the text may
contain is `bot.domain.promotions`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup

from bot.domain import standing as loyalty
from bot.domain.promotions import fill
from bot.domain.tokens import format_card_number
from bot.i18n import _
from bot.keyboards.customer import promotion
from bot.shop import Shop
from bot.telegram import pacing
from bot.telegram.notify import speaking
from bot.texts.common import holder_name, tier_name
from bot.texts.numbers import counting_stamps, money, number, points
from storage import Broadcast, BroadcastStatus, Customer, OutboxCounts

log = logging.getLogger(__name__)

PROGRESS_EVERY = 2.0  # seconds between edits of the owner's progress message
BATCH = 200
NETWORK_RETRIES = 3  # attempts when Telegram answers with a server error
MAX_BACKOFF = 60.0


async def personalize(shop: Shop, text: str, customer: Customer) -> str:
    """The owner's text with placeholders filled for one customer, in the current language."""
    standing = await loyalty.standing(shop.context, customer)
    upcoming = (
        _(
            "{amount} more to {tier}",
            amount=money(standing.next[1]),
            tier=tier_name(standing.next[0].name),
        )
        if standing.next
        else ""
    )
    values = {
        "name": holder_name(customer),
        "balance": points(customer.balance),
        "tier": tier_name(standing.tier.name),
        "next_tier": upcoming,
        "card": format_card_number(customer.card_number),
    }
    return fill(text, values)


def promotion_markup(broadcast: Broadcast) -> InlineKeyboardMarkup:
    link = (broadcast.button_text, broadcast.button_url) if broadcast.button_url else None
    return promotion(link)  # type: ignore[arg-type]


class RateLimiter:
    """Evenly spaced sends at `rate` per second, and one shared pause after a 429."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self.next_slot = 0.0
        self.paused_until = 0.0

    async def wait(self) -> None:
        while True:
            now = self.clock()
            start = max(self.next_slot, self.paused_until)
            if start <= now:
                self.next_slot = max(now, self.next_slot) + self.interval
                return
            await asyncio.sleep(start - now)

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + seconds)


def progress_text(broadcast: Broadcast, counts: OutboxCounts, rate: float, done: bool) -> str:
    total = max(counts.total, 1)
    share = counts.finished * 100 // total if counts.total else 100
    bar = "▓" * (share // 10) + "░" * (10 - share // 10)
    lines = [
        _("📣 Promotion #{id} sent.", id=broadcast.id)
        if done
        else _("📣 Sending promotion #{id}…", id=broadcast.id),
        f"{bar} {share}%",
        _(
            "Sent: {sent} of {total} · blocked the bot: {blocked} · failed: {failed}",
            sent=number(counts.sent),
            total=number(counts.total),
            blocked=number(counts.blocked),
            failed=number(counts.failed),
        ),
    ]
    if counts.skipped:
        lines.append(
            _(
                "Left out since sending began (promotions off, data deleted or unreachable): "
                "{count}",
                count=number(counts.skipped),
            )
        )
    if counts.unknown:
        lines.append(
            _(
                "Delivery not confirmed (a restart or no answer in time), not sent again: {count}",
                count=number(counts.unknown),
            )
        )
    if counts.holdout:
        lines.append(_("Held out for measuring: {count}", count=number(counts.holdout)))
    if not done and counts.pending:
        lines.append(_("About {seconds} s left", seconds=number(int(counts.pending / rate) + 1)))
    return "\n".join(lines)


class Broadcaster:
    """One loop sends every promotion, one message at a time through the rate limiter;
    receipts and other replies go out beside it, unaffected."""

    def __init__(self, bot: Bot, shop: Shop) -> None:
        self.bot = bot
        self.shop = shop
        self.limiter = RateLimiter(shop.settings.broadcast_rate)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.backoff = 1.0  # seconds after the first send whose fate is unknown
        self._unknown_in_row = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        # Promotions give way to replies in the bot's one pace (this task's context only).
        pacing.background.set(True)
        while True:
            try:
                broadcast = await self.shop.storage.start_due_broadcast(self.shop.context.now())
                if broadcast is not None:
                    await self.deliver(broadcast)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("broadcast loop failed; trying again shortly")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 5)

    async def deliver(self, broadcast: Broadcast) -> None:
        counting_stamps.set(self.shop.program.stamps)
        storage = self.shop.storage
        await self._report(broadcast, done=False)
        last_report = time.monotonic()
        while True:
            batch = await storage.next_recipients(broadcast.id, BATCH)
            if not batch:
                break
            for queued in batch:
                claim = await storage.claim_recipient(broadcast.id, queued.id)
                if claim.customer is None and not claim.skipped:
                    current = await storage.broadcast(broadcast.id)
                    if current is None or current.status is not BroadcastStatus.SENDING:
                        await self._report(broadcast, done=True)
                        return  # cancelled
                    continue
                if claim.customer is not None:
                    status, error = await self._send(broadcast, claim.customer)
                    await storage.settle_recipient(broadcast.id, queued.id, status, error)
                    if status == "blocked":
                        await storage.mark_unreachable(queued.id)
                    await self._after(status)
                if time.monotonic() - last_report >= PROGRESS_EVERY:
                    await self._report(broadcast, done=False)
                    last_report = time.monotonic()
        await storage.finish_broadcast(broadcast.id)
        await self._report(broadcast, done=True)

    async def _after(self, status: str) -> None:
        """After sends whose fate is unknown, wait longer and longer before the next: a
        network that is down would otherwise turn the whole outbox into unknowns."""
        if status != "unknown":
            self._unknown_in_row = 0
            return
        self._unknown_in_row += 1
        await asyncio.sleep(min(self.backoff * 2 ** (self._unknown_in_row - 1), MAX_BACKOFF))

    async def _send(self, broadcast: Broadcast, customer: Customer) -> tuple[str, str]:
        chat_id = customer.telegram_id
        if chat_id is None:  # claim_recipient skips the forgotten; never send blind
            return "skipped", "forgotten"
        with speaking(self.shop, customer.language):
            text = await personalize(self.shop, broadcast.text, customer)
            markup = promotion_markup(broadcast)
        failures = 0
        while True:
            await self.limiter.wait()
            try:
                if broadcast.photo_file_id:
                    await self.bot.send_photo(
                        chat_id, broadcast.photo_file_id, caption=text, reply_markup=markup
                    )
                else:
                    await self.bot.send_message(chat_id, text, reply_markup=markup)
                return "sent", ""
            except TelegramRetryAfter as error:
                # Everything waits, not just this message: Telegram counts the whole bot.
                self.limiter.pause(error.retry_after)
            except TelegramForbiddenError as error:
                return "blocked", error.message
            except TelegramBadRequest as error:
                # A deleted account is as unreachable as a blocked bot.
                gone = "chat not found" in error.message.lower()
                return ("blocked" if gone else "failed"), error.message
            except TelegramNetworkError as error:
                # No answer (a timeout, a dropped connection): the message may well have
                # arrived. Sending it again could make a duplicate, so it is never retried.
                return "unknown", error.message
            except TelegramServerError as error:
                failures += 1
                if failures >= NETWORK_RETRIES:
                    return "failed", str(error)
                await asyncio.sleep(failures)

    async def _report(self, broadcast: Broadcast, done: bool) -> None:
        counts = await self.shop.storage.outbox_counts(broadcast.id)
        owner = await self.shop.storage.customer_by_telegram(broadcast.created_by)
        with speaking(self.shop, owner.language if owner else None):
            text = progress_text(broadcast, counts, self.shop.settings.broadcast_rate, done)
        current = await self.shop.storage.broadcast(broadcast.id)
        message_id = current.progress_message_id if current else None
        try:
            if message_id is None:
                sent = await self.bot.send_message(broadcast.created_by, text)
                await self.shop.storage.set_broadcast_progress(
                    broadcast.id, sent.chat.id, sent.message_id
                )
            else:
                await self.bot.edit_message_text(
                    text=text, chat_id=broadcast.created_by, message_id=message_id
                )
        except TelegramRetryAfter as error:
            self.limiter.pause(error.retry_after)
        except (TelegramBadRequest, TelegramForbiddenError) as error:
            log.info("progress message not updated: %s", error.message)
