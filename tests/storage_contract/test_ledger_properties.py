"""Property tests: whatever happens, balance == sum of entries == sum of what the lots still
hold, never negative, ids book once, expiry never expires anything twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from bot.domain.program.rules import reversal_points
from bot.domain.tokens import new_card_identity
from storage import (
    EntryKind,
    InsufficientPoints,
    NothingToReverse,
    OperationConflict,
)
from tests.storage_contract.conftest import Backend

KINDS = st.sampled_from([EntryKind.PURCHASE, EntryKind.REDEEM, EntryKind.ADJUST])
# Lots expire on a clock of their own, hours after this moment; None never expires.
EPOCH = datetime(2030, 1, 1, tzinfo=UTC)
EXPIRIES = st.one_of(st.none(), st.integers(0, 48).map(lambda h: EPOCH + timedelta(hours=h)))


class LedgerMachine(RuleBasedStateMachine):
    operations = Bundle("operations")
    purchases = Bundle("purchases")

    backend: Backend  # set by the test below, once per backend

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.storage = self.run(self.backend.fresh())
        self.customers: list[int] = []
        self.expected: dict[int, int] = {}
        self.booked: dict[str, tuple[int, EntryKind, int]] = {}
        self.refunds: dict[str, int] = {}
        self.spend: dict[int, int] = {}

    def run(self, coro):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.storage.close())
        self.loop.close()

    @initialize(count=st.integers(1, 3), welcome=st.integers(0, 100))
    def customers_join(self, count: int, welcome: int) -> None:
        for telegram_id in range(count):
            customer, _ = self.run(
                self.storage.register_customer(telegram_id, "X", "en", welcome, new_card_identity)
            )
            self.customers.append(customer.id)
            self.expected[customer.id] = welcome
            self.spend[customer.id] = 0

    @rule(
        target=operations,
        who=st.integers(0, 2),
        kind=KINDS,
        amount=st.integers(-500, 500),
        op=st.text("abcdef", min_size=1, max_size=4),
        expires=EXPIRIES,
    )
    def book(
        self, who: int, kind: EntryKind, amount: int, op: str, expires: datetime | None
    ) -> str:
        customer = self.customers[who % len(self.customers)]
        try:
            result = self.run(self.storage.book(customer, kind, amount, op, expires_at=expires))
        except InsufficientPoints:
            assert self.expected[customer] + amount < 0
            assert op not in self.booked
            return op
        except OperationConflict:
            assert op in self.booked and self.booked[op] != (customer, kind, amount)
            return op
        if op in self.booked:
            assert not result.created, "a reused operation id booked twice"
        else:
            assert result.created
            self.booked[op] = (customer, kind, amount)
            self.expected[customer] += amount
        assert result.balance == self.expected[customer]
        return op

    @rule(
        target=purchases,
        who=st.integers(0, 2),
        bill=st.integers(1, 100_000),
        op=st.text("ghij", min_size=1, max_size=5),
        expires=EXPIRIES,
    )
    def purchase(self, who: int, bill: int, op: str, expires: datetime | None) -> int:
        customer = self.customers[who % len(self.customers)]
        earned = bill // 100
        op = "p-" + op
        try:
            result = self.run(
                self.storage.book(
                    customer, EntryKind.PURCHASE, earned, op, bill_minor=bill, expires_at=expires
                )
            )
        except OperationConflict:
            return 0
        if result.created:
            self.spend[customer] += bill
            self.expected[customer] += earned
            self.booked[op] = (customer, EntryKind.PURCHASE, earned)
        return result.entry.id

    @rule(entry=purchases, part=st.integers(1, 100_000), op=st.text("klmn", min_size=1, max_size=4))
    def refund(self, entry: int, part: int, op: str) -> None:
        if not entry:
            return
        before = self.run(self.storage.operation(entry))
        assert before is not None
        op = "r-" + op
        try:
            result = self.run(self.storage.reverse(entry, part, op, 1, reversal_points))
        except NothingToReverse:
            assert part > before.open_minor or before.open_minor <= 0
            return
        except OperationConflict:
            assert op in self.refunds
            return
        if not result.created:
            assert self.refunds[op] == entry
            return
        self.refunds[op] = entry
        self.expected[result.entry.customer_id] += result.entry.amount
        self.spend[result.entry.customer_id] -= result.entry.bill_minor or 0
        after = self.run(self.storage.operation(entry))
        assert after is not None
        # Never more taken back than earned; what could not be taken is a recorded shortfall.
        assert after.reversed_points <= abs(before.entry.amount)
        assert result.entry.amount <= 0 and result.entry.shortfall >= 0

    @rule(op=consumes(operations))
    def retry(self, op: str) -> None:
        """A retried update: the same operation again must change nothing."""
        if op not in self.booked:
            return
        customer, kind, amount = self.booked[op]
        result = self.run(self.storage.book(customer, kind, amount, op))
        assert not result.created and result.balance == self.expected[customer]

    @rule(amounts=st.lists(st.integers(-50, 50), min_size=2, max_size=8), who=st.integers(0, 2))
    def concurrent(self, amounts: list[int], who: int) -> None:
        customer = self.customers[who % len(self.customers)]
        start = len(self.booked)
        ops = [f"c{start}-{i}" for i in range(len(amounts))]

        async def attempt(op: str, amount: int) -> int:
            try:
                await self.storage.book(customer, EntryKind.ADJUST, amount, op)
            except InsufficientPoints:
                return 0
            return amount

        async def all_at_once() -> list[int]:
            return await asyncio.gather(*(attempt(o, a) for o, a in zip(ops, amounts, strict=True)))

        applied = self.run(all_at_once())
        for op, amount, got in zip(ops, amounts, applied, strict=True):
            if got or amount == 0:
                self.booked[op] = (customer, EntryKind.ADJUST, amount)
        self.expected[customer] += sum(applied)

    @rule(hours=st.integers(0, 60))
    def expire(self, hours: int) -> None:
        """The expiry job at some moment, run twice: the second run expires nothing."""
        now = EPOCH + timedelta(hours=hours)
        for booking in self.run(self.storage.expire_due(now)):
            assert booking.entry.kind is EntryKind.EXPIRE and booking.entry.amount < 0
            self.expected[booking.entry.customer_id] += booking.entry.amount
        assert self.run(self.storage.expire_due(now)) == []

    @invariant()
    def lots_hold_the_balance(self) -> None:
        assert self.run(self.storage.lot_mismatches()) == []

    @invariant()
    def spend_is_purchases_less_refunds(self) -> None:
        for customer in self.customers:
            context = self.run(self.storage.earning_context(customer, None, EPOCH))
            assert context.spend_minor == self.spend[customer]

    @invariant()
    def balances_match_ledger(self) -> None:
        for customer in self.customers:
            stored = self.run(self.storage.customer(customer))
            assert stored is not None
            assert stored.balance >= 0
            assert stored.balance == self.expected[customer]
            assert self.run(self.storage.ledger_sum(customer)) == stored.balance
        assert self.run(self.storage.balance_mismatches()) == []


def test_ledger(backend: Backend) -> None:
    machine = type(f"LedgerMachineOn{backend.name}", (LedgerMachine,), {"backend": backend})
    run_state_machine_as_test(
        machine, settings=settings(max_examples=60, stateful_step_count=25, deadline=None)
    )
