"""Pure rules and use cases: no Telegram, no translation machinery, no storage backend.

A test (tests/test_domain_imports.py) keeps it so."""
