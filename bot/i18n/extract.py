"""Maintainer tool: `python -m bot.i18n.extract` extracts messages and updates every .po catalog.

English keeps msgstr equal to msgid, so every catalog is complete and the test can say so.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, LANGUAGES, LOCALES_DIR

ROOT = LOCALES_DIR.parent
KEYWORDS = {"_": None, "N_": None, "__": None, "ngettext": (1, 2)}
SOURCES = ("bot", "storage")


def extract() -> Catalog:
    template = Catalog(project="loyalty-bot", domain=DOMAIN)
    for source in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / source, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            template.add(
                message,
                locations=[(f"{source}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def update(template: Catalog) -> list[Path]:
    written: list[Path] = []
    for language in LANGUAGES:
        path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=language)
        else:
            catalog = Catalog(locale=language, domain=DOMAIN, project="loyalty-bot")
        # update() shares message objects with the template: give each catalog its own copy.
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
        catalog.fuzzy = False
        if language == "en":
            for message in catalog:
                if message.id:
                    message.string = message.id
                    message.flags.discard("fuzzy")
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, ignore_obsolete=True)
        written.append(path)
    return written


def main() -> int:
    template = extract()
    with (LOCALES_DIR / f"{DOMAIN}.pot").open("wb") as fh:
        write_po(fh, template, width=100)
    for path in update(template):
        print(path.relative_to(ROOT))
    print(f"{len(template)} messages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
