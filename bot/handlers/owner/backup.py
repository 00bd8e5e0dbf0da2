"""/backup: a consistent copy of the database, sent to the owner while it fits Telegram."""

from __future__ import annotations

import tempfile
from pathlib import Path

from aiogram.types import FSInputFile, Message

from bot.i18n import _
from bot.shop import Shop

BACKUP_SEND_LIMIT = 45 * 1024 * 1024  # Telegram takes documents from bots up to 50 MB


async def backup(message: Message, shop: Shop) -> None:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / f"loyalty-{shop.now():%Y%m%d-%H%M%S}.db"
        await shop.storage.backup_to(str(target))
        if target.stat().st_size > BACKUP_SEND_LIMIT:
            await message.answer(
                _(
                    "The database is too large to send in Telegram. Daily backups are "
                    "kept in BACKUP_DIR on the server."
                )
            )
            return
        await message.answer_document(
            FSInputFile(target),
            caption=_(
                "A consistent copy of the database. Restore it with "
                "<code>python -m bot restore {name}</code> while the bot is stopped.",
                name=target.name,
            ),
        )
