"""Editing the program as pure functions: keys and typed values read by kind, list items
added, changed and removed, the whole validated by the loader, the changes key by key, the
effects on customers, and drafts taken once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.domain.program.document import program_to_document
from bot.domain.program.editing import (
    Change,
    Draft,
    ProgramDrafts,
    apply_command,
    changes,
    effects,
    set_value,
    tier_renames,
    validate,
)
from bot.domain.program.loader import ProgramError
from bot.domain.program.model import Earning, Program, Tier
from bot.domain.program.schema import FIELDS, LISTS, EditError, Path, parse_path, read_value
from storage import Customer
from tests.conftest import TEST_PROGRAM

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def document() -> dict[str, Any]:
    return program_to_document(TEST_PROGRAM)


@pytest.mark.parametrize(
    ("key", "typed", "value"),
    [
        ("earn_rate", "12,50", 12.5),
        ("earn_rate", "2", 2),
        ("min_purchase", "0", 0),
        ("max_purchase", "1 500", 1500),
        ("welcome_bonus", "50", 50),
        ("max_redeem_share", "40%", 40),
        ("weekly_digest", "no", False),
        ("earning", "stamps", "stamps"),
        ("cause", "  Shelter  ", "Shelter"),
        ("cause", "-", None),
    ],
)
def test_typed_values_are_read_by_kind(key: str, typed: str, value: Any) -> None:
    field = parse_path(key).field
    assert field is not None
    assert read_value(field, key, typed) == value


@pytest.mark.parametrize(
    ("key", "typed", "problem"),
    [
        ("earn_rate", "1.234", "must be an amount like 500 or 499.99"),
        ("earn_rate", "-1", "must be an amount like 500 or 499.99"),
        ("welcome_bonus", "1.5", "must be a whole number, like 50"),
        ("weekly_digest", "maybe", "must be true or false"),
        ("earning", "gold", "must be one of {options}"),
    ],
)
def test_bad_typed_values_name_the_key(key: str, typed: str, problem: str) -> None:
    field = parse_path(key).field
    assert field is not None
    with pytest.raises(EditError) as raised:
        read_value(field, key, typed)
    assert (raised.value.key, raised.value.problem) == (key, problem)


def test_paths() -> None:
    assert parse_path("tiers[2].spend") == Path("tiers", 2, "spend")
    assert str(parse_path("rewards[1]")) == "rewards[1]"
    for wrong in ("colour", "tiers[0].spend", "tiers[1].colour", "earn_rate[1]", "tiers.x"):
        with pytest.raises(EditError):
            parse_path(wrong)
    # Every key the editor offers is one the loader knows.
    for fields in FIELDS.values():
        for field in fields:
            assert field.key in program_to_document(TEST_PROGRAM)
    assert set(LISTS) == {"tiers", "rewards"}


def test_tiers_added_changed_and_removed() -> None:
    _path, added = apply_command(document(), "tiers[4] Platinum 3000 2,5")
    assert validate(added).tiers[3] == Tier("Platinum", 300_000, 250)
    _path, inline = apply_command(document(), 'tiers[4] {name = "Platinum", spend = 3000}')
    assert validate(inline).tiers[3] == Tier("Platinum", 300_000)
    renamed = set_value(added, Path("tiers", 4, "name"), "Diamond")
    assert validate(renamed).tiers[3].name == "Diamond"
    shared = set_value(renamed, Path("tiers", 4, "max_redeem_share"), "80")
    assert validate(shared).tiers[3].max_redeem_share == 80
    cleared = set_value(shared, Path("tiers", 4, "max_redeem_share"), "-")
    assert validate(cleared).tiers[3].max_redeem_share is None
    removed = set_value(cleared, Path("tiers", 2), "remove")
    assert [t.name for t in validate(removed).tiers] == ["Bronze", "Gold", "Diamond"]
    with pytest.raises(EditError):
        set_value(document(), Path("tiers", 7), "Far 9000")  # not the next position
    with pytest.raises(EditError):
        set_value(document(), Path("tiers", 4), "Platinum")  # no spend
    assert document() == program_to_document(TEST_PROGRAM)  # edits work on copies


def test_the_loader_judges_the_whole_program() -> None:
    lower = set_value(document(), Path("tiers", 2, "spend"), "0")
    with pytest.raises(ProgramError) as raised:
        validate(lower)
    assert raised.value.key == "tiers[2].spend"
    assert raised.value.problem == "must be higher than the tier before"
    cashback = set_value(document(), Path("earning"), "cashback")
    with pytest.raises(ProgramError) as raised:
        validate(cashback)
    assert raised.value.key == "point_value"


def test_changes_key_by_key() -> None:
    new = set_value(document(), Path("tiers", 2, "spend"), "800")
    new = set_value(new, Path("earn_rate"), "2")
    found = changes(document(), new)
    assert [(str(c.path), c.old, c.new) for c in found] == [
        ("earn_rate", 1, 2),
        ("tiers[2].spend", 500, 800),
    ]
    shorter = set_value(document(), Path("tiers", 3), "remove")
    assert [(str(c.path), c.new) for c in changes(document(), shorter)] == [("tiers[3]", None)]


def test_a_middle_item_removed_is_one_removal() -> None:
    middle = set_value(document(), Path("tiers", 2), "remove")
    assert changes(document(), middle) == [
        Change(Path("tiers", 2), {"name": "Silver", "spend": 500, "multiplier": 1}, None)
    ]
    _path, catalogue = apply_command(document(), "rewards[1] Tea 10")
    _path, catalogue = apply_command(catalogue, "rewards[2] Cake 20")
    _path, catalogue = apply_command(catalogue, "rewards[3] Pie 30")
    _path, fewer = apply_command(catalogue, "rewards[2] remove")
    _path, fewer = apply_command(fewer, "rewards[2].cost 35")  # Pie, now second, costs more
    assert changes(catalogue, fewer) == [
        Change(Path("rewards", 2, "cost"), 30, 35),
        Change(Path("rewards", 2), {"name": "Cake", "cost": 20}, None),
    ]
    renamed = set_value(document(), Path("tiers", 2, "name"), "Argent")  # same count: in place
    assert changes(document(), renamed) == [Change(Path("tiers", 2, "name"), "Silver", "Argent")]


def test_automatic_offers_are_compared_too() -> None:
    offer = {"when": "birthday", "title": "Cake", "reward": "points", "value": 100}
    with_offer = program_to_document(validate(dict(document(), auto_offers=[offer])))
    found = changes(document(), with_offer)
    assert [(c.path, c.old) for c in found] == [(Path("auto_offers"), [])]
    assert found[0].new == with_offer["auto_offers"]
    assert changes(with_offer, document())[0].new == []


class Spends:
    """The one storage call effects make."""

    def __init__(self, rows: list[tuple[Customer, int]]) -> None:
        self.rows = rows

    async def spends(self, window_start: datetime | None) -> list[tuple[Customer, int]]:
        return self.rows


def customer(number: int, tier: str, balance: int) -> Customer:
    return Customer(
        number,
        number,
        "X",
        "en",
        None,
        None,
        f"{number:08d}",
        f"c_{number}",
        True,
        balance,
        None,
        None,
        NOW,
        NOW,
        False,
        tier,
    )


async def test_effects_count_tier_moves_and_stamps_held() -> None:
    rows = [(customer(1, "Silver", 10), 60_000), (customer(2, "Bronze", 0), 160_000)]
    higher = validate(set_value(document(), Path("tiers", 2, "spend"), "700"))
    found = await effects(Spends(rows), TEST_PROGRAM, higher, NOW)  # type: ignore[arg-type]
    assert (found.moving_down, found.moving_up) == (1, 1)  # Silver falls; Bronze reached Gold
    assert found.example is None and found.switch is None
    doubled = validate(set_value(document(), Path("earn_rate"), "2"))
    found = await effects(Spends(rows), TEST_PROGRAM, doubled, NOW)  # type: ignore[arg-type]
    assert found.moving_down is None and found.example == (10, 20)
    stamps = Program(1, (Tier("Bronze", 0),), Earning.STAMPS, stamp_reward="Tea")
    points = Program(1, (Tier("Bronze", 0),))
    found = await effects(Spends(rows), stamps, points, NOW)  # type: ignore[arg-type]
    assert found.holders == (1, 10) and found.switch == (Earning.STAMPS, Earning.POINTS)
    assert found.worth_minor == 50  # 10 points at 0.05
    to_stamps = Program(1, (Tier("Bronze", 0),), Earning.STAMPS, stamp_reward="Tea")
    found = await effects(Spends(rows), points, to_stamps, NOW)  # type: ignore[arg-type]
    assert found.holders == (1, 10) and found.rewards_ready == 1  # 10 stamps make one


def test_a_draft_is_taken_once_and_only_by_its_owner() -> None:
    drafts = ProgramDrafts()
    draft = Draft(7, 1, document(), "telegram", (), document())
    key = drafts.add(draft)
    assert drafts.take(key, 8) is None
    assert drafts.take(key, 7) is draft
    assert drafts.take(key, 7) is None
    for _ in range(ProgramDrafts.LIMIT + 5):
        drafts.add(draft)
    assert len(drafts._drafts) == ProgramDrafts.LIMIT


def test_rewards_added_changed_and_removed() -> None:
    _path, added = apply_command(document(), "rewards[1] Free cake 200")
    assert [(r.name, r.cost) for r in validate(added).rewards] == [("Free cake", 200)]
    cheaper = set_value(added, Path("rewards", 1, "cost"), "150")
    assert validate(cheaper).rewards[0].cost == 150
    with pytest.raises(EditError):
        apply_command(cheaper, "rewards[1].cost 1.5")  # whole points only
    with pytest.raises(ProgramError) as raised:
        validate(set_value(cheaper, Path("rewards", 1, "cost"), "0"))
    assert raised.value.key == "rewards[1].cost"
    _path, removed = apply_command(cheaper, "rewards[1] remove")
    assert validate(removed).rewards == ()


def test_tiers_renamed_in_place_are_found() -> None:
    def named(*names: str) -> Program:
        spends = (0, 50_000, 150_000, 300_000)
        return Program(
            welcome_bonus=0,
            tiers=tuple(Tier(n, s) for n, s in zip(names, spends[: len(names)], strict=True)),
        )

    old = named("Bronze", "Silver", "Gold")
    assert tier_renames(old, named("Bronze", "Argent", "Gold")) == {"Silver": "Argent"}
    assert tier_renames(old, named("Bronze", "Gold", "Silver")) == {}  # a reorder, not a rename
    assert tier_renames(old, named("Bronze", "Silver")) == {}  # removed
    assert tier_renames(old, named("Bronze", "Silver", "Gold", "Platinum")) == {}  # added
    assert tier_renames(old, old) == {}
