"""A small keep-alive HTTP/1.1 client for the Bot API's JSON calls.

Every reply the bot sends is one POST of a small JSON body to one host, answered by a small
JSON body. aiohttp's general client spends about three times the CPU of the exchange itself
on such a request (header multidicts, a task per body write, cookie and trace hooks); at the
till that is a good share of a booking's cost. This client does only what those calls need:
one origin, POST, `Content-Length` or chunked replies, connections reused while the server
keeps them open, TLS through the standard library. Uploads and downloads stay with aiohttp.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

KEEP_IDLE = 15.0  # seconds an unused connection is trusted; servers drop idle ones
MAX_HEAD = 64 * 1024  # a status line and headers longer than this are not a Bot API reply


class HttpError(Exception):
    """The exchange failed before a complete response arrived: nothing can be said of it."""


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> tuple[Origin, bytes]:
        """The origin of `url` and its path with query, ready for a request line."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.scheme, parts.hostname, port), target.encode("ascii")

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


class _Response:
    """Parses one response out of the bytes as they arrive."""

    def __init__(self) -> None:
        self.status = 0
        self.keep_alive = True
        self.body = b""
        self._head_done = False
        self._length: int | None = None
        self._chunked = False
        self._until_close = False

    def feed(self, buffer: bytearray, closed: bool) -> bool:
        """True once `buffer` holds the whole response (then `status` and `body` are set)."""
        if not self._head_done:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    raise HttpError("response head too long")
                if closed:
                    raise HttpError("connection closed before a response")
                return False
            self._parse_head(bytes(buffer[:end]))
            del buffer[: end + 4]
            self._head_done = True
        if self._length is not None:
            if len(buffer) < self._length:
                if closed:
                    raise HttpError("connection closed in the middle of a response")
                return False
            self.body = bytes(buffer[: self._length])
            del buffer[: self._length]
            return True
        if self._chunked:
            body = _dechunk(buffer)
            if body is None:
                if closed:
                    raise HttpError("connection closed in the middle of a response")
                return False
            self.body = body
            return True
        if closed:  # neither length nor chunks: the body runs to the end of the connection
            self.body = bytes(buffer)
            buffer.clear()
            return True
        return False

    def _parse_head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise HttpError(f"not an HTTP response: {lines[0][:80]!r}")
        self.status = int(parts[1])
        if self.status < 200:  # we never send Expect; an interim reply is not ours to take
            raise HttpError(f"unexpected interim response {self.status}")
        self.keep_alive = parts[0] == b"HTTP/1.1"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                if not value.isdigit():
                    raise HttpError("bad Content-Length")
                self._length = int(value)
            elif name == b"transfer-encoding":
                self._chunked = value.endswith(b"chunked")
            elif name == b"connection":
                tokens = {token.strip() for token in value.split(b",")}
                if b"close" in tokens:
                    self.keep_alive = False
                elif b"keep-alive" in tokens:
                    self.keep_alive = True
        if self.status in (204, 304):
            self._length, self._chunked = 0, False  # never a body, whatever the headers say
        elif self._chunked:
            self._length = None  # RFC 9112: chunked wins over a length
        elif self._length is None:
            self._until_close = True
            self.keep_alive = False


def _dechunk(buffer: bytearray) -> bytes | None:
    """The body of a complete chunked message in `buffer` (consumed), or None if incomplete."""
    body = bytearray()
    position = 0
    while True:
        end = buffer.find(b"\r\n", position)
        if end < 0:
            return None
        size_text = bytes(buffer[position:end]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise HttpError("bad chunk size") from None
        position = end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", position - 2)
            if trailer_end < 0:
                return None
            del buffer[: trailer_end + 4]
            return bytes(body)
        if len(buffer) < position + size + 2:
            return None
        body += buffer[position : position + size]
        position += size + 2


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = time.monotonic()
        self._buffer = bytearray()
        self._response: _Response | None = None
        self._waiter: asyncio.Future[_Response] | None = None
        self._error: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._response is None:  # bytes nobody asked for: this connection is not sane
            self.close()
            return
        self._buffer += data
        self._advance(closed=False)

    def eof_received(self) -> bool | None:
        self._advance(closed=True)
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._error = exc
        self._advance(closed=True)

    def _advance(self, closed: bool) -> None:
        waiter, response = self._waiter, self._response
        if waiter is None or response is None or waiter.done():
            return
        try:
            done = response.feed(self._buffer, closed)
        except HttpError as exc:
            if self._error is not None:
                exc.__cause__ = self._error
            waiter.set_exception(exc)
            self.close()
            return
        if done:
            self._response = None
            waiter.set_result(response)

    async def exchange(self, request: bytes) -> _Response:
        assert self.transport is not None and self._waiter is None
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        self._response = _Response()
        try:
            self.transport.write(request)
            return await self._waiter
        finally:
            self._waiter = None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class KeepAliveClient:
    """POSTs to one origin over a pool of reused connections (at most `limit` at once)."""

    def __init__(
        self, origin: Origin, limit: int = 100, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.origin = origin
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self._slots = asyncio.Semaphore(limit)
        self._ssl: ssl.SSLContext | None = None
        if origin.scheme == "https":
            self._ssl = ssl_context or _client_ssl()
        self._head = (
            f"Host: {origin.host_header}\r\nContent-Type: application/json\r\n"
            "Accept: application/json\r\nContent-Length: "
        ).encode("ascii")

    async def post(self, target: bytes, body: bytes, timeout: float) -> tuple[int, bytes]:
        """Status and body of the response; HttpError, OSError or TimeoutError otherwise."""
        async with self._slots:
            connection = self._reuse()
            try:
                async with asyncio.timeout(timeout):
                    if connection is None:
                        connection = await self._connect()
                    response = await connection.exchange(
                        b"POST %s HTTP/1.1\r\n%s%d\r\n\r\n%s"
                        % (target, self._head, len(body), body)
                    )
            except BaseException:
                if connection is not None:  # its state is unknown: never reuse it
                    self._forget(connection)
                raise
            if response.keep_alive and not connection.closed:
                connection.idle_since = time.monotonic()
                self._idle.append(connection)
            else:
                self._forget(connection)
            return response.status, response.body

    def _reuse(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()  # the most recent: the likeliest to be alive
            if not connection.closed and now - connection.idle_since < KEEP_IDLE:
                return connection
            self._forget(connection)
        return None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(
            _Connection,
            self.origin.host,
            self.origin.port,
            ssl=self._ssl,
            server_hostname=self.origin.host if self._ssl else None,
        )
        self._open.add(connection)
        return connection

    def _forget(self, connection: _Connection) -> None:
        connection.close()
        self._open.discard(connection)
        with contextlib.suppress(ValueError):
            self._idle.remove(connection)

    async def close(self) -> None:
        for connection in list(self._open):
            self._forget(connection)
        self._idle.clear()


def _client_ssl() -> ssl.SSLContext:
    # The same trust store aiohttp is given by aiogram: certifi's bundle.
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
