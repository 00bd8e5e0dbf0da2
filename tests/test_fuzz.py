"""Bad input, everywhere at once: thousands of generated updates from customers, cashiers and
the owner go through the real dispatcher (every Bot API call over HTTP to the fake server),
interleaved with cashiers booking real purchases and customers confirming real redemptions.

Afterwards: nothing failed unhandled, every cached balance is its ledger sum, the ledger holds
nothing the test did not legitimately book, and no update got more than one reply.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
from datetime import timedelta

import pytest
from aiogram.filters.callback_data import CallbackData

import bot.domain.desk
from tests.fakeapi import ApiCall
from tests.fuzz_scenario import Report, run
from tests.fuzz_updates import LEGIT_CUSTOMERS
from tests.fuzzing import Delivery, callback_classes

UPDATES = int(os.environ.get("FUZZ_UPDATES", "10000"))
pytestmark = pytest.mark.filterwarnings("ignore:Detected unknown update type:RuntimeWarning")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    with pytest.MonkeyPatch.context() as patch:
        # A spending request's expiry would fire on its own timer, between updates.
        patch.setattr(bot.domain.desk, "CUSTOMER_CONFIRM_TTL", timedelta(hours=1))
        return asyncio.run(run(tmp_path_factory.mktemp("fuzz"), UPDATES))


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
    problems = failures(report)
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
    unasked = unasked_entries(report)
    assert not unasked, "ledger entries nobody legitimately booked " + listing(unasked)


def test_the_ledger_check_finds_what_nobody_asked_for(report: Report) -> None:
    """The check above can fail: a purchase nobody confirmed, one booked by the card's own
    holder, a second welcome bonus and half a claim, slipped into the run's ledger, are all
    reported."""
    assert report.ledger, "the run booked nothing to learn the ledger's shape from"
    template = next(e for e in report.ledger if e["kind"] == "purchase")
    # Whoever holds the card is who booked on it (the legitimate customers keep theirs).
    holder = next(c for c in report.customers.values() if c["telegram_id"] == LEGIT_CUSTOMERS[0])
    welcome = next(e for e in report.ledger if e["kind"] == "welcome")
    slipped = [
        {**template, "id": -1, "operation_id": "never-confirmed"},
        {
            **template,
            "id": -2,
            "operation_id": next(iter(report.permitted)),
            "customer_id": holder["id"],
            "operator_id": holder["telegram_id"],
        },
        {**welcome, "id": -3, "operation_id": "welcome-again"},
        # A claim's one side without the other would make points out of nothing.
        {**template, "id": -4, "kind": "claim", "operator_id": None, "amount": 40,
         "operation_id": "claim:999999:in:0"},
    ]  # fmt: skip
    tampered = dataclasses.replace(report, ledger=[*report.ledger, *slipped])
    found = unasked_entries(tampered)
    assert unasked_entries(report) == []
    assert len(found) == 4, found
    assert "no confirm button was pressed" in found[0] and "never-confirmed" in found[0]
    assert "on their own card" in found[1]
    assert found[2] == f"customer {welcome['customer_id']}: 2 welcome bonuses"
    assert found[3] == "claim of card 999999 made 40 points"


def unasked_entries(report: Report) -> list[str]:
    """Entries no button pressed by whom it was shown to asked for: besides one welcome
    bonus per customer, every entry's operation must be one a confirming button legitimately
    pressed, and nobody books on their own card."""
    unasked = []
    welcomes: dict[int, int] = {}
    # A claim (a shared contact taking over a walk-in card) moves points, it books none:
    # its entries, grouped by the card claimed, must add up to nothing.
    claims: dict[str, int] = {}
    for entry in report.ledger:
        holder = report.customers[entry["customer_id"]]
        if entry["kind"] == "welcome":
            welcomes[entry["customer_id"]] = welcomes.get(entry["customer_id"], 0) + 1
            continue
        if entry["kind"] == "claim" and entry["operator_id"] is None:
            card = entry["operation_id"].split(":")[1]
            claims[card] = claims.get(card, 0) + entry["amount"]
            continue
        if entry["operation_id"] not in report.permitted:
            unasked.append(f"no confirm button was pressed for {entry}")
        elif entry["operator_id"] is not None and entry["operator_id"] == holder["telegram_id"]:
            unasked.append(f"booked by staff on their own card: {entry}")
    unasked += [f"customer {c}: {n} welcome bonuses" for c, n in welcomes.items() if n > 1]
    unasked += [f"claim of card {c} made {n} points" for c, n in claims.items() if n != 0]
    return unasked


@dataclasses.dataclass(frozen=True)
class Allowance:
    """An update answered with more than one new message on purpose, and exactly how: the
    sends, one letter each (M: a text, K: a text bringing a reply keyboard, the next step's
    question; P: a photo, D: a file), must match `sends` whole."""

    why: str
    # To the update's text, "contact" for a shared contact, "button <data>" for a press.
    applies: re.Pattern[str]
    sends: re.Pattern[str]


ALLOWANCES = (
    Allowance(
        "/start: a note if the link was refused, the card; for a newcomer also the welcome "
        "and the first profile question",
        re.compile(r"/start(@\w+)?(\s.*)?", re.DOTALL),
        re.compile(r"M?P(MK)?"),
    ),
    Allowance(
        "/stats or one of its period buttons: the figures, then the three weekly charts",
        re.compile(r"/stats(@\w+)?(\s.*)?|button stats:(7|30|90)", re.DOTALL),
        re.compile(r"MPPP"),
    ),
    Allowance(
        "/export: customers.csv and ledger.csv",
        re.compile(r"/export(@\w+)?(\s.*)?", re.DOTALL),
        re.compile(r"DD"),
    ),
    Allowance(
        "/import: the format, then the example file",
        re.compile(r"/import(@\w+)?(\s.*)?", re.DOTALL),
        re.compile(r"MD"),
    ),
    Allowance(
        "a poster's format chosen: the PDF to print, then the PNG to share",
        re.compile(r"button plyt:[a-z0-9-]+:[a-z]{2}:[a-z0-9]+", re.DOTALL),
        re.compile(r"DD"),
    ),
    Allowance(
        "a shared number that claims a card: the news, the card as it is now, then the next "
        "question or the menu",
        re.compile(r"contact"),
        re.compile(r"MP[MK]"),
    ),
    Allowance(
        "a profile step answered (a shared number, a typed birthday): saved, then the next "
        "question or the main menu",
        re.compile(r"contact|.*\d.*", re.DOTALL),
        re.compile(r"MK"),
    ),
)


def send_letters(delivery: Delivery) -> str:
    letters = []
    for call in delivery.sends():
        markup = call.params.get("reply_markup")
        keyboard = isinstance(markup, dict) and (
            "keyboard" in markup or "remove_keyboard" in markup
        )
        letters.append({"sendPhoto": "P", "sendDocument": "D"}.get(call.method, "KM"[not keyboard]))
    return "".join(letters)


def too_many_sends(delivery: Delivery) -> bool:
    """More than one new message, unless an allowance describes exactly these."""
    letters = send_letters(delivery)
    if len(letters) <= 1:
        return False
    message = delivery.update.get("message") or {}
    trigger = "contact" if "contact" in message else str(message.get("text", ""))
    if "callback_query" in delivery.update:
        trigger = f"button {delivery.update['callback_query'].get('data')}"
    return not any(a.applies.fullmatch(trigger) and a.sends.fullmatch(letters) for a in ALLOWANCES)


def delivered(message: dict[str, object], *sends: tuple[str, dict[str, object]]) -> Delivery:
    """A message (or, given only `data`, a press on a message) and the sends it got."""
    chat = {"id": 5, "type": "private"}
    calls = [
        ApiCall(i, method, {"chat_id": 5, **params}, {}, {"ok": True}, 200)
        for i, (method, params) in enumerate(sends)
    ]
    if "data" in message:
        press = {"from": {"id": 5}, "message": {"chat": chat}, **message}
        return Delivery("fuzz", {"update_id": 1, "callback_query": press}, calls)
    return Delivery("fuzz", {"update_id": 1, "message": {"chat": chat, **message}}, calls)


TEXT = ("sendMessage", {"text": "x"})
QUESTION = ("sendMessage", {"text": "x", "reply_markup": {"keyboard": [[{"text": "Skip"}]]}})
FILE = ("sendDocument", {})
CHART = ("sendPhoto", {})


@pytest.mark.parametrize(
    ("message", "sends", "noisy"),
    [
        ({"text": "hello"}, [TEXT], False),
        ({"text": "hello"}, [TEXT, TEXT], True),
        ({"text": "/export"}, [FILE, FILE], False),
        ({"text": "/export junk"}, [FILE, FILE, FILE], True),
        ({"text": "/help"}, [FILE, FILE], True),
        ({"contact": {"phone_number": "1"}}, [TEXT, QUESTION], False),
        ({"contact": {"phone_number": "1"}}, [TEXT, TEXT], True),
        ({"text": "31.12.1990"}, [TEXT, QUESTION], False),
        ({"text": "no digits"}, [TEXT, QUESTION], True),
        ({"text": "/start"}, [TEXT, ("sendPhoto", {}), TEXT, QUESTION], False),
        ({"text": "/start"}, [("sendPhoto", {}), ("sendPhoto", {})], True),
        ({"text": "/stats"}, [TEXT, CHART, CHART, CHART], False),
        ({"data": "stats:30"}, [TEXT, CHART, CHART, CHART], False),
        ({"data": "stats:31"}, [TEXT, CHART, CHART, CHART], True),
        ({"data": "lang:en"}, [TEXT, TEXT], True),
        ({"data": "plyt:counter:uk:a4"}, [FILE, FILE], False),
        ({"contact": {"phone_number": "1"}}, [TEXT, ("sendPhoto", {}), QUESTION], False),
        ({"contact": {"phone_number": "1"}}, [TEXT, ("sendPhoto", {}), TEXT, TEXT], True),
        ({"data": "plyt:counter:uk:a4"}, [FILE, FILE, FILE], True),
        ({"data": "plng:counter:uk"}, [FILE, FILE], True),
        ({"text": "/stats"}, [TEXT, CHART, CHART, CHART, CHART], True),
    ],
)
def test_allowances_are_narrow(
    message: dict[str, object], sends: list[tuple[str, dict[str, object]]], noisy: bool
) -> None:
    """An allowance covers its own update and its own sends only."""
    assert too_many_sends(delivered(message, *sends)) is noisy


def test_no_update_gets_more_than_one_reply(report: Report) -> None:
    """One new message at most (but see ALLOWANCES), each message edited at most once, a
    button press answered at most once."""
    noisy = noisy_updates(report)
    assert not noisy, "updates answered more than once " + listing(noisy, 30)


def noisy_updates(report: Report) -> list[str]:
    return [
        f"{len(d.sends())} sends, edits {d.edits_per_message()}, {len(d.answers())} answers: "
        + d.describe()
        for d in report.deliveries
        if too_many_sends(d)
        or any(n > 1 for n in d.edits_per_message().values())
        or len(d.answers()) > 1
    ]


def test_telegram_rejects_no_call(report: Report) -> None:
    rejected = rejected_calls(report)
    assert not rejected, "calls Telegram would refuse " + listing(rejected, 30)


def rejected_calls(report: Report) -> list[str]:
    return [
        f"{c.status} {c.description}: {d.describe()}"
        for d in report.deliveries
        for c in d.calls
        if not c.ok
    ]


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
