"""Scheduled work in the shop's time zone: birthdays, expiry and its reminders, tier reviews.

Every grant is keyed (birthday by customer and year, expiry by lot, reminders by customer and
date), so a double run, a restart or a caught-up day grants and tells nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta
from functools import partial
from html import escape
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BufferedInputFile
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from babel.dates import format_date

from bot.domain import grants, insights
from bot.i18n import _
from bot.keyboards.customer import promotion
from bot.services import reports
from bot.shop import Shop
from bot.telegram.notify import speaking, tell_customer
from bot.texts.common import offer_line, tier_name
from bot.texts.numbers import counting_stamps, locale, points
from storage.backup import prune
from storage.files import private_folder

log = logging.getLogger(__name__)
DAILY = "daily"
CATCH_UP_DAYS = 31  # after a longer outage, older birthdays are let go


class Jobs:
    def __init__(self, bot: Bot, shop: Shop) -> None:
        self.bot = bot
        self.shop = shop
        self.scheduler = AsyncIOScheduler(timezone=shop.settings.timezone)
        self._lock = asyncio.Lock()
        self.startup: asyncio.Task[None] | None = None  # the catch-up run

    def start(self) -> None:
        zone = self.shop.settings.timezone
        self.scheduler.add_job(
            self.run_daily,
            CronTrigger(hour=0, minute=5, timezone=zone),
            id=DAILY,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=6 * 3600,
        )
        self.scheduler.add_job(
            self.expire,
            IntervalTrigger(hours=1, timezone=zone),
            id="expire",
            coalesce=True,
            max_instances=1,
        )
        if self.shop.settings.backup_dir is not None:
            self.scheduler.add_job(
                self.backup,
                CronTrigger(hour=3, minute=30, timezone=zone),
                id="backup",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=6 * 3600,
            )
        # Always scheduled: `weekly_digest` is read when it is due, so a change applies.
        self.scheduler.add_job(
            self.weekly_digest,
            CronTrigger(day_of_week="mon", hour=9, minute=0, timezone=zone),
            id="digest",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=6 * 3600,
        )
        self.scheduler.start()
        # Whatever was missed while the bot was down is caught up once, now.
        self.startup = asyncio.create_task(self.run_daily())

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.startup is not None:
            await asyncio.gather(self.startup, return_exceptions=True)

    async def run_daily(self, today: date | None = None) -> None:
        """Birthdays for every day since the last run (at most a month back), then expiry,
        reminders and the tier review as of now."""
        async with self._lock:
            # A version the command line saved while nobody wrote to the bot counts too.
            await self.shop.live.sync(self.shop.storage, force=True)
            counting_stamps.set(self.shop.program.stamps)
            shop = self.shop
            today = today or shop.now().date()
            last = await shop.storage.job_day(DAILY)
            if last is None or last >= today:
                first = today  # a second run of the same day finds everything granted
            else:
                first = max(last + timedelta(days=1), today - timedelta(days=CATCH_UP_DAYS))
            day = first
            while day <= today:
                await self.birthdays(day)
                day += timedelta(days=1)
            await self.expire()
            await self.remind()
            await self.review_tiers()
            await self.auto_offers(today)
            if last is None or today > last:
                await shop.storage.set_job_day(DAILY, today)

    async def birthdays(self, day: date) -> None:
        shop = self.shop
        for customer, booking in await grants.grant_birthdays(shop.context, day):
            await tell_customer(
                self.bot,
                shop,
                customer,
                partial(
                    lambda booking: (
                        _(
                            "🎂 Happy birthday from {shop}! Here is a gift: <b>+{points}</b>. "
                            "Balance: {balance}.",
                            shop=escape(shop.settings.shop_name),
                            points=points(booking.entry.amount),
                            balance=points(booking.balance),
                        ),
                        None,
                    ),
                    booking,
                ),
            )

    async def expire(self) -> None:
        expired = await self.shop.storage.expire_due(self.shop.context.now())
        if expired:
            log.info("expired %d lots", len(expired))

    async def remind(self) -> None:
        shop = self.shop
        for item in await grants.expiry_reminders(shop.context):
            local = item.expires_at.astimezone(shop.settings.timezone).date()
            await tell_customer(
                self.bot,
                shop,
                item.customer,
                partial(
                    lambda item, local: (
                        _(
                            "⏳ {points} on your {shop} card expire on {date}. Spend them at the "
                            "till before then!",
                            points=points(item.points),
                            shop=escape(shop.settings.shop_name),
                            date=format_date(local, format="long", locale=locale()),
                        ),
                        None,
                    ),
                    item,
                    local,
                ),
            )

    async def review_tiers(self) -> None:
        shop = self.shop
        for customer, tier in await grants.review_downgrades(shop.context):
            await tell_customer(
                self.bot,
                shop,
                customer,
                partial(
                    lambda tier: (
                        _(
                            "Your {shop} card is now at the {tier} level, as purchases over the "
                            "last 12 months count for levels. Every visit brings you closer again, "
                            "and your points stay yours.",
                            shop=escape(shop.settings.shop_name),
                            tier=escape(tier_name(tier.name)),
                        ),
                        None,
                    ),
                    tier,
                ),
            )

    async def auto_offers(self, today: date) -> None:
        shop = self.shop
        for customer, offer in await grants.grant_auto_offers(shop.context, today):
            await tell_customer(
                self.bot,
                shop,
                customer,
                partial(
                    lambda offer: (
                        "🎁 "
                        + offer_line(offer, shop.settings.timezone)
                        + "\n"
                        + _("Show your card at the till to use it. Your offers: /offers"),
                        promotion(None),
                    ),
                    offer,
                ),
            )

    async def weekly_digest(self, today: date | None = None) -> None:
        """The last seven days' figures and the weekly chart to every owner, once a week."""
        shop = self.shop
        await shop.live.sync(shop.storage, force=True)
        if not shop.program.weekly_digest:
            return
        today = today or shop.now().date()
        last = await shop.storage.job_day("digest")
        if last is not None and last.isocalendar()[:2] == today.isocalendar()[:2]:
            return  # this week's digest went out already
        await shop.storage.set_job_day("digest", today)
        span = insights.period(shop.settings.timezone, 7, today - timedelta(days=1))
        figures = await shop.storage.period_figures(span.since, span.until, insights.REVENUE)
        sources = await shop.storage.join_sources(span.since, span.until)
        for owner in shop.settings.owner_ids:
            record = await shop.storage.customer_by_telegram(owner)
            with speaking(shop, record.language if record else None):
                text = _("<b>Your week at {shop}</b>", shop=escape(shop.settings.shop_name))
                text += "\n" + reports.stats_text(shop, span, figures, sources)
                chart = (await reports.weekly_charts(shop, span, figures))[0]
            try:
                await self.bot.send_message(owner, text)
                await self.bot.send_photo(owner, BufferedInputFile(chart, filename="week.png"))
            except (TelegramBadRequest, TelegramForbiddenError) as error:
                log.info("digest not delivered to %s: %s", owner, error.message)

    async def backup(self) -> Path | None:
        """Today's snapshot into BACKUP_DIR, keeping the newest BACKUP_KEEP."""
        folder = self.shop.settings.backup_dir
        if folder is None:
            return None
        private_folder(folder)
        stamp = self.shop.now().strftime("%Y%m%d-%H%M%S-%f")
        target = folder / f"loyalty-{stamp}.db"
        await self.shop.storage.backup_to(str(target))
        prune(folder, self.shop.settings.backup_keep)
        log.info("backup written to %s", target)
        return target
