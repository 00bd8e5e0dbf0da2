"""The program in plain words (/program), and the page for giving points to the shop's cause."""

from __future__ import annotations

from html import escape

from bot.domain.program.model import Earning, Program, TierWindow
from bot.domain.program.rules import points_value_minor
from bot.i18n import _, ngettext
from bot.texts.common import reward_text, tier_name
from bot.texts.numbers import format_decimal_hundredths, money, number, points
from storage import Customer


def program_text(program: Program, for_owner: bool) -> str:
    """The rules in force, for customers in plain words; owners also see the file's keys."""
    lines = [_("<b>How our loyalty program works</b>")]
    if program.earning is Earning.STAMPS:
        lines.append(
            _(
                "Get a stamp for every visit. Collect {stamps} for {reward}.",
                stamps=points(program.stamps_for_reward),
                reward=reward_text(program),
            )
        )
    elif program.earning is Earning.CASHBACK:
        lines.append(
            _(
                "{percent}% of every purchase comes back to you as points, each worth {value}.",
                percent=format_decimal_hundredths(program.cashback_hundredths),
                value=money(program.point_value_minor),
            )
        )
    else:
        lines.append(
            _(
                "Every {unit} you spend earns {rate} points (rounded down).",
                unit=money(100),
                rate=format_decimal_hundredths(program.earn_rate_hundredths),
            )
        )
    if program.min_purchase_minor:
        lines.append(_("Purchases from {amount} count.", amount=money(program.min_purchase_minor)))
    if program.visit_cooldown:
        minutes = int(program.visit_cooldown.total_seconds() // 60)
        lines.append(
            ngettext(
                "One visit counts every {count} minute.",
                "One visit counts every {count} minutes.",
                minutes,
                count=number(minutes),
            )
        )
    if program.daily_cap:
        lines.append(_("You can earn up to {cap} a day.", cap=points(program.daily_cap)))
    if not program.stamps:
        lines.append(
            _(
                "{points} take {value} off a bill; points can pay up to {share}% of it.",
                points=points(100),
                value=money(points_value_minor(program, 100)),
                share=number(program.max_redeem_share),
            )
        )
        if program.rewards:
            rewards = ", ".join(
                f"{escape(reward.name)} ({points(reward.cost)})" for reward in program.rewards
            )
            lines.append(_("Rewards: {rewards}.", rewards=rewards))
    if len(program.tiers) > 1:
        lines.append(
            _("<b>Levels</b>, by what you spend in 12 months:")
            if program.tier_window is TierWindow.ROLLING
            else _("<b>Levels</b>, by all you have ever spent:")
        )
        for tier in program.tiers:
            parts = [_("from {amount}", amount=money(tier.spend_minor))]
            if tier.multiplier_hundredths != 100 and not program.stamps:
                parts.append(
                    _(
                        "points \u00d7{multiplier}",
                        multiplier=format_decimal_hundredths(tier.multiplier_hundredths),
                    )
                )
            if tier.max_redeem_share is not None and not program.stamps:
                parts.append(
                    _("pay up to {share}% with points", share=number(tier.max_redeem_share))
                )
            lines.append(f"• {escape(tier_name(tier.name))}: " + ", ".join(parts))
    if program.welcome_bonus:
        lines.append(_("Welcome gift: {points}.", points=points(program.welcome_bonus)))
    if program.birthday_bonus:
        lines.append(_("Birthday gift: {points}.", points=points(program.birthday_bonus)))
    if program.expiry_days:
        lines.append(
            ngettext(
                "Points expire {count} day after you earn them; we remind you before.",
                "Points expire {count} days after you earn them; we remind you before.",
                program.expiry_days,
                count=number(program.expiry_days),
            )
        )
    if program.referrals:
        lines.append(
            _(
                "Invite friends with /invite: when a friend's first purchase reaches {amount}, "
                "you get {bonus} and your friend {friend_bonus}.",
                amount=money(program.referral_min_purchase_minor),
                bonus=points(program.referral_bonus),
                friend_bonus=points(program.referral_friend_bonus),
            )
        )
    if program.cause:
        lines.append(
            _("Give back: donate points to {cause} with /give.", cause=escape(program.cause))
        )
    if for_owner:
        lines.append(
            _(
                "To change the rules, press Change below or type /set. Points already "
                "earned keep their rules and expiry."
            )
        )
    return "\n".join(lines)


def giving_text(program: Program, customer: Customer, total: int) -> str:
    return _(
        "<b>Give back: {cause}</b>\n"
        "Together our customers have given {total}.\n"
        "You have {balance}. How many would you like to give? Type a number.",
        cause=escape(program.cause),
        total=points(total),
        balance=points(customer.balance),
    )
