"""What the owner reads about importing plastic cards (also printed by `python -m bot import`),
what a customer is told when their card is found, and the desk's words for unclaimed cards."""

from __future__ import annotations

from html import escape

from bot.domain.imports import DryRun, ImportFileError, RowIssue, RowProblem
from bot.i18n import _, ngettext
from bot.texts.numbers import number, points
from storage import Customer, ImportOutcome

TELEGRAM_LIMIT = 4096


def import_help() -> str:
    return _(
        "<b>Bring your plastic-card customers along</b>\n"
        "Send me a CSV file (save your spreadsheet as CSV). The first line names the "
        "columns, in any order:\n"
        "• <code>card_number</code>: the old card's number (required)\n"
        "• <code>balance</code>: points on the card (required)\n"
        "• <code>name</code>, <code>phone</code>, <code>birthday</code>\n"
        "• <code>spend</code>: money spent so far, for tiers; <code>joined</code>: since when\n"
        "UTF-8 or Windows-1251, commas or semicolons, up to 5 MB. I check the file first "
        "and import nothing until you press Import. The example below shows the format.\n"
        "Customers claim their card by opening the bot and sharing the same phone number."
    )


def row_problem_label(problem: RowProblem) -> str:
    labels = {
        RowProblem.NO_CARD: _("no card number"),
        RowProblem.BAD_CARD: _("card number not letters and digits"),
        RowProblem.DUPLICATE_CARD: _("card number twice in the file"),
        RowProblem.CARD_TAKEN: _("card number already imported or in use"),
        RowProblem.BAD_PHONE: _("phone cannot be read"),
        RowProblem.DUPLICATE_PHONE: _("phone twice in the file"),
        RowProblem.PHONE_TAKEN: _("phone already belongs to a customer"),
        RowProblem.BAD_BALANCE: _("balance not a whole number"),
        RowProblem.NEGATIVE_BALANCE: _("negative balance"),
        RowProblem.BAD_SPEND: _("spend not an amount"),
        RowProblem.BAD_BIRTHDAY: _("birthday not a date"),
        RowProblem.BAD_JOINED: _("joined not a past date"),
        RowProblem.COLUMNS: _("more cells than columns"),
    }
    return labels[problem]


def file_problem_text(error: ImportFileError) -> str:
    params = {key: escape(str(value)) for key, value in error.params.items()}
    return _("Nothing was imported. {reason}", reason=_(error.message, **params))


def issue_line(issue: RowIssue) -> str:
    reason = _(issue.message, value=escape(issue.value), other=issue.other)
    return _("line {line}: {reason}", line=issue.line, reason=reason)


def dry_run_text(run: DryRun) -> str:
    """The check of a file, in one message that fits Telegram's limit whatever the file."""
    parts = [_("<b>Import check</b>")]
    if run.rows:
        parts.append(
            ngettext(
                "Ready to import: {count} customer with {points} in all.",
                "Ready to import: {count} customers with {points} in all.",
                len(run.rows),
                count=number(len(run.rows)),
                points=points(run.points),
            )
        )
    else:
        parts.append(_("Nothing to import."))
    if run.already:
        parts.append(
            ngettext(
                "{count} customer from this file was already imported: nothing is booked twice.",
                "{count} customers from this file were already imported: nothing is booked twice.",
                run.already,
                count=number(run.already),
            )
        )
    if run.issues:
        parts.append(
            ngettext(
                "{count} row has a problem and will be skipped:",
                "{count} rows have problems and will be skipped:",
                len(run.issues),
                count=number(len(run.issues)),
            )
        )
        counts = sorted(run.counts().items(), key=lambda item: -item[1])
        parts.append("\n".join(f"• {row_problem_label(kind)}: {number(n)}" for kind, n in counts))
        lines = [issue_line(issue) for issue in run.shown]
        more = len(run.issues) - len(lines)
        if more > 0:
            lines.append(
                ngettext("…and {count} more.", "…and {count} more.", more, count=number(more))
            )
        parts.append("\n".join(lines))
        parts.append(
            _("Fix the file and send it again, or import the good rows now.")
            if run.rows
            else _("Fix the file and send it again.")
        )
    text = "\n\n".join(parts)
    return text if len(text) <= TELEGRAM_LIMIT else text[: TELEGRAM_LIMIT - 1] + "…"


def imported_text(outcome: ImportOutcome) -> str:
    if outcome.created == 0:
        return _("This file was already imported: nothing was booked again.")
    return ngettext(
        "Imported {count} customer with {points}. They claim their card by opening the bot "
        "and sharing their phone number; until then cashiers find them by phone or old "
        "card number.",
        "Imported {count} customers with {points}. They claim their cards by opening the bot "
        "and sharing their phone number; until then cashiers find them by phone or old "
        "card number.",
        outcome.created,
        count=number(outcome.created),
        points=points(outcome.points),
    )


def clash_text() -> str:
    return _(
        "Nothing was imported: a card number or phone in the file was taken by a customer "
        "in the meantime. Check the file again to see which."
    )


def import_question(run: DryRun) -> str:
    count = len(run.rows)
    return ngettext(
        "Import {count} customer? [y/N] ",
        "Import {count} customers? [y/N] ",
        count,
        count=number(count),
    )


def claimed_text(legacy_number: str | None, moved: int) -> str:
    if legacy_number:
        return _(
            "We found your card {number}: {points} moved to your new card.",
            number=escape(legacy_number),
            points=points(moved),
        )
    return _("We found the card the shop opened for your number: {points} moved to your card.",
             points=points(moved))  # fmt: skip


def old_number_text() -> str:
    return _(
        "To move the points from your plastic card, share the phone number the shop has "
        "for it with the button below. The card number alone moves nothing."
    )


def unclaimed_note(customer: Customer) -> str:
    """The desk's line on a card with no Telegram account yet."""
    if customer.legacy_number:
        return _(
            "Plastic card {number}, not opened in Telegram yet: no receipts are sent. "
            "To spend points, the customer opens the bot and shares this phone number.",
            number=escape(customer.legacy_number),
        )
    return _(
        "Not opened in Telegram yet: no receipts are sent. To spend points, the customer "
        "opens the bot and shares this phone number."
    )


def unclaimed_spend_text() -> str:
    return _(
        "This card is not opened in Telegram yet, so its holder cannot confirm spending. "
        "Ask them to open the bot and share this phone number; then try again."
    )


def walk_in_text(link: str, phone: str) -> str:
    return _(
        "New card for {phone}. Purchases booked on it wait there. To get it, the customer "
        "opens {link} and shares this phone number.",
        phone=escape(phone),
        link=link,
    )


def no_receipt_text() -> str:
    return _("No receipt was sent: this card is not opened in Telegram yet.")
