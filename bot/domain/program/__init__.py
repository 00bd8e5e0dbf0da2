"""The loyalty program: its model, its rules, its file."""
