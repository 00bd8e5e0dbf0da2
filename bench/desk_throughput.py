"""Throughput and latency of the cashier's desk, next to a bare aiogram echo bot.

Each bot runs as its own process (`python -m bot`, `python -m bench.echo_bot`) against the same
fake Bot API server on 127.0.0.1 (the one the tests use), which runs here with the simulated
users; every update and reply crosses real HTTP, and the bot has its own CPU as it would
beside Telegram's servers. Simulated cashiers work in parallel:
scan a card (deep link), type an amount, confirm; every fifth customer also spends points,
which needs the customer's own confirmation. Each step is one update answered by one reply;
its latency runs from the moment the update is queued to the moment the reply arrives.
The echo runs three times a round: on aiogram's session as it comes (the framework's
ceiling), with the reply models kept (`KeepResponseTypes`), and on the loyalty bot's whole
session (the same transport as the desk).

    .venv/bin/python -m bench.desk_throughput --steps 3000 --rounds 3

`--bot-src PATH` also runs the desk and the echo on the bot's session from another source
tree (say, an export of the commit before a change: `git archive REV | tar -x -C PATH`),
with PYTHONPATH set to it, alternating with this tree's in every round, so a before and an
after are measured in one run under the same load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain.tokens import distinct_card_identities
from storage import SQLiteStorage
from tests.fakeapi import TOKEN, FakeTelegram

# The echo's sessions (bench/echo_bot.py) and the names the report gives them.
ECHOES = {"aiogram": "echo", "kept": "echo+kept", "bot": "echo/bot"}
REPLY_METHODS = frozenset({"sendMessage", "editMessageText", "sendPhoto"})
ROOT = Path(__file__).resolve().parent.parent
# Starts `module` with the SendPacer's limit of messages a second set to argv[1]. At
# Telegram's 30 the bot idles behind the pace and the run measures the pacer; the bench
# measures what the bot's CPU can do. Written for both homes of the pacer, so older trees
# (--bot-src) run the same way.
LAUNCH = """
import importlib, os, runpy, sys
limit, module = int(sys.argv[1]), sys.argv[2]
del sys.argv[1:]
for name in ("bot.telegram.pacing", "bot.pacing"):
    try:
        pacing = importlib.import_module(name)
    except ImportError:
        continue
    # The editable install may answer for a name this tree lacks: take only this tree's.
    if os.path.abspath(pacing.__file__).startswith(os.getcwd() + os.sep):
        break
else:
    raise SystemExit("no SendPacer in " + os.getcwd())
init = pacing.SendPacer.__init__
init.__defaults__ = (limit, *init.__defaults__[1:])
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""
UNPACED = 1_000_000


class TimedFake(FakeTelegram):
    """The test server, plus a cheap way to await the next reply in a chat."""

    def __init__(self) -> None:
        super().__init__()
        self.polled = asyncio.Event()
        self.calls = 0  # Bot API calls other than getUpdates
        # Per chat and method: futures for the next reply, each with the button it must carry.
        self._waiters: dict[
            tuple[int, str], list[tuple[asyncio.Future[dict[str, Any]], str | None]]
        ] = defaultdict(list)

    def _record(self, method: str, params: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        super()._record(method, params, *args, **kwargs)
        self.requests.clear()  # the benchmark does not read the log; keep memory flat
        if method == "getUpdates":
            self.polled.set()
        else:
            self.calls += 1
        if method in REPLY_METHODS:
            chat = params.get("chat_id")
            with contextlib.suppress(TypeError, ValueError):
                key = (int(chat), method)  # type: ignore[arg-type]
                markup = json.dumps(params.get("reply_markup"), ensure_ascii=False)
                waiting = []
                for waiter, button in self._waiters.pop(key, []):
                    if button is not None and button not in markup:
                        waiting.append((waiter, button))  # an earlier message, not this one
                    elif not waiter.done():
                        waiter.set_result(params)
                if waiting:
                    self._waiters[key] = waiting

    def reply(
        self, chat_id: int, method: str, button: str | None = None
    ) -> asyncio.Future[dict[str, Any]]:
        """The next reply in the chat (with `button`: the next whose keyboard mentions it, so
        a late receipt is not taken for the answer to a request)."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters[(chat_id, method)].append((future, button))
        return future


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    steps: int = 0

    async def step(
        self,
        fake: TimedFake,
        chat: int,
        kind: str,
        send: Any,
        method: str = "sendMessage",
        also: tuple[int, str] | None = None,
        button: str | None = None,
    ) -> dict[str, Any]:
        """Queue one update and wait for its reply (and, with `also`, a second one)."""
        waiter = fake.reply(chat, method, button)
        extra = fake.reply(*also) if also else None
        started = time.perf_counter()
        send()
        try:
            params = await asyncio.wait_for(waiter, 30)
        except TimeoutError:
            raise RuntimeError(f"no {method} in chat {chat} after the {kind} step") from None
        if extra is not None:
            await asyncio.wait_for(extra, 30)
        self.latencies[kind].append(time.perf_counter() - started)
        self.steps += 1
        return params

    def report(self, name: str, seconds: float, calls: int, cpu: float | None) -> dict[str, float]:
        every = [value for values in self.latencies.values() for value in values]
        result = {
            "ops_per_s": self.steps / seconds,
            "p50_ms": statistics.median(every) * 1000,
            "p99_ms": statistics.quantiles(every, n=100)[98] * 1000,
        }
        print(
            f"{name:8} {self.steps:6} steps in {seconds:6.2f} s: {result['ops_per_s']:7.1f} ops/s, "
            f"p50 {result['p50_ms']:6.1f} ms, p99 {result['p99_ms']:6.1f} ms"
        )
        spent = f", bot CPU {cpu * 1000 / self.steps:.2f} ms" if cpu is not None else ""
        print(f"         per step: {calls / self.steps:.2f} Bot API calls{spent}")
        for kind, values in sorted(self.latencies.items()):
            median = statistics.median(values) * 1000
            print(f"         {kind:10} n={len(values):5} p50 {median:6.1f} ms")
        return result


async def spawn(
    module: str, src: Path = ROOT, pace: int = UNPACED, **env: str
) -> asyncio.subprocess.Process:
    """Start a bot process from the source tree `src`, sending at most `pace` messages a
    second; its stderr is kept to explain a failure. PYTHONPATH comes before the editable
    install, so `src` is what runs."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    environ = {key: value for key, value in os.environ.items() if key in keep}
    environ.update(PYTHONPATH=str(src), **env)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LAUNCH,
        str(pace),
        module,
        cwd=src,
        env=environ,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def started(process: asyncio.subprocess.Process, fake: TimedFake) -> None:
    polled = asyncio.ensure_future(fake.polled.wait())
    exited = asyncio.ensure_future(process.wait())
    await asyncio.wait({polled, exited}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    exited.cancel()
    if not polled.done():
        polled.cancel()
        await stop(process)
        raise RuntimeError("the bot did not start polling")
    await idle(process)


async def idle(process: asyncio.subprocess.Process, timeout: float = 60) -> None:
    """Wait until the bot is done with its start-up work (the catch-up run of the daily jobs
    over every customer), so the measurement counts only the steps."""
    deadline = time.monotonic() + timeout
    before = cpu_seconds(process)
    while before is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        after = cpu_seconds(process)
        if after is None or after - before < 0.02:  # under 4% of a core: polling, nothing else
            return
        before = after


def cpu_seconds(process: asyncio.subprocess.Process) -> float | None:
    """User plus system CPU of a running process, where /proc tells it."""
    try:
        with open(f"/proc/{process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_between(before: float | None, after: float | None) -> float | None:
    return after - before if before is not None and after is not None else None


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    if process.returncode not in (0, -signal.SIGTERM):
        raise RuntimeError(f"the bot exited with {process.returncode}: {stderr.decode()}")


async def run_echo(
    steps: int, workers: int, session: str = "aiogram", src: Path = ROOT, name: str = ""
) -> dict[str, float]:
    fake = TimedFake()
    await fake.start()
    process = await spawn(
        "bench.echo_bot", src, BOT_TOKEN=TOKEN, BOT_API_URL=fake.base_url, ECHO_SESSION=session
    )
    await started(process, fake)
    stats = Stats()
    users = [fake.user(10_000 + i, f"U{i}") for i in range(workers)]

    async def worker(user: dict[str, Any], count: int) -> None:
        for index in range(count):
            text = f"hi {index}"
            await stats.step(fake, user["id"], "echo", lambda t=text: fake.send_message(user, t))

    cpu, began, calls = cpu_seconds(process), time.perf_counter(), fake.calls
    await asyncio.gather(*(worker(user, steps // workers) for user in users))
    elapsed, calls = time.perf_counter() - began, fake.calls - calls
    cpu = cpu_between(cpu, cpu_seconds(process))
    await stop(process)
    await fake.stop()
    return stats.report(name or ECHOES[session], elapsed, calls, cpu)


def seed(path: Path, customers: int, cashiers: list[int]) -> list[tuple[int, str]]:
    """Customers and staff written straight into a migrated database, in one transaction."""
    db = sqlite3.connect(path)
    now = "2026-01-01T00:00:00.000000+00:00"
    rows = [
        (50_000 + index, f"Customer {index}", "en", number, payload, 500, now, now)
        for index, (number, payload) in enumerate(distinct_card_identities(customers))
    ]
    with db:
        db.executemany(
            "INSERT INTO customers (telegram_id, name, language, card_number, card_payload, "
            "balance, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.execute(
            "INSERT INTO ledger (customer_id, kind, amount, reason, operation_id, created_at) "
            "SELECT id, 'welcome', 500, 'seed', 'seed-' || id, ? FROM customers",
            (now,),
        )
        db.executemany(
            "INSERT INTO staff (telegram_id, name, added_at) VALUES (?, ?, ?)",
            [(cashier, f"Cashier {cashier}", now) for cashier in cashiers],
        )
    db.close()
    return [(row[0], row[4]) for row in rows]


async def run_desk(
    steps: int, workers: int, customers: int, src: Path = ROOT, name: str = "desk"
) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="desk-bench-"))
    database = folder / "bench.db"
    storage = await SQLiteStorage.open(str(database))
    await storage.close()
    cashier_ids = [20_000 + i for i in range(workers)]
    cards = seed(database, customers, cashier_ids)

    fake = TimedFake()
    await fake.start()
    process = await spawn(
        "bot",
        src,
        BOT_TOKEN=TOKEN,
        BOT_API_URL=fake.base_url,
        DATABASE_URL=f"sqlite:///{database}",
        SHOP_NAME="Bench shop",
        LOG_LEVEL="WARNING",
        PROGRAM_FILE=str(src / "program.toml"),
        # Simulated cashiers confirm several times a second; real tills are slower.
        CASHIER_BOOKINGS_PER_MINUTE="100000",
    )
    await started(process, fake)
    stats = Stats()
    rng = random.Random(7)

    def last_with(chat: int, label: str) -> Any:
        return next(
            m
            for m in reversed(fake.messages(chat))
            if any(label in b.get("text", "") for b in m.buttons())
        )

    async def worker(cashier_id: int, budget: int, mine: list[tuple[int, str]]) -> None:
        # Each cashier serves its own customers, so no two wait on the same customer's chat.
        cashier = fake.user(cashier_id, f"Cashier {cashier_id}")
        done = 0
        while done < budget:
            telegram_id, payload = rng.choice(mine)
            customer = fake.user(telegram_id, "Customer", language_code="en")
            scan = f"/start {payload}"
            await stats.step(fake, cashier_id, "scan", lambda t=scan: fake.send_message(cashier, t))
            amount = f"{rng.randint(1, 200)}.{rng.randint(0, 99):02d}"
            await stats.step(
                fake, cashier_id, "amount", lambda t=amount: fake.send_message(cashier, t)
            )
            confirm = last_with(cashier_id, "Confirm")
            await stats.step(
                fake,
                cashier_id,
                "confirm",
                lambda m=confirm: fake.press(cashier, m, m.callback("Confirm")),
                method="editMessageText",
            )
            done += 3
            if rng.random() < 0.2:
                view = last_with(cashier_id, "Spend points")
                await stats.step(
                    fake,
                    cashier_id,
                    "spend",
                    lambda m=view: fake.press(cashier, m, m.callback("Spend")),
                )
                await stats.step(fake, cashier_id, "bill", lambda: fake.send_message(cashier, "50"))
                ask = last_with(cashier_id, "Spend")
                await stats.step(
                    fake,
                    telegram_id,
                    "request",
                    lambda m=ask: fake.press(cashier, m, m.callback("Spend")),
                    also=(cashier_id, "sendMessage"),
                    button="Yes",
                )
                request = last_with(telegram_id, "Yes")
                await stats.step(
                    fake,
                    telegram_id,
                    "customer",
                    lambda c=customer, m=request: fake.press(c, m, m.callback("Yes")),
                    method="editMessageText",
                    also=(cashier_id, "editMessageText"),
                )
                done += 4

    cpu, began, calls = cpu_seconds(process), time.perf_counter(), fake.calls
    await asyncio.gather(
        *(
            worker(cashier, steps // workers, cards[index::workers])
            for index, cashier in enumerate(cashier_ids)
        )
    )
    elapsed, calls = time.perf_counter() - began, fake.calls - calls
    cpu = cpu_between(cpu, cpu_seconds(process))
    await stop(process)
    await fake.stop()
    storage = await SQLiteStorage.open(str(database))
    mismatches = await storage.balance_mismatches()
    await storage.close()
    assert mismatches == [], mismatches
    return stats.report(name, elapsed, calls, cpu)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--cashiers", type=int, default=20)
    parser.add_argument("--steps", type=int, default=3_000)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="the three echoes and the desk, alternated; medians compared",
    )
    parser.add_argument(
        "--bot-src",
        type=Path,
        help="another source tree whose desk and echo/bot run beside this one's in each round",
    )
    args = parser.parse_args()
    other: Path | None = args.bot_src.resolve() if args.bot_src else None
    if other is not None and not (other / "bot" / "__main__.py").is_file():
        parser.error(f"{other} is not a source tree of the bot")
    # A shared 2-core machine drifts by tens of percent within a minute; alternating the
    # bots and comparing medians keeps one lucky or unlucky run from deciding the ratio.
    echoes: dict[str, list[float]] = {session: [] for session in ECHOES}
    desk: list[float] = []
    before: dict[str, list[float]] = {"desk": [], "echo/bot": []}
    for _ in range(args.rounds):
        for session, figures in echoes.items():
            figures.append((await run_echo(args.steps, args.cashiers, session))["ops_per_s"])
            if other is not None and session == "bot":
                result = await run_echo(args.steps, args.cashiers, session, other, "echo/bot<")
                before["echo/bot"].append(result["ops_per_s"])
        desk.append((await run_desk(args.steps, args.cashiers, args.customers))["ops_per_s"])
        if other is not None:
            result = await run_desk(args.steps, args.cashiers, args.customers, other, "desk<")
            before["desk"].append(result["ops_per_s"])
    ours = statistics.median(desk)
    print(f"medians of {args.rounds} rounds: desk {ours:.1f} ops/s")
    for session, figures in echoes.items():
        ceiling = statistics.median(figures)
        print(f"  {ECHOES[session]:9} {ceiling:7.1f} ops/s: desk = {ours / ceiling:.0%} of it")
    if other is not None:
        print(f"from {other} (marked <), against this tree:")
        mine = {"desk": ours, "echo/bot": statistics.median(echoes["bot"])}
        for name, figures in before.items():
            theirs = statistics.median(figures)
            print(
                f"  {name:9} {theirs:7.1f} ops/s there, {mine[name]:7.1f} here: "
                f"here = {mine[name] / theirs:.0%} of there"
            )


if __name__ == "__main__":
    asyncio.run(main())
