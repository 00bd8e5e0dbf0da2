"""The rules storage is given, as pure functions of their inputs: the referral decision and
what each promotion audience means."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.insights import REVENUE
from bot.domain.promotions import audience_filter
from bot.domain.referrals import decide
from storage import (
    Audience,
    AudienceFilter,
    Customer,
    EntryKind,
    LedgerEntry,
    Referral,
    ReferralCase,
    ReferralStatus,
    ReferralTerms,
    Segment,
)

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TERMS = ReferralTerms(10_00, 30, 50, 2, NOW, None)


def person(customer_id: int, telegram_id: int, phone: str | None = None) -> Customer:
    return Customer(
        customer_id, telegram_id, "X", "en", phone, None, f"{customer_id}", f"c_{customer_id}",
        True, 0, None, None, NOW, NOW, False,
    )  # fmt: skip


def case(bill: int = 20_00, paid: int = 0, operator: int = 9000, **changes: object) -> ReferralCase:
    purchase = LedgerEntry(1, 2, EntryKind.PURCHASE, 20, "", "p", operator, None, bill, NOW)
    referral = Referral(2, 1, "link", ReferralStatus.JOINED, "", None, NOW, None)
    found = ReferralCase(referral, person(2, 202), person(1, 101), purchase, operator, paid)
    return replace(found, **changes)  # type: ignore[arg-type]


def test_a_qualifying_purchase_qualifies() -> None:
    assert decide(case(), TERMS) == (ReferralStatus.QUALIFIED, "")


def test_below_the_minimum_or_not_a_purchase_decides_nothing() -> None:
    assert decide(case(bill=9_99), TERMS) is None
    spent = replace(case().purchase, kind=EntryKind.REDEEM)
    assert decide(case(purchase=spent), TERMS) is None


def test_self_referrals_are_rejected_with_the_reason() -> None:
    gone = replace(person(1, 101), forgotten=True)
    assert decide(case(referrer=gone), TERMS) == (ReferralStatus.REJECTED, "referrer_gone")
    shared = case(friend=person(2, 202, "+380670000000"), referrer=person(1, 101, "+380670000000"))
    assert decide(shared, TERMS) == (ReferralStatus.REJECTED, "same_phone")
    assert decide(case(operator=101), TERMS) == (ReferralStatus.REJECTED, "own_till")
    assert decide(case(operator=202), TERMS) == (ReferralStatus.REJECTED, "own_till")


def test_the_monthly_cap() -> None:
    assert decide(case(paid=1), TERMS) == (ReferralStatus.QUALIFIED, "")
    assert decide(case(paid=2), TERMS) == (ReferralStatus.CAPPED, "monthly_cap")
    assert decide(case(paid=99), replace(TERMS, monthly_cap=0)) == (ReferralStatus.QUALIFIED, "")


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        (Audience(Segment.EVERYONE), AudienceFilter()),
        (Audience(Segment.TIER, "Silver"), AudienceFilter(tiers=("Silver",))),
        (Audience(Segment.TIER, "Bronze|first"), AudienceFilter(tiers=("Bronze",), untiered=True)),
        (Audience(Segment.NEW, "30"), AudienceFilter(joined_since=NOW - timedelta(days=30))),
        (Audience(Segment.LAPSED, "60"), AudienceFilter(no_purchase_since=NOW - timedelta(60))),
        (Audience(Segment.BIRTHDAYS, "3"), AudienceFilter(birthday_month=3)),
        (
            Audience(Segment.TOP, "10"),
            AudienceFilter(top_spend_percent=10, spend_since=NOW - timedelta(days=365)),
        ),
        (Audience(Segment.REFERRERS), AudienceFilter(referred_friends=True)),
        (Audience(Segment.OFFER, "7"), AudienceFilter(granted_offer=7)),
        (
            Audience(Segment.EXPIRING, "14"),
            AudienceFilter(points_expiring=(NOW, NOW + timedelta(days=14))),
        ),
    ],
)
def test_each_audience_as_the_domain_defines_it(
    audience: Audience, expected: AudienceFilter
) -> None:
    assert audience_filter(audience, NOW) == expected


def test_revenue_is_purchases_less_refunds() -> None:
    assert REVENUE.adds == {EntryKind.PURCHASE} and REVENUE.takes == {EntryKind.REFUND}
