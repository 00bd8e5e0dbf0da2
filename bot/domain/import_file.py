"""Reading a plastic-card CSV: the whole file checked first (size, binary, encoding, header,
row count), each problem with one reason; then every row on its own, by line number.

Pure: no storage, no clock (today is given). What clashes with existing customers is the
dry run's (`bot.domain.imports`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.domain.marks import N_
from bot.domain.parsing import AmountError, DateError, parse_amount, parse_birthday, parse_phone

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_NAME = 64
MAX_SPEND_MINOR = 10**13
MAX_BALANCE = 10**9


class FileProblem(StrEnum):
    TOO_LARGE = "too_large"
    EMPTY = "empty"
    BINARY = "binary"
    SPREADSHEET = "spreadsheet"  # an .xlsx/.xls workbook rather than its CSV
    ENCODING = "encoding"  # neither UTF-8 nor Windows-1251
    MIXED_ENCODING = "mixed_encoding"
    NO_HEADER = "no_header"
    TOO_MANY_ROWS = "too_many_rows"
    NO_ROWS = "no_rows"


FILE_PROBLEMS: dict[FileProblem, str] = {
    FileProblem.TOO_LARGE: N_("The file is larger than {limit} MB. Split it into smaller files."),
    FileProblem.EMPTY: N_("The file is empty."),
    FileProblem.BINARY: N_("This is not a CSV file: it holds binary data, not text."),
    FileProblem.SPREADSHEET: N_(
        "This is a spreadsheet workbook, not CSV. In your spreadsheet choose "
        "File → Save as → CSV and send that file."
    ),
    FileProblem.ENCODING: N_(
        "The file's text encoding cannot be read. Save it as CSV in UTF-8 (or Windows-1251)."
    ),
    FileProblem.MIXED_ENCODING: N_(
        "The file mixes text encodings: some lines are UTF-8, others are not (first at line "
        "{line}). Save the whole file again as CSV in UTF-8."
    ),
    FileProblem.NO_HEADER: N_(
        "The first line must name the columns. Expected: card_number and balance, and "
        "optionally name, phone, birthday, spend and joined (in any order). Found: {found}"
    ),
    FileProblem.TOO_MANY_ROWS: N_(
        "The file has more than {limit} rows. Split it into smaller files."
    ),
    FileProblem.NO_ROWS: N_("The file has a header but no customers under it."),
}


class ImportFileError(ValueError):
    """The whole file is refused for one reason; `params` fill its message."""

    def __init__(self, problem: FileProblem, **params: object) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.params = params

    @property
    def message(self) -> str:
        return FILE_PROBLEMS[self.problem]


class RowProblem(StrEnum):
    NO_CARD = "no_card"
    BAD_CARD = "bad_card"
    DUPLICATE_CARD = "duplicate_card"  # twice in the file
    CARD_TAKEN = "card_taken"  # a customer already has it
    BAD_PHONE = "bad_phone"
    DUPLICATE_PHONE = "duplicate_phone"
    PHONE_TAKEN = "phone_taken"
    BAD_BALANCE = "bad_balance"
    NEGATIVE_BALANCE = "negative_balance"
    BAD_SPEND = "bad_spend"
    BAD_BIRTHDAY = "bad_birthday"
    BAD_JOINED = "bad_joined"
    COLUMNS = "columns"  # more or fewer cells than the header names


ROW_PROBLEMS: dict[RowProblem, str] = {
    RowProblem.NO_CARD: N_("no card number"),
    RowProblem.BAD_CARD: N_("card number {value} is not letters and digits"),
    RowProblem.DUPLICATE_CARD: N_("card number {value} is also on line {other}"),
    RowProblem.CARD_TAKEN: N_("card number {value} already belongs to a customer"),
    RowProblem.BAD_PHONE: N_("phone {value} cannot be read"),
    RowProblem.DUPLICATE_PHONE: N_("phone {value} is also on line {other}"),
    RowProblem.PHONE_TAKEN: N_("phone {value} already belongs to a customer"),
    RowProblem.BAD_BALANCE: N_("balance {value} is not a whole number of points"),
    RowProblem.NEGATIVE_BALANCE: N_("balance {value} is negative"),
    RowProblem.BAD_SPEND: N_("spend {value} is not an amount of money"),
    RowProblem.BAD_BIRTHDAY: N_("birthday {value} is not a date like 31.12.1990"),
    RowProblem.BAD_JOINED: N_("joined {value} is not a past date like 31.12.2020"),
    RowProblem.COLUMNS: N_("{value} cells where the header names {other}"),
}

# Header words, compared without case, spaces, underscores, dashes and dots: English, then
# Ukrainian, Russian, Macedonian and Thai.
COLUMN_NAMES: dict[str, str] = {
    "card_number": (
        "cardnumber card cardno number no card# номеркартки номеркарти картка "
        "номеркарты карта номер бројнакартичка картичка број หมายเลขบัตร เลขบัตร บัตร"
    ),
    "name": "name fullname customer client імя ім'я піб клієнт имя фио клиент име ชื่อ ชื่อลูกค้า",
    "phone": (
        "phone phonenumber mobile tel telephone телефон тел мобільний мобильный "
        "бројнателефон เบอร์โทร โทรศัพท์ เบอร์"
    ),
    "birthday": (
        "birthday birthdate dob dateofbirth деньнародження датанародження деньрождения "
        "датарождения роденден датумнараѓање วันเกิด"
    ),
    "balance": "balance points bonus bonuses бали бонуси баланс баллы бонусы поени คะแนน แต้ม",
    "spend": (
        "spend spent lifetimespend total totalspend сума витрачено сумма потрачено "
        "потрошено вкупно ยอดซื้อ ยอดใช้จ่าย"
    ),
    "joined": (
        "joined since created registered datejoined membersince дата датареєстрації "
        "зареєстрований датарегистрации зарегистрирован зачленет датуманазачленување "
        "วันที่สมัคร สมัครเมื่อ"
    ),
}
REQUIRED = ("card_number", "balance")
_FOLD = re.compile(r"[\s_\-.\u00a0№'’ʼ`]+")
_CARD = re.compile(r"^[A-Za-z0-9]{1,32}$")
_EXCEL_SEP = re.compile(r"^\s*sep=([,;\t])\s*$")
# '340.00' or '5,0' is a whole number written with decimals; '1.000' or '10,000' is a
# thousands separator (or three decimals), too ambiguous to read: the row is refused.
_ZERO_FRACTION = re.compile(r"[.,]0{1,2}$")
_SPREADSHEET_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def fold(header: str) -> str:
    return _FOLD.sub("", header.strip().strip('"').lower())


_LOOKUP = {fold(word): column for column, words in COLUMN_NAMES.items() for word in words.split()}


def normalize_legacy(text: str) -> str:
    """An old card number as typed or printed: '#0045 12' -> '004512' (zeros kept)."""
    return re.sub(r"[\s\-#]", "", text.strip()).upper()


@dataclass(frozen=True, slots=True)
class ImportRow:
    line: int
    legacy_number: str
    name: str
    phone: str | None
    birthday: date | None
    balance: int
    spend_minor: int
    joined: date | None


@dataclass(frozen=True, slots=True)
class RowIssue:
    line: int
    problem: RowProblem
    value: str = ""
    other: str = ""

    @property
    def message(self) -> str:
        return ROW_PROBLEMS[self.problem]


def decode(data: bytes, legacy: str = "cp1251") -> str:
    """The file's text: UTF-8 (a BOM or not) or the older Windows encoding (`legacy`), refusing
    binary and a file that mixes the two (a UTF-8 export with lines pasted from an older one)."""
    if len(data) > MAX_BYTES:
        raise ImportFileError(FileProblem.TOO_LARGE, limit=MAX_BYTES // (1024 * 1024))
    if not data.strip():
        raise ImportFileError(FileProblem.EMPTY)
    if data.startswith(_SPREADSHEET_MAGIC):
        raise ImportFileError(FileProblem.SPREADSHEET)
    if b"\x00" in data:
        raise ImportFileError(FileProblem.BINARY)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _legacy_text(data, legacy)
    controls = sum(1 for char in text[:8192] if ord(char) < 32 and char not in "\r\n\t")
    if controls > 8:
        raise ImportFileError(FileProblem.BINARY)
    return text


def _legacy_text(data: bytes, legacy: str) -> str:
    utf8_lines, first_other = 0, 0
    for number, line in enumerate(data.splitlines(), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_lines += 1
        except UnicodeDecodeError:
            first_other = first_other or number
    if utf8_lines and first_other:
        raise ImportFileError(FileProblem.MIXED_ENCODING, line=first_other)
    try:
        return data.decode(legacy)
    except UnicodeDecodeError:
        raise ImportFileError(FileProblem.ENCODING) from None


def delimiter_of(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","


def header_columns(cells: list[str]) -> dict[str, int]:
    """Column name -> index; refused without the required ones, naming what was found."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        column = _LOOKUP.get(fold(cell))
        if column is not None and column not in columns:
            columns[column] = index
    if any(name not in columns for name in REQUIRED):
        found = ", ".join(cell.strip()[:20] for cell in cells[:8] if cell.strip()) or "—"
        raise ImportFileError(FileProblem.NO_HEADER, found=found[:200])
    return columns


def shown_value(text: str) -> str:
    text = " ".join(text.split())
    return f"«{text[:24]}…»" if len(text) > 24 else f"«{text}»"


def read_rows(
    data: bytes, region: str | None, today: date
) -> tuple[list[ImportRow], list[RowIssue], int]:
    """Parse the file: (good rows, row problems, rows read). Only problems within the file;
    what clashes with existing customers is `dry_run`'s."""
    # Older exports in Thailand are Windows-874 (Thai); elsewhere Windows-1251 (Cyrillic).
    text = decode(data, "cp874" if region == "TH" else "cp1251")
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise ImportFileError(FileProblem.EMPTY)
    delimiter = delimiter_of(lines[first])
    if sep := _EXCEL_SEP.match(lines[first]):  # Excel's 'sep=;' line names the delimiter
        delimiter = sep.group(1)
        text = "\n" * (first + 1) + "\n".join(lines[first + 1 :])  # line numbers kept
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    columns: dict[str, int] = {}
    good: list[ImportRow] = []
    issues: list[RowIssue] = []
    cards: dict[str, int] = {}
    phones: dict[str, int] = {}
    count = 0
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header, columns = cells, header_columns(cells)
                continue
            count += 1
            if count > MAX_ROWS:
                raise ImportFileError(FileProblem.TOO_MANY_ROWS, limit=MAX_ROWS)
            row = _row(line, cells, header, columns, region, today)
            if isinstance(row, RowIssue):
                issues.append(row)
                continue
            if row.legacy_number in cards:
                issues.append(
                    RowIssue(
                        line,
                        RowProblem.DUPLICATE_CARD,
                        shown_value(row.legacy_number),
                        str(cards[row.legacy_number]),
                    )
                )
                continue
            if row.phone is not None and row.phone in phones:
                issues.append(
                    RowIssue(
                        line,
                        RowProblem.DUPLICATE_PHONE,
                        shown_value(row.phone),
                        str(phones[row.phone]),
                    )
                )
                continue
            cards[row.legacy_number] = line
            if row.phone is not None:
                phones[row.phone] = line
            good.append(row)
    except csv.Error:
        raise ImportFileError(FileProblem.BINARY) from None
    if header is None:
        raise ImportFileError(FileProblem.EMPTY)
    if count == 0:
        raise ImportFileError(FileProblem.NO_ROWS)
    return good, issues, count


def _row(
    line: int,
    cells: list[str],
    header: list[str],
    columns: dict[str, int],
    region: str | None,
    today: date,
) -> ImportRow | RowIssue:
    if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
        return RowIssue(line, RowProblem.COLUMNS, str(len(cells)), str(len(header)))

    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    legacy = normalize_legacy(cell("card_number"))
    if not legacy:
        return RowIssue(line, RowProblem.NO_CARD)
    if not _CARD.match(legacy):
        return RowIssue(line, RowProblem.BAD_CARD, shown_value(cell("card_number")))
    raw_phone = cell("phone")
    phone = parse_phone(raw_phone, region) if raw_phone else None
    if raw_phone and phone is None:
        return RowIssue(line, RowProblem.BAD_PHONE, shown_value(raw_phone))
    raw_balance = cell("balance")
    # Spreadsheets often write whole numbers as '340.00'.
    balance_text = _ZERO_FRACTION.sub("", re.sub(r"[\s\u00a0\u202f]", "", raw_balance))
    if balance_text.startswith("-") and balance_text[1:].isdigit():
        return RowIssue(line, RowProblem.NEGATIVE_BALANCE, shown_value(raw_balance))
    if balance_text and not (balance_text.isascii() and balance_text.isdigit()):
        return RowIssue(line, RowProblem.BAD_BALANCE, shown_value(raw_balance))
    balance = int(balance_text or 0)
    if balance > MAX_BALANCE:
        return RowIssue(line, RowProblem.BAD_BALANCE, shown_value(raw_balance))
    raw_spend = cell("spend")
    spend = 0
    if raw_spend and raw_spend.strip("0.,") != "":
        try:
            spend = parse_amount(raw_spend, MAX_SPEND_MINOR)
        except AmountError:
            return RowIssue(line, RowProblem.BAD_SPEND, shown_value(raw_spend))
    birthday, joined = None, None
    if raw := cell("birthday"):
        try:
            birthday = parse_birthday(raw, today)
        except DateError:
            return RowIssue(line, RowProblem.BAD_BIRTHDAY, shown_value(raw))
    if raw := cell("joined"):
        try:
            joined = parse_birthday(raw, today)
        except DateError:
            return RowIssue(line, RowProblem.BAD_JOINED, shown_value(raw))
    name = " ".join(cell("name").split())[:MAX_NAME]
    return ImportRow(line, legacy, name, phone, birthday, balance, spend, joined)
