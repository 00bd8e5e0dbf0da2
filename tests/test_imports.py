"""Reading a plastic-card CSV: encodings, delimiters, headers, every row problem, and the dry
run against existing customers."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.domain.context import Context
from bot.domain.imports import (
    MAX_BYTES,
    MAX_ROWS,
    FileProblem,
    ImportFileError,
    RowProblem,
    decode,
    dry_run,
    import_rows,
    normalize_legacy,
    read_rows,
)
from bot.domain.program.model import Program, Tier
from storage import SQLiteStorage

TODAY = date(2026, 3, 1)
GOOD = (
    "card_number,name,phone,birthday,balance,spend,joined\n"
    "004512,Olena Koval,067 123 45 67,17.05.1990,340,1250.50,02.04.2019\n"
    "004513,Ivan,+380671234568,,0,,\n"
)


def problem(data: bytes) -> ImportFileError:
    with pytest.raises(ImportFileError) as caught:
        read_rows(data, "UA", TODAY)
    return caught.value


def test_a_good_file_reads_every_column() -> None:
    rows, issues, count = read_rows(GOOD.encode(), "UA", TODAY)
    assert issues == [] and count == 2
    first = rows[0]
    assert (first.line, first.legacy_number, first.name, first.phone) == (
        2,
        "004512",
        "Olena Koval",
        "+380671234567",
    )
    assert (first.birthday, first.balance, first.spend_minor, first.joined) == (
        date(1990, 5, 17),
        340,
        125_050,
        date(2019, 4, 2),
    )
    assert (rows[1].birthday, rows[1].spend_minor, rows[1].joined) == (None, 0, None)


def test_header_order_case_and_languages_do_not_matter() -> None:
    text = "Баланс;Телефон;Номер картки;Ім'я\n10;0671234567;A-17;Олена\n"
    rows, issues, _ = read_rows(text.encode(), "UA", TODAY)
    assert issues == []
    assert (rows[0].legacy_number, rows[0].balance, rows[0].name) == ("A17", 10, "Олена")
    english = "PHONE,Balance,Card Number\n+380671234567,5,9\n"
    assert read_rows(english.encode(), None, TODAY)[0][0].legacy_number == "9"


def test_cp1251_with_semicolons_and_utf8_with_bom() -> None:
    text = "номер;имя;телефон;баланс\n77;Петро Іваненко;0671234567;15\n"
    rows, issues, _ = read_rows(text.encode("cp1251"), "UA", TODAY)
    assert issues == [] and rows[0].name == "Петро Іваненко"
    rows, _, _ = read_rows(b"\xef\xbb\xbf" + GOOD.encode(), "UA", TODAY)
    assert rows[0].legacy_number == "004512"


def test_every_row_problem_names_its_line() -> None:
    text = (
        "card_number,name,phone,birthday,balance,spend,joined\n"
        ",No card,,,1,,\n"  # 2
        "55,Bad phone,12,,1,,\n"  # 3
        "56,Negative,,,-5,,\n"  # 4
        "57,Not a number,,,ten,,\n"  # 5
        "58,Bad date,,31.02.1990,1,,\n"  # 6
        "59,Future join,,,1,,01.01.2030\n"  # 7
        "60,Bad spend,,,1,12.345,\n"  # 8
        "61,First,0671234567,,1,,\n"  # 9
        "61,Same card,,,1,,\n"  # 10
        "62,Same phone,+380 67 123 45 67,,1,,\n"  # 11
        "63,Too many,,,1,,,extra\n"  # 12
        "6 4,Fine,,,,,\n"  # 13
    )
    rows, issues, count = read_rows(text.encode(), "UA", TODAY)
    assert count == 12
    assert [(i.line, i.problem) for i in issues] == [
        (2, RowProblem.NO_CARD),
        (3, RowProblem.BAD_PHONE),
        (4, RowProblem.NEGATIVE_BALANCE),
        (5, RowProblem.BAD_BALANCE),
        (6, RowProblem.BAD_BIRTHDAY),
        (7, RowProblem.BAD_JOINED),
        (8, RowProblem.BAD_SPEND),
        (10, RowProblem.DUPLICATE_CARD),
        (11, RowProblem.DUPLICATE_PHONE),
        (12, RowProblem.COLUMNS),
    ]
    assert issues[7].other == "9" and issues[8].other == "9"
    assert [(r.legacy_number, r.balance) for r in rows] == [("61", 1), ("64", 0)]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", FileProblem.EMPTY),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", FileProblem.BINARY),
        (b"PK\x03\x04\x14\x00\x06\x00", FileProblem.SPREADSHEET),
        (b"name,email\nAnn,a@example.com\n", FileProblem.NO_HEADER),
        (b"card_number,balance\n", FileProblem.NO_ROWS),
        (
            "номер;баланс\n1;2\n".encode() + "2;3;Петро\n".encode("cp1251"),
            FileProblem.MIXED_ENCODING,
        ),
    ],
)
def test_whole_file_problems(data: bytes, expected: FileProblem) -> None:
    assert problem(data).problem is expected


def test_no_header_says_what_it_found() -> None:
    error = problem(b"name,email\nAnn,a@example.com\n")
    assert error.params["found"] == "name, email"
    assert "card_number" in error.message


def test_mixed_encodings_name_the_first_other_line() -> None:
    data = "номер;баланс\n1;2\n".encode() + "2;3;Петро\n".encode("cp1251")
    assert problem(data).params["line"] == 3


def test_size_and_row_limits() -> None:
    assert problem(b"x" * (MAX_BYTES + 1)).problem is FileProblem.TOO_LARGE
    many = "card_number,balance\n" + "".join(f"{n},1\n" for n in range(MAX_ROWS + 1))
    error = problem(many.encode())
    assert error.problem is FileProblem.TOO_MANY_ROWS and error.params["limit"] == MAX_ROWS


def test_decode_refuses_text_full_of_control_characters() -> None:
    with pytest.raises(ImportFileError):
        decode(bytes(range(1, 32)) * 10)


def test_legacy_numbers_keep_their_zeros() -> None:
    assert normalize_legacy(" #0045 12 ") == "004512"
    assert normalize_legacy("ab-12") == "AB12"


PROGRAM = Program(welcome_bonus=0, tiers=(Tier("Bronze", 0), Tier("Silver", 100_000)))


async def test_dry_run_checks_existing_customers_and_import_books_once(
    storage: SQLiteStorage,
) -> None:
    context = Context(storage, PROGRAM, ZoneInfo("Europe/Kyiv"), "UA")
    run = await dry_run(context, GOOD.encode())
    assert len(run.rows) == 2 and run.issues == () and run.points == 340
    outcome = await import_rows(context, run)
    assert outcome.created == 2
    card = await storage.customer_by_legacy_number("004512")
    assert card is not None and card.tier == "Silver"  # 1 250.50 spent reaches Silver
    again = await dry_run(context, GOOD.encode())
    assert again.rows == () and again.already == 2 and again.issues == ()
    # Another file with the same card or phone is refused row by row.
    other = "card_number,phone,balance\n004512,,1\n9999,0671234568,1\n8888,,2\n"
    clashing = await dry_run(context, other.encode())
    assert [(i.line, i.problem) for i in clashing.issues] == [
        (2, RowProblem.CARD_TAKEN),
        (3, RowProblem.PHONE_TAKEN),
    ]
    assert [r.legacy_number for r in clashing.rows] == ["8888"]


def test_excel_sep_line_and_whole_numbers_written_with_decimals() -> None:
    text = "sep=;\ncard_number;balance;name\n12;340.00;Ann, Bo\n13;5,0;\n14;5.5;\n"
    rows, issues, _ = read_rows(text.encode(), None, TODAY)
    assert [(r.line, r.legacy_number, r.balance, r.name) for r in rows] == [
        (3, "12", 340, "Ann, Bo"),
        (4, "13", 5, ""),
    ]
    assert [(i.line, i.problem) for i in issues] == [(5, RowProblem.BAD_BALANCE)]


def test_a_thousands_separator_in_a_balance_is_a_row_problem_not_a_smaller_number() -> None:
    text = 'card_number;balance\n1;1.000\n2;"10,000"\n3;2.500\n4;1 000\n5;12,5\n'
    rows, issues, _ = read_rows(text.encode(), "MK", TODAY)
    assert [(r.legacy_number, r.balance) for r in rows] == [("4", 1000)]
    assert [(i.line, i.problem) for i in issues] == [
        (2, RowProblem.BAD_BALANCE),
        (3, RowProblem.BAD_BALANCE),
        (4, RowProblem.BAD_BALANCE),
        (6, RowProblem.BAD_BALANCE),
    ]


def test_excel_tab_sep_line_names_the_tab() -> None:
    rows, issues, _ = read_rows(b"sep=\t\ncard_number\tbalance\n1\t5\n", "UA", TODAY)
    assert [(r.line, r.legacy_number, r.balance) for r in rows] == [(3, "1", 5)]
    assert issues == []


def test_a_thai_shop_reads_windows_874() -> None:
    text = "card_number,name,balance\n9,สมชาย,10\n"
    rows, _, _ = read_rows(text.encode("cp874"), "TH", TODAY)
    assert rows[0].name == "สมชาย"


def test_the_example_file_is_the_one_the_bot_sends_and_is_clean() -> None:
    from pathlib import Path

    from bot.domain.imports import EXAMPLE_CSV

    example = Path(__file__).parent.parent / "docs" / "plastic-cards-example.csv"
    assert example.read_text() == EXAMPLE_CSV
    rows, issues, count = read_rows(EXAMPLE_CSV.encode(), None, TODAY)
    assert issues == [] and len(rows) == count == 3


async def test_a_typed_phone_finds_its_customer_before_an_old_card_numbered_like_it(
    storage: SQLiteStorage,
) -> None:
    from bot.domain import finding
    from bot.domain.tokens import new_card_identity

    context = Context(storage, PROGRAM, ZoneInfo("Europe/Kyiv"), "UA")
    owner, _ = await storage.register_customer(42, "Phone Owner", "uk", 0, new_card_identity)
    await storage.set_phone(owner.id, "+380501234567")
    # An old plastic card whose barcode number reads like that phone.
    data = "card_number,name,balance\n0501234567,Plastic Holder,100\n"
    await import_rows(context, await dry_run(context, data.encode()))
    found = await finding.find_customers(context, "050 123 45 67")
    assert [c.name for c in found or []] == ["Phone Owner"]
    marked = await finding.find_customers(context, "#0501234567")
    assert [c.name for c in marked or []] == ["Plastic Holder"]
    # A phone nobody has still finds the old card written the same way.
    await storage.set_phone(owner.id, None)
    plain = await finding.find_customers(context, "0501234567")
    assert [c.name for c in plain or []] == ["Plastic Holder"]
