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


HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")


class _Response:
    """Parses one response out of the bytes as they arrive, consuming what it has read."""

    def __init__(self) -> None:
        self.status = 0
        self.keep_alive = True
        self.body = b""
        self._head_done = False
        self._length: int | None = None
        self._chunked = False
        self._chunks = bytearray()
        self._trailers = False

    def feed(self, buffer: bytearray, closed: bool, failed: bool = False) -> bool:
        """True once the whole response has been read from `buffer` (then `status` and
        `body` are set). `closed`: no more bytes will come; `failed`: not cleanly."""
        while not self._head_done:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    raise HttpError("response head too long")
                if closed:
                    raise HttpError("connection closed before a response")
                return False
            final = self._parse_head(bytes(buffer[:end]))
            del buffer[: end + 4]
            self._head_done = final  # an interim (1xx) reply is skipped, as RFC 9110 asks
        if self._length is not None:
            if len(buffer) < self._length:
                if closed:
                    raise HttpError("connection closed in the middle of a response")
                return False
            self.body = bytes(buffer[: self._length])
            del buffer[: self._length]
            return True
        if self._chunked:
            if self._read_chunks(buffer):
                return True
            if closed:
                raise HttpError("connection closed in the middle of a response")
            return False
        if closed:  # neither length nor chunks: the body runs to the end of the connection
            if failed:
                raise HttpError("connection broken before the end of a response")
            self.body = bytes(buffer)
            buffer.clear()
            return True
        return False

    def _parse_head(self, head: bytes) -> bool:
        """Reads the status line and headers; False for an interim reply."""
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise HttpError(f"not an HTTP response: {lines[0][:80]!r}")
        self.status = int(parts[1])
        if 100 <= self.status < 200 and self.status != 101:
            return False
        if self.status < 200:
            raise HttpError(f"unexpected response {self.status}")
        self.keep_alive = parts[0] == b"HTTP/1.1"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                if not value.isdigit() or self._length not in (None, int(value)):
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
            self.keep_alive = False  # the body ends with the connection
        return True

    def _read_chunks(self, buffer: bytearray) -> bool:
        """Consumes whole chunks from `buffer`; True once the last one and the trailers
        are in (the body is then in `body`)."""
        while True:
            end = buffer.find(b"\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    raise HttpError("chunk header too long")
                return False
            if self._trailers:  # after the last chunk: header lines up to an empty one
                del buffer[: end + 2]
                if end == 0:
                    self.body = bytes(self._chunks)
                    return True
                continue
            size_text = bytes(buffer[:end]).split(b";", 1)[0].strip()
            if not size_text or not HEX_DIGITS.issuperset(size_text):
                raise HttpError("bad chunk size")
            size = int(size_text, 16)
            if size == 0:
                del buffer[: end + 2]
                self._trailers = True
                continue
            start, stop = end + 2, end + 2 + size
            if len(buffer) < stop + 2:
                return False
            if buffer[stop : stop + 2] != b"\r\n":
                raise HttpError("chunk not followed by CRLF")
            self._chunks += buffer[start:stop]
            del buffer[: stop + 2]


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()
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
        self.closed = True  # at once: connection_lost comes a loop turn later
        self._advance(closed=True)
        return None  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._error = exc
        self._advance(closed=True)
        if not self.lost.done():
            self.lost.set_result(None)

    @property
    def clean(self) -> bool:
        """Open, and holding no bytes beyond the last response: fit to carry another."""
        return not self.closed and not self._buffer

    def _advance(self, closed: bool) -> None:
        waiter, response = self._waiter, self._response
        if waiter is None or response is None or waiter.done():
            return
        try:
            done = response.feed(self._buffer, closed, failed=self._error is not None)
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
        self._closed = False
        self._ssl: ssl.SSLContext | None = None
        if origin.scheme == "https":
            self._ssl = ssl_context or _client_ssl()
        self._head = (
            f"Host: {origin.host_header}\r\nContent-Type: application/json\r\n"
            "Accept: application/json\r\nContent-Length: "
        ).encode("ascii")

    async def post(self, target: bytes, body: bytes, timeout: float) -> tuple[int, bytes]:
        """Status and body of the response; HttpError, OSError or TimeoutError otherwise.
        `timeout` covers the whole call: waiting for a free slot, connecting, the reply."""
        connection: _Connection | None = None
        try:
            async with asyncio.timeout(timeout), self._slots:
                connection = self._reuse() or await self._connect()
                response = await connection.exchange(
                    b"POST %s HTTP/1.1\r\n%s%d\r\n\r\n%s" % (target, self._head, len(body), body)
                )
        except BaseException:
            if connection is not None:  # its state is unknown: never reuse it
                self._forget(connection)
            raise
        if response.keep_alive and connection.clean and not self._closed:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        else:
            self._forget(connection)
        return response.status, response.body

    def _reuse(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()  # the most recent: the likeliest to be alive
            if connection.clean and now - connection.idle_since < KEEP_IDLE:
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
            # As aiohttp does: where IPv6 is broken, fall back to IPv4 within a moment
            # instead of hanging until the timeout.
            happy_eyeballs_delay=0.25,
        )
        self._open.add(connection)
        return connection

    def _forget(self, connection: _Connection) -> None:
        connection.close()
        self._open.discard(connection)
        with contextlib.suppress(ValueError):
            self._idle.remove(connection)

    async def close(self) -> None:
        """Closes every connection, waiting briefly for TLS to say goodbye. Calls under way
        on them fail; one still connecting finishes, but its connection is not kept."""
        self._closed = True
        connections = list(self._open)
        for connection in connections:
            self._forget(connection)
        if connections:
            await asyncio.wait([c.lost for c in connections], timeout=0.25)


def _client_ssl() -> ssl.SSLContext:
    # The same trust store aiohttp is given by aiogram: certifi's bundle.
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
