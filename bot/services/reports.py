"""The owner's figures rendered: the headline text of a period and its weekly charts, in
the current language."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

from bot.domain.insights import Period, percent
from bot.domain.program.rules import local_midnight, points_value_minor
from bot.domain.sources import OTHER_LABELS, PRESETS, ranked
from bot.i18n import _
from bot.media.charts import bar_chart
from bot.shop import Shop
from bot.texts.common import tier_name
from bot.texts.numbers import money, number, points
from storage import PeriodFigures


def source_name(tag: str) -> str:
    """A join source as the owner reads it: a preset's or the default's name, else the tag."""
    label = PRESETS.get(tag) or OTHER_LABELS.get(tag)
    return _(label) if label else escape(tag)


def stats_text(
    shop: Shop, span: Period, figures: PeriodFigures, sources: dict[str, int] | None = None
) -> str:
    """`sources`: new members by join source (`storage.JoinSources.join_sources`)."""
    program = shop.program
    lines = [
        _(
            "<b>Figures for {first} to {last}</b>",
            first=span.first.isoformat(),
            last=span.last.isoformat(),
        ),
        _(
            "Members: {members} · new: {new} · active: {active}",
            members=number(figures.members),
            new=number(figures.new_members),
            active=number(figures.active_members),
        ),
        _(
            "Visits: {visits} · revenue booked: {revenue} · came back more than once: {repeat}%",
            visits=number(figures.visits),
            revenue=money(figures.revenue_minor),
            repeat=percent(figures.repeat_members, figures.active_members),
        ),
    ]
    if figures.checks_by_tier:
        checks = ", ".join(
            f"{escape(tier_name(tier or program.tiers[0].name))} "
            f"{money(total // count if count else 0)}"
            for tier, (count, total) in sorted(figures.checks_by_tier.items())
        )
        lines.append(_("Average check by level: {checks}", checks=checks))
    lines += [
        _(
            "Points issued: {issued} · spent: {redeemed} ({rate}%) · expired: {expired}",
            issued=number(figures.issued),
            redeemed=number(figures.redeemed),
            rate=percent(figures.redeemed, figures.issued),
            expired=number(figures.expired),
        ),
        _(
            "Points outstanding: {points}, worth {worth} if all were spent",
            points=points(figures.outstanding),
            worth=money(points_value_minor(program, figures.outstanding)),
        ),
        _(
            "Referrals: {joined} friends joined, {qualified} qualified",
            joined=number(figures.referrals_joined),
            qualified=number(figures.referrals_qualified),
        ),
        _(
            "Promotions delivered: {sent} · offers used: {uses}",
            sent=number(figures.promotions_sent),
            uses=number(figures.offer_uses),
        ),
    ]
    if sources:
        listing = ", ".join(f"{source_name(tag)} {number(count)}" for tag, count in ranked(sources))
        lines.append(_("New members by where they joined: {sources}", sources=listing))
    if figures.cashiers:
        top = ", ".join(f"{escape(name)} {number(count)}" for _id, name, count in figures.cashiers)
        lines.append(_("Busiest cashiers: {cashiers}", cashiers=top))
    return "\n".join(lines)


async def weekly_charts(shop: Shop, span: Period, figures: PeriodFigures) -> list[bytes]:
    """Members and visits per week, points issued against spent, and levels today."""
    zone = shop.settings.timezone
    weeks: list[date] = []
    start = span.first - timedelta(days=span.first.weekday())
    while start <= span.last:
        weeks.append(start)
        start += timedelta(days=7)

    # Weeks start on Monday in the shop's time zone; the first and last are cut to the period.
    bounds = [max(local_midnight(week, zone), span.since) for week in weeks] + [span.until]
    series = await shop.storage.weekly_series(bounds)
    labels = [week.strftime("%d.%m") for week in weeks]
    tiers = [tier.name for tier in shop.program.tiers]
    counts = [
        figures.tiers.get(name, 0) + (figures.tiers.get("", 0) if index == 0 else 0)
        for index, name in enumerate(tiers)
    ]
    empty = _("No data for this period yet")
    return [
        bar_chart(
            _("New members and visits per week"),
            labels,
            [
                (_("New members"), series.joins),
                (_("Visits"), series.visits),
            ],
            empty,
        ),
        bar_chart(
            _("Points issued and spent per week"),
            labels,
            [(_("Issued"), series.issued), (_("Spent"), series.spent)],
            empty,
        ),
        bar_chart(
            _("Members by level"),
            [tier_name(name) for name in tiers],
            [(_("Members"), counts)],
            empty,
        ),
    ]
