"""A Telegram loyalty-card bot for small shops."""
