"""Talking to Telegram: middlewares, steps, filters and roles, messages to others, links."""
