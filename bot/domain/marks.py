"""`N_` marks a message for extraction where it is translated later, by whoever shows it.

The domain names its messages this way (tier names, program errors, alerts) without
depending on the translation machinery, which lives with Telegram in `bot.i18n`."""


def N_(message: str) -> str:
    return message
