"""Bad input, everywhere at once: thousands of generated updates from customers, cashiers and
the owner go through the real dispatcher (every Bot API call over HTTP to the fake server),
interleaved with cashiers booking real purchases and customers confirming real redemptions.

Afterwards: nothing failed unhandled, every cached balance is its ledger sum, the ledger holds
nothing the test did not legitimately book, and no update got more than one reply.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

import pytest

import bot.desk
import bot.middlewares
from tests.fuzz_scenario import Report, run
from tests.fuzzing import Delivery, TickClock

UPDATES = int(os.environ.get("FUZZ_UPDATES", "10000"))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    clock = TickClock()
    with pytest.MonkeyPatch.context() as patch:
        # The throttle and booking windows read this clock, which moves a fixed step per
        # update: the same updates are throttled on every machine.
        patch.setattr(bot.middlewares, "time", clock)
        # A spending request's expiry would fire on its own timer, between updates.
        patch.setattr(bot.desk, "CUSTOMER_CONFIRM_TTL", timedelta(hours=1))
        return asyncio.run(run(tmp_path_factory.mktemp("fuzz"), UPDATES, clock))


def test_enough_updates_of_every_kind(report: Report) -> None:
    fuzzed = [d for d in report.deliveries if d.label == "fuzz"]
    print(f"{len(fuzzed)} fuzz updates in {report.seconds:.1f} s; {report.counts}")
    assert len(fuzzed) >= UPDATES
    assert len(report.expected) >= 10, report.flow_failures


def listing(lines: list[str], limit: int = 15) -> str:
    shown = "\n  ".join(lines[:limit])
    more = f"\n  ... and {len(lines) - limit} more" if len(lines) > limit else ""
    return f"{len(lines)}:\n  {shown}{more}"


def test_nothing_failed_unhandled(report: Report) -> None:
    by_id = {d.update["update_id"]: d for d in report.deliveries}
    problems = [
        f"crash: {d.describe()}: {d.crash.strip().splitlines()[-1]}"
        for d in report.deliveries
        if d.crash
    ]
    for record in report.errors:
        update = by_id.get(record.args[0]) if isinstance(record.args, tuple) and record.args else None
        cause = record.exc_info[1] if record.exc_info else None
        problems.append(
            f"{record.name}: {record.getMessage()[:200]} ({type(cause).__name__}: {cause})"
            + (f"\n    after {update.describe()}" if update else "")
        )
    problems += [f"fake server: {tb.splitlines()[-1]}" for tb in report.server_errors]
    assert not problems, "unhandled failures " + listing(problems)


def test_cached_balances_equal_ledger_sums(report: Report) -> None:
    assert report.balance_mismatches == []
    assert report.lot_mismatches == []


def test_legitimate_flows_booked_what_their_chats_said(report: Report) -> None:
    assert not report.flow_failures, "legitimate flows failed " + listing(report.flow_failures)
    entries = {e["operation_id"]: e for e in report.ledger}
    wrong = []
    for want in report.expected:
        got = entries.get(want.operation_id)
        if got is None or (got["customer_id"], got["kind"], got["amount"]) != (
            want.customer_id,
            want.kind,
            want.amount,
        ):
            wrong.append(f"{want} booked as {got}")
    assert not wrong, "legitimate bookings differ " + listing(wrong)


def test_ledger_holds_nothing_unasked_for(report: Report) -> None:
    unasked = []
    welcomes: dict[int, int] = {}
    for entry in report.ledger:
        holder = report.customers[entry["customer_id"]]
        if entry["kind"] == "welcome":
            welcomes[entry["customer_id"]] = welcomes.get(entry["customer_id"], 0) + 1
            continue
        if entry["operation_id"] not in report.permitted:
            unasked.append(f"no confirm button was pressed for {entry}")
        elif entry["operator_id"] is not None and entry["operator_id"] == holder["telegram_id"]:
            unasked.append(f"booked by staff on their own card: {entry}")
    unasked += [f"customer {c}: {n} welcome bonuses" for c, n in welcomes.items() if n > 1]
    assert sum(welcomes.values()) <= len(report.joined_users) + sum(
        1 for d in report.deliveries if "/start" in str(d.update.get("message", {}).get("text"))
    )
    assert not unasked, "ledger entries nobody legitimately booked " + listing(unasked)


def allowed_sends(delivery: Delivery) -> int:
    """New messages an update may get: one, except /start, which deliberately answers with a
    note about the link (if refused) and the card, and for a newcomer the card, a welcome
    and the first profile question."""
    text = str(delivery.update.get("message", {}).get("text", ""))
    return 3 if text.startswith("/start") else 1


def test_no_update_gets_more_than_one_reply(report: Report) -> None:
    """One new message at most (see allowed_sends), each message edited at most once, a
    button press answered at most once."""
    noisy = [
        f"{len(d.sends())} sends, edits {d.edits_per_message()}, {len(d.answers())} answers: "
        + d.describe()
        for d in report.deliveries
        if len(d.sends()) > allowed_sends(d)
        or any(n > 1 for n in d.edits_per_message().values())
        or len(d.answers()) > 1
    ]
    assert not noisy, "updates answered more than once " + listing(noisy, 30)


def test_telegram_rejects_no_call(report: Report) -> None:
    rejected = [
        f"{c.status} {c.description}: {d.describe()}"
        for d in report.deliveries
        for c in d.calls
        if not c.ok
    ]
    assert not rejected, "calls Telegram would refuse " + listing(rejected, 30)
