"""Keyboards by role, each module with the CallbackData its buttons carry (opaque, small,
validated on arrival)."""
