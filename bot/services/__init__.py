"""Long-running work beside the handlers: card delivery, the broadcaster, scheduled jobs."""
