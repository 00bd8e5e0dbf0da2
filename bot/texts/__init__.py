"""What the bot says, by whom it is said to: built from records in the update's language."""
