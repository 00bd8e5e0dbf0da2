"""Every message is translated in every language, with the same placeholders and markup."""

from __future__ import annotations

import re
import string

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.i18n import DOMAIN, LANGUAGES, LOCALES_DIR, build_i18n
from bot.i18n.extract import extract

TAG = re.compile(r"</?[a-z]+[^>]*>")
LETTERS = re.compile(r"[A-Za-z]{3,}")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def tags(text: str) -> list[str]:
    return sorted(TAG.findall(text))


def load(language: str) -> Catalog:
    with (LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as fh:
        return read_po(fh, locale=language)


@pytest.fixture(scope="module")
def template() -> Catalog:
    return extract()


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_is_complete(language: str, template: Catalog) -> None:
    catalog = load(language)
    problems: list[str] = []
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id)
        if translated is None:
            problems.append(f"missing: {message.id!r}")
            continue
        if translated.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        strings = (
            translated.string if isinstance(translated.string, tuple) else (translated.string,)
        )
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        expected_forms = catalog.num_plurals if isinstance(message.id, tuple) else 1
        if len(strings) != expected_forms or not all(strings):
            problems.append(f"untranslated: {message.id!r}")
            continue
        wanted = set().union(*(placeholders(i) for i in ids))
        for text in strings:
            if placeholders(text) != wanted:
                problems.append(f"placeholders differ: {message.id!r} -> {text!r}")
            if tags(text) != tags(ids[0]):
                problems.append(f"markup differs: {message.id!r} -> {text!r}")
        if language != "en" and strings[0] == ids[0] and LETTERS.search(ids[0]):
            problems.append(f"copied from English: {message.id!r}")
    assert problems == [], "\n".join(problems)


def test_no_stale_messages_in_catalogs(template: Catalog) -> None:
    live = {message.id for message in template if message.id}
    for language in LANGUAGES:
        stale = {m.id for m in load(language) if m.id and m.id not in live}
        assert stale == set(), (language, stale)


def test_translations_load_at_runtime() -> None:
    i18n = build_i18n()
    assert set(i18n.available_locales) == set(LANGUAGES)
    assert i18n.gettext("Balance", locale="uk") != "Balance"
    assert i18n.gettext("{count} point", "{count} points", 5, locale="uk").format(count=5)
