"""The domain stays pure: nothing under bot/domain imports Telegram (aiogram), pydantic,
Babel, sqlite3/aiosqlite or the SQLite backend, directly or through another bot module."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "bot.domain"
FORBIDDEN = (
    "aiogram",
    "aiohttp",
    "pydantic",
    "pydantic_settings",
    "babel",
    "sqlite3",
    "aiosqlite",
    "storage.sqlite",
)


def module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def imported(root: Path, module: str, path: Path) -> set[str]:
    """Absolute names of the modules `path` imports (relative imports resolved); for
    `from package import name` both the package and `package.name`, which may be a module."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)
    return found


def forbidden(name: str) -> bool:
    return any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN)


def violations(root: Path, package: str = DOMAIN) -> list[str]:
    """`start -> ... -> forbidden` chains for every module of `package`, following imports
    of `bot.*` modules (storage's own package is a port: `from storage import X` is fine)."""
    starts = sorted(
        ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        for path in root.joinpath(*package.split(".")).rglob("*.py")
    )
    found: list[str] = []
    seen: set[str] = set()
    queue = [(name, [name]) for name in starts]
    while queue:
        module, chain = queue.pop(0)
        if module in seen:
            continue
        seen.add(module)
        path = module_file(root, module)
        if path is None:
            continue
        for name in sorted(imported(root, module, path)):
            if forbidden(name):
                found.append(" -> ".join([*chain, name]))
            elif (name == "bot" or name.startswith("bot.")) and name not in seen:
                queue.append((name, [*chain, name]))
    return found


def test_the_domain_imports_no_framework_nor_backend() -> None:
    assert violations(ROOT) == []


def test_the_guard_sees_direct_and_indirect_imports(tmp_path: Path) -> None:
    domain = tmp_path / "bot" / "domain"
    domain.mkdir(parents=True)
    (tmp_path / "bot" / "__init__.py").write_text("")
    (domain / "__init__.py").write_text("")
    (domain / "pure.py").write_text("from storage import Customer\nimport json\n")
    (domain / "direct.py").write_text("from storage.sqlite import utcnow\n")
    (domain / "relative.py").write_text("from . import pure\nfrom .. import views\n")
    (tmp_path / "bot" / "views.py").write_text("from babel.numbers import format_decimal\n")
    (domain / "aliased.py").write_text("import aiogram.types as types\n")
    assert violations(tmp_path) == [
        "bot.domain.aliased -> aiogram.types",
        "bot.domain.direct -> storage.sqlite",
        "bot.domain.direct -> storage.sqlite.utcnow",
        "bot.domain.relative -> bot.views -> babel.numbers",
        "bot.domain.relative -> bot.views -> babel.numbers.format_decimal",
    ]
