"""The program as a document: the dict the program file parses to. `program_to_document` is
the inverse of `parse_program`, so a version stored as a document exports exactly, and
`parse_program` stays the only validator of whatever is edited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w

from bot.domain.program.loader import parse_program
from bot.domain.program.model import AutoOffer, Program, Reward, Tier

Document = dict[str, Any]


def money_value(minor: int) -> int | float:
    """1200 -> 12, 1250 -> 12.5: what a person writes in the file (floats print exactly
    at two decimals, and `money_to_minor` reads them through their shortest repr)."""
    return minor // 100 if minor % 100 == 0 else minor / 100


def _tier(tier: Tier) -> Document:
    item: Document = {
        "name": tier.name,
        "spend": money_value(tier.spend_minor),
        "multiplier": money_value(tier.multiplier_hundredths),
    }
    if tier.max_redeem_share is not None:
        item["max_redeem_share"] = tier.max_redeem_share
    return item


def _reward(reward: Reward) -> Document:
    return {"name": reward.name, "cost": reward.cost}


def _offer(offer: AutoOffer) -> Document:
    item: Document = {"when": offer.trigger.value, "title": offer.title, "reward": offer.kind}
    if offer.kind in ("discount", "multiplier"):
        item["value"] = money_value(offer.value)
    elif offer.kind != "item":
        item["value"] = offer.value
    item["valid_days"] = offer.valid_days
    item["days"] = offer.days
    item["amount"] = money_value(offer.amount_minor)
    return item


def program_to_document(program: Program) -> Document:
    """Every key, in the program file's order."""
    return {
        "earning": program.earning.value,
        "earn_rate": money_value(program.earn_rate_hundredths),
        "cashback_percent": money_value(program.cashback_hundredths),
        "stamps_for_reward": program.stamps_for_reward,
        "stamp_reward": program.stamp_reward,
        "stamp_reward_discount": money_value(program.stamp_reward_discount_minor),
        "min_purchase": money_value(program.min_purchase_minor),
        "max_purchase": money_value(program.max_purchase_minor),
        "visit_cooldown_minutes": int(program.visit_cooldown.total_seconds()) // 60,
        "daily_cap": program.daily_cap,
        "point_value": money_value(program.point_value_minor),
        "max_redeem_share": program.max_redeem_share,
        "welcome_bonus": program.welcome_bonus,
        "birthday_bonus": program.birthday_bonus,
        "expiry_days": program.expiry_days,
        "expiry_reminder_days": program.expiry_reminder_days,
        "cause": program.cause,
        "referral_bonus": program.referral_bonus,
        "referral_friend_bonus": program.referral_friend_bonus,
        "referral_min_purchase": money_value(program.referral_min_purchase_minor),
        "referral_monthly_cap": program.referral_monthly_cap,
        "weekly_digest": program.weekly_digest,
        "alert_customer_operations": program.alert_customer_operations,
        "alert_cashier_operations": program.alert_cashier_operations,
        "tier_window": program.tier_window.value,
        "tiers": [_tier(tier) for tier in program.tiers],
        "rewards": [_reward(reward) for reward in program.rewards],
        "auto_offers": [_offer(offer) for offer in program.auto_offers],
    }


def normalized(document: Document, path: Path) -> Document:
    """The document as the program it means, every key written out (raises ProgramError)."""
    return program_to_document(parse_program(document, path))


def document_toml(document: Document) -> str:
    """The document as a program file; empty lists are left out (TOML has no empty
    array of tables, and the loader reads a missing one as empty)."""
    kept = {key: value for key, value in document.items() if value != []}
    header = "# The loyalty program, exported from the bot's database.\n\n"
    return header + tomli_w.dumps(kept)
