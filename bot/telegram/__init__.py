"""Telegram plumbing: session, pacing, middlewares, filters."""
