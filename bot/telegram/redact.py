"""Keeping the bot token out of every log line.

aiohttp's errors name the URL they failed on, and a file download's URL is
`/file/bot<token>/<path>`: one failed download would otherwise write the token into the
journal. The filter sits on the handlers (a filter on a logger sees only that logger's own
records, not those propagated from aiogram, aiohttp or asyncio) and rewrites each record
before any formatter reads it: message and arguments, exception text, stack.
"""

from __future__ import annotations

import logging
import traceback

REDACTED = "<BOT_TOKEN>"


class RedactSecrets(logging.Filter):
    """Replaces each secret in a record with a placeholder; never drops a record."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        # The token's secret half alone (after the colon) is as good as the whole for an
        # attacker with the bot id, so both are redacted; longest first.
        parts = {secret for secret in secrets if secret}
        parts |= {s.split(":", 1)[1] for s in parts if ":" in s and len(s.split(":", 1)[1]) > 8}
        self.secrets = sorted(parts, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: keep the raw text only
            message, record.args = str(record.msg), None
        clean = self.redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install(token: str, handlers: list[logging.Handler] | None = None) -> RedactSecrets:
    """Put the filter on the given handlers (default: the root logger's), once each."""
    redactor = RedactSecrets([token])
    for handler in logging.getLogger().handlers if handlers is None else handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    return redactor
