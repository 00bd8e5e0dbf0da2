"""Bad input, everywhere at once: thousands of generated updates from customers, cashiers and
the owner go through the real dispatcher (every Bot API call over HTTP to the fake server),
interleaved with cashiers booking real purchases and customers confirming real redemptions.

Afterwards: nothing failed unhandled, every cached balance is its ledger sum, the ledger holds
nothing the test did not legitimately book, and no update got more than one reply.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import timedelta

import pytest
from aiogram.filters.callback_data import CallbackData

import bot.desk
import bot.middlewares
from tests.fuzz_scenario import Report, run
from tests.fuzzing import Delivery, TickClock, callback_classes

UPDATES = int(os.environ.get("FUZZ_UPDATES", "10000"))
pytestmark = pytest.mark.filterwarnings("ignore:Detected unknown update type:RuntimeWarning")


@dataclass(frozen=True)
class Known:
    """A failure this test found on main that is not fixed yet: listed here so the other
    checks stay strict, and tracked by a strict xfail that turns red once it is gone."""

    name: str
    why: str
    sign: str  # a substring of the problem line

    def matches(self, problem: str) -> bool:
        return self.sign in problem


KNOWN = (
    Known(
        "group-callbacks",
        "button presses on messages in groups and channels are handled like private ones: the "
        "bot edits or posts into the group (only messages are filtered to private chats)",
        "(chat=-100",
    ),
    Known(
        "text-edit-of-a-photo",
        "a language or settings callback pressed on a photo message (the card) calls "
        "editMessageText on it: 400, logged at ERROR, the user reads 'something went wrong'",
        "there is no text in the message to edit",
    ),
    Known(
        "edits-that-change-nothing",
        "a replayed press edits its message to what it already shows (issue 13, item 20)",
        "message is not modified",
    ),
)


def unknown(problems: list[str]) -> list[str]:
    return [p for p in problems if not any(k.matches(p) for k in KNOWN)]


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


def failures(report: Report) -> list[str]:
    by_id = {d.update["update_id"]: d for d in report.deliveries}
    problems = [
        f"crash: {d.describe()}: {d.crash.strip().splitlines()[-1]}"
        for d in report.deliveries
        if d.crash
    ]
    for record in report.errors:
        update = (
            by_id.get(record.args[0]) if isinstance(record.args, tuple) and record.args else None
        )
        cause = record.exc_info[1] if record.exc_info else None
        problems.append(
            f"{record.name}: {record.getMessage()[:200]} ({type(cause).__name__}: {cause})"
            + (f"\n    after {update.describe()}" if update else "")
        )
    problems += [f"fake server: {tb.splitlines()[-1]}" for tb in report.server_errors]
    return problems


def test_nothing_failed_unhandled(report: Report) -> None:
    problems = unknown(failures(report))
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
    noisy = unknown(noisy_updates(report))
    assert not noisy, "updates answered more than once " + listing(noisy, 30)


def noisy_updates(report: Report) -> list[str]:
    return [
        f"{len(d.sends())} sends, edits {d.edits_per_message()}, {len(d.answers())} answers: "
        + d.describe()
        for d in report.deliveries
        if len(d.sends()) > allowed_sends(d)
        or any(n > 1 for n in d.edits_per_message().values())
        or len(d.answers()) > 1
    ]


def test_telegram_rejects_no_call(report: Report) -> None:
    rejected = unknown(rejected_calls(report))
    assert not rejected, "calls Telegram would refuse " + listing(rejected, 30)


def rejected_calls(report: Report) -> list[str]:
    return [
        f"{c.status} {c.description}: {d.describe()}"
        for d in report.deliveries
        for c in d.calls
        if not c.ok
    ]


@pytest.mark.parametrize(
    "known",
    [pytest.param(k, id=k.name, marks=pytest.mark.xfail(strict=True, reason=k.why)) for k in KNOWN],
)
def test_known_failure_is_gone(report: Report, known: Known) -> None:
    """Turns red (XPASS) once the failure is fixed: then delete its entry from KNOWN."""
    found = [
        p
        for p in failures(report) + noisy_updates(report) + rejected_calls(report)
        if known.matches(p)
    ]
    assert not found, f"{known.why}: " + listing(found, 5)


@pytest.mark.parametrize("kind", callback_classes(), ids=lambda kind: kind.__prefix__)
def test_forged_numbers_beyond_sqlite_do_not_match(kind: type[CallbackData]) -> None:
    """The fuzz run found `ofres:99999999999999999999` overflowing in SQLite; no callback
    kind may unpack a number SQLite cannot hold."""
    for name, info in kind.model_fields.items():
        if info.annotation is not int:
            continue
        fields = ["1" if other.annotation is bool else "0" for other in kind.model_fields.values()]
        fields[list(kind.model_fields).index(name)] = str(2**63)
        with pytest.raises(ValueError):
            kind.unpack(":".join([kind.__prefix__, *fields]))
