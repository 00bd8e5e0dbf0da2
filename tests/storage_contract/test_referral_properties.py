"""Property test: whatever the order of joins, purchases, spending and refunds, a referral pays
each side at most once, never for capped or self-referred friends, refunds take it back, and
balance == sum of entries == sum of lots throughout."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from bot.domain.program.rules import reversal_points
from bot.domain.referrals import decide
from bot.domain.tokens import new_card_identity
from storage import (
    EntryKind,
    InsufficientPoints,
    NothingToReverse,
    ReferralStatus,
    ReferralTerms,
)
from tests.storage_contract.conftest import Backend

FRIEND_BONUS, REFERRER_BONUS, MINIMUM = 30, 50, 10_00


class ReferralMachine(RuleBasedStateMachine):
    purchases = Bundle("purchases")

    backend: Backend  # set by the test below, once per backend

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.storage = self.run(self.backend.fresh())
        self.referrers: list[int] = []
        self.friends: dict[int, int] = {}  # friend -> referrer
        self.others: list[int] = []
        self.next_telegram = 100
        self.ops = 0
        self.cap = 2

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.storage.close())
        self.loop.close()

    def register(self, referrer: int | None = None) -> int:
        self.next_telegram += 1
        customer, _ = self.run(
            self.storage.register_customer(
                self.next_telegram, "X", "en", 0, new_card_identity, referrer_id=referrer
            )
        )
        return customer.id

    def terms(self) -> ReferralTerms:
        return ReferralTerms(
            MINIMUM, FRIEND_BONUS, REFERRER_BONUS, self.cap, datetime(2000, 1, 1, tzinfo=UTC), None
        )

    @initialize(cap=st.integers(0, 3))
    def referrers_join(self, cap: int) -> None:
        self.cap = cap
        self.referrers = [self.register(), self.register()]

    @rule(which=st.integers(0, 1), same_phone=st.booleans())
    def friend_joins(self, which: int, same_phone: bool) -> None:
        referrer = self.referrers[which]
        friend = self.register(referrer)
        self.friends[friend] = referrer
        if same_phone:  # one person with two accounts and one phone number
            self.run(self.storage.set_phone(referrer, "+380670000000"))
            self.run(self.storage.set_phone(friend, "+380670000000"))

    @rule()
    def stranger_joins(self) -> None:
        self.others.append(self.register())

    @rule(
        target=purchases,
        pick=st.integers(0, 50),
        bill=st.integers(1, 50_00),
        operator=st.integers(0, 3),
    )
    def purchase(self, pick: int, bill: int, operator: int) -> int:
        everyone = list(self.friends) + self.others + self.referrers
        customer = everyone[pick % len(everyone)]
        self.ops += 1
        booking = self.run(
            self.storage.book(
                customer, EntryKind.PURCHASE, bill // 100, f"p{self.ops}", bill_minor=bill
            )
        )
        before = self.run(self.storage.referral(customer))
        # Operators 0-2 are cashiers; 3 means the referrer's own Telegram id at the till.
        operator_id = 9_000 + operator
        if operator == 3 and before is not None:
            referrer = self.run(self.storage.customer(before.referrer_id))
            operator_id = referrer.telegram_id  # type: ignore[union-attr,assignment]
        decision = self.run(
            self.storage.qualify_referral(
                customer, booking.entry, operator_id, self.terms(), decide
            )
        )
        if before is None or before.status is not ReferralStatus.JOINED or bill < MINIMUM:
            assert decision is None
        else:
            assert decision is not None and decision.referral.status is not ReferralStatus.JOINED
        return booking.entry.id

    @rule(entry=purchases, part=st.integers(1, 50_00))
    def refund(self, entry: int, part: int) -> None:
        self.ops += 1
        try:
            self.run(self.storage.reverse(entry, part, f"r{self.ops}", 9_000, reversal_points))
        except NothingToReverse:
            return
        operation = self.run(self.storage.operation(entry))
        assert operation is not None
        self.run(self.storage.reverse_referral(entry, operation.open_minor, MINIMUM))

    @rule(pick=st.integers(0, 50), amount=st.integers(1, 200))
    def spend(self, pick: int, amount: int) -> None:
        everyone = list(self.friends) + self.referrers
        self.ops += 1
        with contextlib.suppress(InsufficientPoints):
            self.run(
                self.storage.book(
                    everyone[pick % len(everyone)], EntryKind.REDEEM, -amount, f"s{self.ops}"
                )
            )

    @invariant()
    def each_side_paid_at_most_once(self) -> None:
        paid_per_referrer: dict[int, int] = {}
        for friend, referrer in self.friends.items():
            referral = self.run(self.storage.referral(friend))
            assert referral is not None and referral.referrer_id == referrer
            mine = [
                e
                for e in self.run(self.storage.history(friend, 500))
                if e.kind is EntryKind.REFERRAL
            ]
            keys = (f"referral:{friend}:referrer", f"referral-undo:{friend}:referrer")
            theirs = [
                e for e in self.run(self.storage.history(referrer, 500)) if e.operation_id in keys
            ]
            grants = [e for e in mine if e.amount > 0]
            assert len(grants) <= 1 and all(e.amount == FRIEND_BONUS for e in grants)
            status = referral.status
            if status in (ReferralStatus.JOINED, ReferralStatus.CAPPED, ReferralStatus.REJECTED):
                assert grants == [] and [e for e in theirs if e.amount > 0] == []
            if status is ReferralStatus.QUALIFIED:
                assert len(grants) == 1 and sum(e.amount for e in mine) == FRIEND_BONUS
                assert [e.amount for e in theirs] == [REFERRER_BONUS]
                paid_per_referrer[referrer] = paid_per_referrer.get(referrer, 0) + 1
            if status is ReferralStatus.REVERSED:
                taken = [e for e in mine if e.amount <= 0]
                assert len(taken) == 1 and taken[0].reverses_id == grants[0].id
                assert -taken[0].amount + taken[0].shortfall == FRIEND_BONUS
                assert len(theirs) == 2 and theirs[0].reverses_id == theirs[1].id
            if status is ReferralStatus.REJECTED:
                assert referral.reason in ("same_phone", "own_till")
        for referrer, paid in paid_per_referrer.items():
            assert self.cap == 0 or paid <= self.cap, (referrer, paid)

    @invariant()
    def ledger_invariants(self) -> None:
        assert self.run(self.storage.balance_mismatches()) == []
        assert self.run(self.storage.lot_mismatches()) == []


def test_referrals(backend: Backend) -> None:
    machine = type(f"ReferralMachineOn{backend.name}", (ReferralMachine,), {"backend": backend})
    run_state_machine_as_test(
        machine, settings=settings(max_examples=40, stateful_step_count=30, deadline=None)
    )
