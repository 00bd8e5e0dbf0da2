"""The files beside the database: who may read them, the lock, and the former-key secret.

The database holds customers' names, phone numbers and birthdays: it, its `-wal`/`-shm`
files (SQLite gives them the database file's own mode), its backups and the secret are
readable by the bot's user only (0600, folders 0700), whatever the umask.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
SECRET_BYTES = 32


def beside(database: str | Path, suffix: str) -> Path:
    path = Path(database)
    return path.with_name(path.name + suffix)


def create_private(path: Path) -> None:
    """Create an empty file readable by its owner only, unless it exists."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


def tighten(path: Path) -> None:
    """Take group and other access off an existing file (made by an older version)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        os.chmod(path, mode & 0o700)


def private_database(database: str | Path) -> None:
    """Before SQLite opens it: the file exists 0600, and so do the WAL files it has."""
    create_private(Path(database))
    for suffix in ("", "-wal", "-shm"):
        tighten(beside(database, suffix))


def private_folder(folder: Path) -> None:
    """A folder (and its parents, as needed) only the bot's user can enter."""
    folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    os.chmod(folder, PRIVATE_DIR)


def read_or_create_secret(path: Path) -> bytes:
    """The secret in `path`, made (0600, random) on first use."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        tighten(path)
        value = bytes.fromhex(path.read_text().strip())
        if len(value) < 16:
            raise ValueError(f"{path}: the secret is too short") from None
        return value
    value = secrets.token_bytes(SECRET_BYTES)
    with os.fdopen(fd, "w") as file:
        file.write(value.hex() + "\n")
        file.flush()
        os.fsync(file.fileno())
    return value


class DatabaseLocked(RuntimeError):
    """Another process holds the database's lock."""


class DatabaseLock:
    """An exclusive lock on `<database>.lock`, held until `release` or the process ends.

    The standard library's flock rather than a lock package: the kernel drops the lock when
    the process ends, even by SIGKILL, so there is never a stale lock to clean up, and two
    opens of the file conflict even within one process. (fcntl is POSIX-only, like the
    systemd setup in docs/operations.md.)
    """

    def __init__(self, database: str | Path) -> None:
        # An in-memory database cannot be shared between processes: nothing to lock.
        self.path = None if str(database) == ":memory:" else beside(database, ".lock")
        self._fd: int | None = None

    def acquire(self) -> DatabaseLock:
        if self.path is None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise DatabaseLocked(str(self.path)) from None
            raise
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = None

    def __enter__(self) -> DatabaseLock:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()
