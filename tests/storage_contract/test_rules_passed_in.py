"""Business decisions are the domain's: storage acts on the rule it is given (the referral
decision, what counts as revenue, what an audience means), on every backend."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.clock import utcnow
from bot.domain.referrals import decide
from bot.domain.tokens import new_card_identity
from storage import (
    Audience,
    AudienceFilter,
    EntryKind,
    ReferralCase,
    ReferralStatus,
    ReferralTerms,
    Revenue,
    Segment,
    Storage,
)
from storage.ports import ReferralVerdict
from tests.storage_contract.conftest import Backend

TERMS = ReferralTerms(10_00, 30, 50, 0, utcnow() - timedelta(days=1), None)


async def friend_and_purchase(storage: Storage) -> tuple[int, int, object]:
    referrer, _ = await storage.register_customer(1, "R", "en", 0, new_card_identity)
    friend, _ = await storage.register_customer(
        2, "F", "en", 0, new_card_identity, referrer_id=referrer.id
    )
    booking = await storage.book(friend.id, EntryKind.PURCHASE, 20, "p1", bill_minor=20_00)
    return referrer.id, friend.id, booking.entry


async def test_the_referral_decision_is_the_rule_given(storage: Storage) -> None:
    seen: list[ReferralCase] = []

    def capped_always(case: ReferralCase, terms: ReferralTerms) -> ReferralVerdict:
        seen.append(case)
        return ReferralStatus.CAPPED, "shop_says_so"

    referrer, friend, purchase = await friend_and_purchase(storage)
    decision = await storage.qualify_referral(friend, purchase, 9000, TERMS, capped_always)  # type: ignore[arg-type]
    assert decision is not None and decision.friend is None and decision.referrer is None
    assert (decision.referral.status, decision.referral.reason) == (
        ReferralStatus.CAPPED,
        "shop_says_so",
    )
    [case] = seen  # the rule saw the facts read in the transaction
    assert (case.friend.id, case.referrer.id, case.operator_id) == (friend, referrer, 9000)
    assert case.paid_this_month == 0 and case.purchase == purchase
    assert (await storage.customer(friend)).balance == 20  # type: ignore[union-attr]


async def test_a_rule_that_decides_nothing_leaves_the_referral_waiting(storage: Storage) -> None:
    _referrer, friend, purchase = await friend_and_purchase(storage)
    decision = await storage.qualify_referral(friend, purchase, 9000, TERMS, lambda c, t: None)  # type: ignore[arg-type]
    assert decision is None
    assert (await storage.referral(friend)).status is ReferralStatus.JOINED  # type: ignore[union-attr]
    paid = await storage.qualify_referral(friend, purchase, 9000, TERMS, decide)  # type: ignore[arg-type]
    assert paid is not None and paid.referral.status is ReferralStatus.QUALIFIED
    assert paid.friend is not None and paid.friend.entry.amount == 30


async def test_revenue_counts_the_kinds_the_domain_names(storage: Storage) -> None:
    from bot.domain.program.rules import reversal_points

    customer, _ = await storage.register_customer(3, "C", "en", 0, new_card_identity)
    bought = await storage.book(customer.id, EntryKind.PURCHASE, 50, "b", bill_minor=50_00)
    await storage.reverse(bought.entry.id, 10_00, "r", 1, reversal_points)
    since, until = utcnow() - timedelta(hours=1), utcnow() + timedelta(hours=1)
    purchases = frozenset({EntryKind.PURCHASE})
    net = await storage.period_figures(
        since, until, Revenue(purchases, frozenset({EntryKind.REFUND}))
    )
    gross = await storage.period_figures(since, until, Revenue(purchases, frozenset()))
    assert (net.revenue_minor, gross.revenue_minor) == (40_00, 50_00)
    assert net.visits == gross.visits == 1


async def test_audiences_mean_what_the_rule_given_says(backend: Backend) -> None:
    def gold_only(audience: Audience, now: object) -> AudienceFilter:
        return AudienceFilter(tiers=("Gold",))

    storage = await backend.open(audiences=gold_only)
    try:
        for telegram_id, tier in ((1, "Gold"), (2, "Silver"), (3, "Gold")):
            await storage.register_customer(telegram_id, "X", "en", 0, new_card_identity, tier=tier)
        assert await storage.audience_size(Audience(Segment.EVERYONE), utcnow()) == 2
        chosen = await storage.audience_customers(Audience(Segment.EVERYONE), utcnow())
        assert [c.tier for c in chosen] == ["Gold", "Gold"]
    finally:
        await storage.close()
