"""A fake Telegram Bot API server for end-to-end tests.

The bot under test talks to it over real HTTP (``TelegramAPIServer.from_base(fake.base_url)``),
so request encoding, multipart uploads, error handling and response parsing are all exercised.
Tests drive it the way users would (``send_message``, ``press``, ...) and observe what the bot
did (``messages``, ``next_message``, ``requests``, ...).

Only the methods a loyalty-card bot needs are implemented, but those follow Telegram's
semantics closely: HTML parse mode is validated and reduced to visible text plus entities,
limits are enforced, edits without ``reply_markup`` drop the inline keyboard, identical edits
fail with "message is not modified", updates stay queued until confirmed by ``offset``, etc.

Typical use::

    fake = FakeTelegram()
    await fake.start()
    ann = fake.user(42, "Ann")
    fake.send_message(ann, "/start")
    welcome = await fake.next_message(42)
    fake.press(ann, welcome, welcome.callback("Settings"))
    await fake.wait_call("answerCallbackQuery")
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import mimetypes
import re
import socket
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, NoReturn

from aiohttp import web
from PIL import Image

TOKEN = "123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ac"

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
PHOTO_SIZE_LIMIT = 10 * 1024 * 1024
DOCUMENT_SIZE_LIMIT = 50 * 1024 * 1024
# Side of the small "s" thumbnail Telegram adds in front of the real photo size.
THUMBNAIL_SIDE = 90

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified"
BLOCKED = "Forbidden: bot was blocked by the user"
CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


class ApiError(Exception):
    """A Telegram-shaped error response."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


# --------------------------------------------------------------------------------------------
# Supported methods and how their form fields are decoded
# --------------------------------------------------------------------------------------------

# Multipart/urlencoded requests carry every value as a string: complex values are JSON-encoded,
# numbers and booleans are plain strings. Fields not listed here stay strings.
_FIELD_KINDS: dict[str, str] = {
    "chat_id": "chat",
    "message_id": "int",
    "offset": "int",
    "limit": "int",
    "timeout": "int",
    "cache_time": "int",
    "user_id": "int",
    "message_thread_id": "int",
    "reply_to_message_id": "int",
    "show_alert": "bool",
    "disable_notification": "bool",
    "protect_content": "bool",
    "allow_paid_broadcast": "bool",
    "drop_pending_updates": "bool",
    "show_caption_above_media": "bool",
    "has_spoiler": "bool",
    "disable_content_type_detection": "bool",
    "allow_sending_without_reply": "bool",
    "disable_web_page_preview": "bool",
    "reply_markup": "json",
    "entities": "json",
    "caption_entities": "json",
    "media": "json",
    "commands": "json",
    "scope": "json",
    "allowed_updates": "json",
    "link_preview_options": "json",
    "reply_parameters": "json",
    "menu_button": "json",
    "suggested_post_parameters": "json",
}

_JSON_ERRORS: dict[str, str] = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
    "media": "can't parse InputMedia JSON object",
}

# Canonical method name -> handler attribute. Telegram method names are case-insensitive.
_METHODS: dict[str, str] = {
    "getMe": "_m_get_me",
    "getUpdates": "_m_get_updates",
    "deleteWebhook": "_m_delete_webhook",
    "setWebhook": "_m_set_webhook",
    "getWebhookInfo": "_m_get_webhook_info",
    "setMyCommands": "_m_set_my_commands",
    "getMyCommands": "_m_get_my_commands",
    "deleteMyCommands": "_m_delete_my_commands",
    "setMyDescription": "_m_set_my_description",
    "getMyDescription": "_m_get_my_description",
    "setMyShortDescription": "_m_set_my_short_description",
    "getMyShortDescription": "_m_get_my_short_description",
    "setChatMenuButton": "_m_set_chat_menu_button",
    "getChatMenuButton": "_m_get_chat_menu_button",
    "sendMessage": "_m_send_message",
    "sendPhoto": "_m_send_photo",
    "sendDocument": "_m_send_document",
    "editMessageText": "_m_edit_message_text",
    "editMessageCaption": "_m_edit_message_caption",
    "editMessageReplyMarkup": "_m_edit_message_reply_markup",
    "editMessageMedia": "_m_edit_message_media",
    "deleteMessage": "_m_delete_message",
    "answerCallbackQuery": "_m_answer_callback_query",
    "getFile": "_m_get_file",
    "sendChatAction": "_m_send_chat_action",
}


def is_message_send(method: str) -> bool:
    """Whether a method sends a message, counted by Telegram's overall flood limit."""
    return method.startswith(("send", "copyMessage", "forwardMessage")) and (
        method != "sendChatAction"
    )


_METHODS_BY_LOWER: dict[str, str] = {name.lower(): name for name in _METHODS}

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
# Update types only delivered when asked for explicitly via allowed_updates.
_OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_LANG_RE = re.compile(r"[a-z]{2}")
_BOT_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")


def canonical_method(name: str) -> str:
    """Telegram's own spelling of a method name (names are case-insensitive)."""
    return _METHODS_BY_LOWER.get(name.lower(), name)


def utf16_len(text: str) -> int:
    """Telegram measures text and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------------------------
# HTML parse mode
# --------------------------------------------------------------------------------------------

_SIMPLE_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "pre": "pre",
}
_NAMED_ENTITIES: dict[str, str] = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class _EntityError(Exception):
    pass


@dataclass
class _OpenTag:
    tag: str
    kind: str
    start: int
    extra: dict[str, str]


class _TelegramHTML(HTMLParser):
    """Reduces Telegram-flavoured HTML to visible text + entities, rejecting what Telegram
    rejects (unknown tags, bad nesting, stray "<", unknown named entities)."""

    def __init__(self, source: str) -> None:
        # Character references are handled by hand so unknown ones can be rejected.
        super().__init__(convert_charrefs=False)
        self.source = source
        self.line_starts = [0] + [i + 1 for i, ch in enumerate(source) if ch == "\n"]
        self.chunks: list[str] = []
        self.units = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def _index(self) -> int:
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def _byte(self, index: int) -> int:
        return len(self.source[:index].encode())

    def _fail(self, message: str) -> NoReturn:
        raise _EntityError(message)

    def _emit(self, text: str) -> None:
        self.chunks.append(text)
        self.units += utf16_len(text)

    def handle_data(self, data: str) -> None:
        # html.parser passes a "<" that does not start a tag through as data; Telegram doesn't.
        pos = data.find("<")
        if pos >= 0:
            at = self._byte(self._index() + pos)
            self._fail(f'Unsupported start tag "" at byte offset {at}')
        # Only reachable for an unterminated reference at the very end, like "&amp".
        match = re.search(r"&[#A-Za-z]", data)
        if match:
            at = self._byte(self._index() + match.start())
            self._fail(f"Unsupported HTML entity at byte offset {at}")
        self._emit(data)

    def _require_semicolon(self, name: str, prefix: int) -> int:
        # Telegram needs the ";"; html.parser would also accept "&amp " or "&#33 ".
        index = self._index()
        end = index + prefix + len(name)
        if self.source[end : end + 1] != ";":
            self._fail(f'Unsupported HTML entity "&{name}" at byte offset {self._byte(index)}')
        return index

    def handle_entityref(self, name: str) -> None:
        index = self._require_semicolon(name, len("&"))
        if name not in _NAMED_ENTITIES:
            self._fail(f'Unsupported HTML entity "&{name};" at byte offset {self._byte(index)}')
        self._emit(_NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        index = self._require_semicolon(name, len("&#"))
        try:
            code = int(name[1:], 16) if name[:1] in "xX" else int(name)
            char = chr(code)
        except (ValueError, OverflowError):
            self._fail(f'Invalid HTML entity "&#{name};" at byte offset {self._byte(index)}')
        if code == 0 or 0xD800 <= code <= 0xDFFF:
            self._fail(f'Invalid HTML entity "&#{name};" at byte offset {self._byte(index)}')
        self._emit(char)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        at = self._byte(self._index())
        attributes = {key.lower(): value or "" for key, value in attrs}
        extra: dict[str, str] = {}
        if tag in _SIMPLE_TAGS:
            kind = _SIMPLE_TAGS[tag]
        elif tag == "span":
            if attributes.get("class") != "tg-spoiler":
                self._fail(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
            kind = "spoiler"
        elif tag == "a":
            href = attributes.get("href", "")
            if not href:
                self._fail(f'Tag "a" must have attribute "href" at byte offset {at}')
            kind = "text_link"
            extra["url"] = href
        elif tag == "code":
            kind = "code"
            css = attributes.get("class", "")
            if css.startswith("language-") and len(css) > len("language-"):
                extra["language"] = css[len("language-") :]
        elif tag == "blockquote":
            kind = "expandable_blockquote" if "expandable" in attributes else "blockquote"
        elif tag == "tg-emoji":
            emoji_id = attributes.get("emoji-id", "")
            if not emoji_id:
                self._fail(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {at}')
            kind = "custom_emoji"
            extra["custom_emoji_id"] = emoji_id
        else:
            self._fail(f'Unsupported start tag "{tag}" at byte offset {at}')
        self.stack.append(_OpenTag(tag=tag, kind=kind, start=self.units, extra=extra))

    def handle_endtag(self, tag: str) -> None:
        at = self._byte(self._index())
        if not self.stack:
            self._fail(f"Unexpected end tag at byte offset {at}")
        top = self.stack[-1]
        if top.tag != tag:
            self._fail(
                f'Unmatched end tag at byte offset {at}, expected "</{top.tag}>", found "</{tag}>"'
            )
        self.stack.pop()
        if top.kind == "code" and "language" in top.extra:
            # <pre><code class="language-x"> marks the language of the pre block.
            if self.stack and self.stack[-1].kind == "pre":
                self.stack[-1].extra["language"] = top.extra["language"]
                return
            del top.extra["language"]
        length = self.units - top.start
        if length > 0:
            self.entities.append(
                {"type": top.kind, "offset": top.start, "length": length, **top.extra}
            )

    def _unsupported(self, *_: Any) -> None:
        self._fail(f"Unsupported start tag at byte offset {self._byte(self._index())}")

    handle_comment = _unsupported
    handle_decl = _unsupported
    handle_pi = _unsupported
    unknown_decl = _unsupported

    def finish(self) -> tuple[str, list[dict[str, Any]]]:
        self.close()
        if self.stack:
            self._fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"')
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.chunks), entities


_REFERENCE_RE = re.compile(r"&(#[xX][0-9A-Fa-f]*|#[0-9]*|#|[A-Za-z][A-Za-z0-9]*)(;?)")


def _check_references(text: str) -> None:
    """Rejects malformed character references up front: html.parser silently drops the "&"
    of some of them (e.g. a trailing "AT&T"), while a bare "& " stays literal text."""
    for match in _REFERENCE_RE.finditer(text):
        body, semicolon = match.groups()
        at = len(text[: match.start()].encode())
        if not semicolon or body in ("#", "#x", "#X"):
            raise _EntityError(f'Unsupported HTML entity "{match.group()}" at byte offset {at}')
        if not body.startswith("#") and body not in _NAMED_ENTITIES:
            raise _EntityError(f'Unsupported HTML entity "&{body};" at byte offset {at}')
    if "</>" in text:
        at = len(text[: text.index("</>")].encode())
        raise _EntityError(f"Unexpected end tag at byte offset {at}")


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Visible text and entities of a parse_mode=HTML text, or ApiError like Telegram."""
    parser = _TelegramHTML(text)
    try:
        _check_references(text)
        parser.feed(text)
        return parser.finish()
    except _EntityError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None
    except (AssertionError, ValueError, IndexError):
        # html.parser's own complaints about hopeless markup.
        raise bad_request("can't parse entities: Unsupported start tag at byte offset 0") from None


# ASCII whitespace only: bots rely on a leading no-break space surviving.
_TRIMMED = " \t\n\r\x0b\x0c"


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace; entities are shifted and clipped to match."""
    left = text.lstrip(_TRIMMED)
    lead = utf16_len(text[: len(text) - len(left)])
    result = left.rstrip(_TRIMMED)
    total = utf16_len(result)
    kept: list[dict[str, Any]] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return result, kept


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass
class ApiCall:
    """One HTTP call the bot made."""

    index: int
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(repr=False)
    response: dict[str, Any]
    status: int
    at: float = field(default_factory=time.monotonic, repr=False)

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        return self.response.get("description")


@dataclass(eq=False)
class SentMessage:
    """A message the bot sent, kept up to date with later edits and deletion."""

    message_id: int
    chat_id: int
    kind: str  # "text" | "photo" | "document"
    text: str | None = None
    caption: str | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    file_id: str | None = None
    file_bytes: bytes | None = field(default=None, repr=False)
    file_name: str | None = None
    edits: int = 0
    deleted: bool = False
    # Entities of the text or caption, as Telegram would report them.
    entities: list[dict[str, Any]] = field(default_factory=list, repr=False)
    mime_type: str | None = None
    # PhotoSize list for photos, Document dict for documents.
    media: Any = field(default=None, repr=False)
    date: int = 0
    edit_date: int | None = None
    # Message dicts of earlier versions, oldest first.
    history: list[dict[str, Any]] = field(default_factory=list, repr=False)
    sender: dict[str, Any] = field(default_factory=dict, repr=False)
    chat: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def content(self) -> str:
        """What the user reads: the text, or the caption of a media message."""
        if self.kind == "text":
            return self.text or ""
        return self.caption or ""

    @property
    def inline_markup(self) -> dict[str, Any] | None:
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            return self.reply_markup
        return None

    @property
    def raw(self) -> dict[str, Any]:
        """The Message object as Telegram returns it (current state)."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if self.kind == "text":
            message["text"] = self.text
            if self.entities:
                message["entities"] = self.entities
        else:
            message["photo" if self.kind == "photo" else "document"] = self.media
            if self.caption is not None:
                message["caption"] = self.caption
                if self.entities:
                    message["caption_entities"] = self.entities
        # Message.reply_markup only ever carries inline keyboards.
        if self.inline_markup is not None:
            message["reply_markup"] = self.inline_markup
        return message

    def buttons(self) -> list[dict[str, Any]]:
        """Inline keyboard buttons, row by row, as raw dicts."""
        markup = self.inline_markup
        if markup is None:
            return []
        return [button for row in markup["inline_keyboard"] for button in row]

    def button(self, text_part: str) -> dict[str, Any]:
        for button in self.buttons():
            if text_part in button.get("text", ""):
                return button
        listing = [(b.get("text"), b.get("callback_data") or b.get("url")) for b in self.buttons()]
        raise AssertionError(
            f"no button containing {text_part!r} on message {self.message_id} "
            f"({self.content[:80]!r}); buttons: {listing}"
        )

    def callback(self, text_part: str) -> str:
        button = self.button(text_part)
        data = button.get("callback_data")
        if data is None:
            raise AssertionError(f"button {button!r} has no callback_data")
        return str(data)

    def reply_keyboard(self) -> list[dict[str, Any]] | None:
        """ReplyKeyboardMarkup buttons (strings normalized to {"text": ...}), else None."""
        if self.reply_markup is None or "keyboard" not in self.reply_markup:
            return None
        return [
            {"text": b} if isinstance(b, str) else b
            for row in self.reply_markup["keyboard"]
            for b in row
        ]


@dataclass
class _Upload:
    data: bytes
    filename: str | None
    content_type: str | None


@dataclass
class _FileRecord:
    file_id: str
    file_unique_id: str
    kind: str  # "photo" | "document"
    file_path: str
    # The bytes, or a function making them on first use (thumbnails nobody may download).
    source: bytes | Callable[[], bytes] = field(repr=False)
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0
    # Every PhotoSize of the photo this size belongs to (smallest first).
    photo_set: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def data(self) -> bytes:
        if callable(self.source):
            self.source = self.source()
        return self.source

    def photo_size(self) -> dict[str, Any]:
        size: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
        }
        # file_size is optional in PhotoSize; leave it out rather than render a thumbnail.
        if not callable(self.source):
            size["file_size"] = len(self.source)
        return size

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc


_IMAGE_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp"}


def _probe_image(data: bytes) -> tuple[int, int, str]:
    """Real width/height/extension of an uploaded photo, or Telegram's error."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            extension = _IMAGE_EXTENSIONS.get(image.format or "", "jpg")
            image.verify()
    except Exception:  # any decoder failure means "not an image" to Telegram
        raise bad_request("IMAGE_PROCESS_FAILED") from None
    if width + height > 10000 or max(width, height) > 20 * max(min(width, height), 1):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
    return width, height, extension


def _thumbnail_size(width: int, height: int) -> tuple[int, int]:
    scale = THUMBNAIL_SIDE / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _thumbnail(data: bytes, size: tuple[int, int]) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        small = image.convert("RGB").resize(size)
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _short(value: Any, limit: int = 70) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeTelegram:
    """In-process fake of api.telegram.org for one bot."""

    def __init__(
        self,
        token: str = TOKEN,
        bot_id: int = 123456789,
        bot_username: str = "loyalty_test_bot",
        bot_name: str = "Loyalty Test Bot",
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.base_url = ""

        self.requests: list[ApiCall] = []
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.commands: dict[str | None, list[dict[str, Any]]] = {}
        # (json of scope, language_code) -> commands, for every scope.
        self.scoped_commands: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        self.descriptions: dict[str | None, str] = {}
        self.short_descriptions: dict[str | None, str] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        # file_path of every download the bot made via /file/bot<token>/...
        self.downloads: list[str] = []
        # When set, every file download is answered with this HTTP status instead.
        self.download_status: int | None = None
        # Tracebacks of crashes inside the fake itself (answered as 500s).
        self.server_errors: list[str] = []

        self._runner: web.AppRunner | None = None
        self._stopping = False
        self._updates: list[dict[str, Any]] = []
        self._update_seq = 100_000_000
        self._allowed_updates: set[str] | None = None
        self._pollers: set[asyncio.Future[str]] = set()
        self._message_seq: dict[int, int] = {}
        self._sent: dict[int, list[SentMessage]] = {}
        self._sent_by_id: dict[int, dict[int, SentMessage]] = {}
        self._user_messages: dict[int, dict[int, dict[str, Any]]] = {}
        self._deleted_user_messages: set[tuple[int, int]] = set()
        self._reply_keyboards: dict[int, dict[str, Any] | None] = {}
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._callback_seq = 0
        self._registry: dict[str, _FileRecord] = {}
        self._by_path: dict[str, _FileRecord] = {}
        self._file_seq = 0
        self._blocked: set[int] = set()
        self.webhook: dict[str, Any] | None = None  # what setWebhook registered
        self._failures: dict[str, list[ApiError]] = {}
        # (method, predicate on the params, seconds): answers held back, as a slow network.
        self._delays: list[tuple[str, Callable[[dict[str, Any]], bool], float]] = []
        self._cursors: dict[int, int] = {}
        self._taken_calls: set[int] = set()
        self._inflight = 0
        self._last_activity = time.monotonic()
        # Telegram's flood limit, off unless set: messages sent beyond this many in any
        # sliding second are answered 429 (retry after 1 s). See `limit_sends`.
        self.sends_per_second: int | None = None
        self._send_times: deque[float] = deque()
        self._changed = asyncio.Event()

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("already started")
        self._stopping = False
        app = web.Application(client_max_size=DOCUMENT_SIZE_LIMIT + 10 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a long poll whose client went away must not linger.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"

    async def stop(self) -> None:
        self._stopping = True
        # Answer pending long polls right away instead of letting them run out.
        self._wake_pollers("stop")
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------- users and updates

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def user(
        self,
        user_id: int,
        first_name: str = "Ann",
        language_code: str | None = "en",
        last_name: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """A Telegram User; the bot may message this user's private chat from now on."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self.users[user_id] = user
        return dict(user)

    def _chat(self, user: dict[str, Any]) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": user["id"], "type": "private"}
        for key in ("first_name", "last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        # Bot and user messages share one id sequence per private chat, as in Telegram.
        self._message_seq[chat_id] = self._message_seq.get(chat_id, 0) + 1
        return self._message_seq[chat_id]

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        self._update_seq += 1
        update = {"update_id": self._update_seq, kind: payload}
        self._updates.append(update)
        self._wake_pollers("update")
        self._touch()
        return update

    def _user_message(
        self, user: dict[str, Any], reply_to: SentMessage | None, **content: Any
    ) -> dict[str, Any]:
        chat_id = user["id"]
        self.users.setdefault(chat_id, dict(user))
        # Writing to a bot you blocked means unblocking it first.
        self._blocked.discard(chat_id)
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "from": dict(user),
            "chat": self._chat(user),
            "date": int(time.time()),
            **content,
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to.raw
        self._user_messages.setdefault(chat_id, {})[message["message_id"]] = message
        self._enqueue("message", message)
        return message

    def send_message(
        self, user: dict[str, Any], text: str, *, reply_to: SentMessage | None = None
    ) -> dict[str, Any]:
        """The user writes to the bot; "/cmd ..." gets a bot_command entity like in Telegram."""
        content: dict[str, Any] = {"text": text}
        match = _BOT_COMMAND_RE.match(text)
        if match:
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}
            ]
        return self._user_message(user, reply_to, **content)

    def send_contact(
        self,
        user: dict[str, Any],
        phone_number: str,
        contact_user_id: int | None,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> dict[str, Any]:
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name if first_name is not None else user["first_name"],
        }
        surname = last_name if last_name is not None else user.get("last_name")
        if surname is not None:
            contact["last_name"] = surname
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self._user_message(user, None, contact=contact)

    def send_photo(
        self, user: dict[str, Any], image: bytes, caption: str | None = None
    ) -> dict[str, Any]:
        """The user sends a photo; its bytes become downloadable through getFile."""
        try:
            width, height, extension = _probe_image(image)
        except ApiError as exc:
            raise ValueError(f"send_photo needs a real image: {exc.description}") from None
        sizes = self._register_photo(image, None, width, height, extension)
        content: dict[str, Any] = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return self._user_message(user, None, **content)

    def send_document(
        self,
        user: dict[str, Any],
        data: bytes,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        file_size: int | None = None,
    ) -> dict[str, Any]:
        """`file_size`: the size Telegram announces, when a test fakes a file too large to
        make (only the announcement says so; the bytes are `data`)."""
        record = self._register_document(data, file_name, mime_type)
        document = record.document()
        content: dict[str, Any] = {"document": document}
        if file_size is not None:
            document["file_size"] = file_size
        if caption is not None:
            content["caption"] = caption
            match = _BOT_COMMAND_RE.match(caption)
            if match:
                content["caption_entities"] = [
                    {"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}
                ]
        return self._user_message(user, None, **content)

    def press(self, user: dict[str, Any], message: SentMessage, callback_data: str) -> str:
        """The user taps an inline button of ``message``; returns the callback query id.

        The data is not checked against the keyboard so tests can forge callbacks."""
        if message.deleted:
            raise AssertionError(f"message {message.message_id} was deleted; nothing to press")
        if message.chat_id != user["id"]:
            raise AssertionError(
                f"message {message.message_id} is in chat {message.chat_id}, "
                f"not in user {user['id']}'s chat"
            )
        self._callback_seq += 1
        query_id = str(4_000_000_000_000_000_000 + self.bot_id * 1000 + self._callback_seq)
        self._callbacks[query_id] = {
            "user_id": user["id"],
            "message_id": message.message_id,
            "data": callback_data,
            "answered": False,
        }
        self._enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": dict(user),
                "message": message.raw,
                "chat_instance": str(-(7_000_000_000_000_000_000 + user["id"])),
                "data": callback_data,
            },
        )
        return query_id

    @property
    def pending_updates(self) -> int:
        """Updates enqueued but not yet confirmed by a later getUpdates offset."""
        return sum(1 for update in self._updates if self._is_allowed(update))

    @property
    def waiting_polls(self) -> int:
        """getUpdates requests currently blocked in a long poll."""
        return sum(1 for fut in self._pollers if not fut.done())

    def _is_allowed(self, update: dict[str, Any]) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self._allowed_updates is None:
            return kind not in _OPT_IN_UPDATE_TYPES
        return kind in self._allowed_updates

    def _wake_pollers(self, reason: str) -> None:
        for fut in list(self._pollers):
            if not fut.done():
                fut.set_result(reason)

    # ---------------------------------------------------------------- observation

    def messages(self, chat_id: int) -> list[SentMessage]:
        return list(self._sent.get(chat_id, []))

    def current_reply_keyboard(self, chat_id: int) -> list[dict[str, Any]] | None:
        """Buttons of the reply keyboard the user currently has in that chat, if any."""
        markup = self._reply_keyboards.get(chat_id)
        if markup is None:
            return None
        return [{"text": b} if isinstance(b, str) else b for row in markup["keyboard"] for b in row]

    def dump(self, limit: int = 25) -> str:
        """Recent API calls, one per line, for assertion messages."""
        # Empty long polls carry no information and would drown everything else.
        calls = [c for c in self.requests if not (c.method == "getUpdates" and c.result == [])]
        lines = []
        for call in calls[-limit:]:
            shown = ", ".join(f"{k}={_short(v)}" for k, v in call.params.items())
            outcome = "ok" if call.ok else f"{call.status} {call.description}"
            lines.append(f"  #{call.index} {call.method}({shown}) -> {outcome}")
        if not lines:
            lines.append("  (no API calls yet)")
        header = (
            f"recent API calls ({len(self.requests)} total, "
            f"{self.pending_updates} update(s) pending):"
        )
        crashes = [f"fake server crashed:\n{tb}" for tb in self.server_errors[-1:]]
        return "\n".join([header, *lines, *crashes])

    def _touch(self) -> None:
        self._last_activity = time.monotonic()
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait_until(self, predicate: Callable[[], Any], timeout: float) -> tuple[bool, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return True, value
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False, value
            # Woken by every API call; the short cap also catches state outside the fake.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.02))

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        done, value = await self._wait_until(predicate, timeout)
        if not done:
            raise AssertionError(
                f"condition not met within {timeout}s (last value {value!r})\n{self.dump()}"
            )
        return value

    async def next_message(self, chat_id: int, timeout: float = 10.0) -> SentMessage:
        """The next bot message in that chat not yet returned by next_message."""

        def unread() -> bool:
            return len(self._sent.get(chat_id, [])) > self._cursors.get(chat_id, 0)

        done, _ = await self._wait_until(unread, timeout)
        cursor = self._cursors.get(chat_id, 0)
        if not done:
            recent = [m.content[:60] for m in self._sent.get(chat_id, [])[-3:]]
            raise AssertionError(
                f"no new bot message in chat {chat_id} within {timeout}s "
                f"({cursor} already consumed, last ones: {recent})\n{self.dump()}"
            )
        # Re-read after waiting so concurrent readers never get the same message.
        self._cursors[chat_id] = cursor + 1
        return self._sent[chat_id][cursor]

    async def wait_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 10.0,
    ) -> ApiCall:
        """First logged call of ``method`` matching ``predicate`` not returned before."""
        name = canonical_method(method)

        def find() -> ApiCall | None:
            for call in self.requests:
                if call.index in self._taken_calls or call.method != name:
                    continue
                if predicate is None or predicate(call):
                    return call
            return None

        done, call = await self._wait_until(find, timeout)
        if not done or call is None:
            raise AssertionError(f"no matching {name} call within {timeout}s\n{self.dump()}")
        self._taken_calls.add(call.index)
        return call

    async def idle(self, quiet: float = 0.05, timeout: float = 10.0) -> None:
        """Wait until every update is confirmed and no API call happened for ``quiet`` s.

        A heuristic for "the bot has finished reacting"; prefer next_message/wait_call."""

        def settled() -> bool:
            return (
                self.pending_updates == 0
                and self._inflight == 0
                and time.monotonic() - self._last_activity >= quiet
            )

        done, _ = await self._wait_until(settled, timeout)
        if not done:
            raise AssertionError(f"bot did not settle within {timeout}s\n{self.dump()}")

    # ---------------------------------------------------------------- fault injection

    def block(self, user_id: int) -> None:
        """The user blocks the bot: later sends to that chat answer 403."""
        self._blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = 1,
    ) -> None:
        """The next call of ``method`` fails with that error instead of running."""
        name = canonical_method(method)
        if name not in _METHODS:
            raise ValueError(f"{method!r} is not a method the fake server implements")
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after}",
                400: "Bad Request: injected failure",
                403: BLOCKED,
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(error_code, f"Error {error_code}")
        error = ApiError(error_code, description, retry_after if error_code == 429 else None)
        self._failures.setdefault(name, []).append(error)

    def delay(self, method: str, matches: Callable[[dict[str, Any]], bool], seconds: float) -> None:
        """Calls of ``method`` whose params match are answered ``seconds`` late (after they
        took effect), like a slow link: the bot learns the result only then."""
        self._delays.append((canonical_method(method), matches, seconds))

    def limit_sends(self, per_second: int | None) -> None:
        """Enforce Telegram's overall limit: a message sent (send*, copy, forward; not chat
        actions) beyond `per_second` in any sliding second fails with 429, retry after 1."""
        self.sends_per_second = per_second
        self._send_times.clear()

    def _check_flood(self, method: str) -> None:
        if self.sends_per_second is None or not is_message_send(method):
            return
        now = time.monotonic()
        while self._send_times and self._send_times[0] <= now - 1.0:
            self._send_times.popleft()
        if len(self._send_times) >= self.sends_per_second:
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        self._send_times.append(now)

    # ---------------------------------------------------------------- HTTP plumbing

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = canonical_method(request.match_info["method"])
        long_poll = method == "getUpdates"
        params: dict[str, Any] = {}
        uploads: dict[str, _Upload] = {}
        if not long_poll:
            self._inflight += 1
        try:
            try:
                if request.match_info["token"] != self.token:
                    raise ApiError(401, "Unauthorized")
                if method not in _METHODS:
                    raise ApiError(404, "Not Found")
                params, uploads = await self._read_request(request)
                params = self._decode(params)
                queued = self._failures.get(method)
                if queued:
                    raise queued.pop(0)
                self._check_flood(method)
                result = await getattr(self, _METHODS[method])(params, uploads)
                status, body = 200, {"ok": True, "result": result}
            except ApiError as exc:
                status, body = exc.code, exc.body()
            except Exception as exc:  # a bug in the fake shows up as a Telegram-shaped 500
                self.server_errors.append(traceback.format_exc())
                status = 500
                body = ApiError(500, f"Internal Server Error: fake server bug: {exc!r}").body()
            self._record(method, params, uploads, body, status)
            for name, matches, seconds in self._delays:
                if name == method and matches(params):
                    await asyncio.sleep(seconds)
        finally:
            if not long_poll:
                self._inflight -= 1
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        path = request.match_info["path"]
        record = self._by_path.get(path)
        if record is None:
            return web.json_response(ApiError(404, "Not Found").body(), status=404)
        self.downloads.append(path)
        self._touch()
        if self.download_status is not None:
            return web.Response(status=self.download_status, text="file is gone")
        return web.Response(body=record.data, content_type="application/octet-stream")

    async def _read_request(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, _Upload]]:
        params: dict[str, Any] = dict(request.query)
        uploads: dict[str, _Upload] = {}
        if request.method != "POST" or not request.can_read_body:
            return params, uploads
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON encoded request") from None
            if not isinstance(body, dict):
                raise bad_request("can't parse JSON encoded request")
            params.update(body)
            return params, uploads
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413, "Request Entity Too Large") from None
        for key, value in form.items():
            if isinstance(value, web.FileField):
                uploads[key] = _Upload(value.file.read(), value.filename, value.content_type)
            else:
                params[key] = value
        return params, uploads

    def _decode(self, raw: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for key, value in raw.items():
            params[key] = self._decode_value(key, value)
        return params

    @staticmethod
    def _decode_value(key: str, value: Any) -> Any:
        kind = _FIELD_KINDS.get(key, "str")
        if not isinstance(value, str) or kind == "str":
            return value
        if kind == "chat":
            return int(value) if re.fullmatch(r"-?\d+", value) else value
        if kind == "int":
            try:
                return int(value)
            except ValueError:
                raise bad_request(f'field "{key}" must be a valid Number') from None
        if kind == "bool":
            lowered = value.lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0", ""):
                return False
            raise bad_request(f'field "{key}" must be of type Boolean')
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(_JSON_ERRORS.get(key, f"can't parse {key} JSON object")) from None

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        uploads: dict[str, _Upload],
        body: dict[str, Any],
        status: int,
    ) -> None:
        # Name uploads after the field that referenced them ("photo", "media", ...).
        files: dict[str, bytes] = {}
        referenced: set[str] = set()
        for key, value in params.items():
            ref = value.get("media") if isinstance(value, dict) else value
            if isinstance(ref, str) and ref.startswith("attach://"):
                upload = uploads.get(ref[len("attach://") :])
                if upload is not None:
                    files[key] = upload.data
                    referenced.add(ref[len("attach://") :])
        for name, upload in uploads.items():
            if name not in referenced:
                files[name] = upload.data
        self.requests.append(
            ApiCall(
                index=len(self.requests),
                method=method,
                params=params,
                files=files,
                response=body,
                status=status,
            )
        )
        self._touch()

    # ---------------------------------------------------------------- validation helpers

    def _chat_id(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if not isinstance(chat_id, int) or chat_id not in self.users:
            raise bad_request("chat not found")
        return chat_id

    def _check_blocked(self, chat_id: int) -> None:
        if chat_id in self._blocked:
            raise ApiError(403, BLOCKED)

    @staticmethod
    def _formatted(
        text: Any,
        parse_mode: Any,
        entities: Any,
        *,
        limit: int,
        empty: str | None,
        too_long: str,
    ) -> tuple[str | None, list[dict[str, Any]]]:
        """Visible text + entities after parse mode; ``empty`` None means text is optional."""
        if text is None or text == "":
            if empty is None:
                return None, []
            raise bad_request(empty)
        text = str(text)
        if entities is not None:
            # Explicit entities win over parse_mode, as in Telegram.
            if not isinstance(entities, list) or not all(
                isinstance(e, dict) and {"type", "offset", "length"} <= e.keys() for e in entities
            ):
                raise bad_request("can't parse entities JSON object")
            visible, found = text, [dict(e) for e in entities]
        elif parse_mode:
            mode = str(parse_mode).lower()
            if mode == "html":
                visible, found = parse_html(text)
            elif mode in ("markdown", "markdownv2"):
                raise bad_request(
                    "can't parse entities: only parse_mode HTML is supported by the fake server"
                )
            else:
                raise bad_request("unsupported parse_mode")
        else:
            visible, found = text, []
        visible, found = strip_text(visible, found)
        if not visible:
            if empty is None:
                return None, []
            raise bad_request(empty)
        if utf16_len(visible) > limit:
            raise bad_request(too_long)
        return visible, found

    def _text(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        text, entities = self._formatted(
            params.get("text"),
            params.get("parse_mode"),
            params.get("entities"),
            limit=TEXT_LIMIT,
            empty="message text is empty",
            too_long="message is too long",
        )
        assert text is not None
        return text, entities

    def _caption(self, source: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
        return self._formatted(
            source.get("caption"),
            source.get("parse_mode"),
            source.get("caption_entities"),
            limit=CAPTION_LIMIT,
            empty=None,
            too_long="message caption is too long",
        )

    @staticmethod
    def _markup(value: Any, *, inline_only: bool) -> dict[str, Any] | None:
        """Validated reply markup; an inline keyboard without buttons counts as none."""
        if value is None:
            return None
        if not isinstance(value, dict):
            raise bad_request("object expected as reply markup")
        if "inline_keyboard" in value:
            rows = value["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise bad_request(
                    'can\'t parse inline keyboard: field "inline_keyboard" must be an Array '
                    "of Arrays"
                )
            for row in rows:
                for button in row:
                    FakeTelegram._check_inline_button(button)
            if not any(rows):
                return None
            return value
        if inline_only:
            raise bad_request("inline keyboard expected")
        if "keyboard" in value:
            rows = value["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise bad_request('can\'t parse keyboard: field "keyboard" must be an Array')
            for row in rows:
                for button in row:
                    if isinstance(button, dict):
                        button = button.get("text")
                    if not isinstance(button, str):
                        raise bad_request('can\'t parse keyboard button: field "text" is required')
            return value
        if value.get("remove_keyboard") is True or value.get("force_reply") is True:
            return value
        raise bad_request("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _check_inline_button(button: Any) -> None:
        if not isinstance(button, dict):
            raise bad_request(
                "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
            )
        if not isinstance(button.get("text"), str):
            raise bad_request(
                'can\'t parse inline keyboard button: Field "text" must be of type String'
            )
        actions = [name for name in _BUTTON_ACTIONS if name in button]
        if not actions:
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        if "callback_data" in button:
            data = button["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                raise bad_request("BUTTON_DATA_INVALID")
        if "url" in button:
            url = button["url"]
            if not isinstance(url, str) or not re.match(r"^(https?://[^\s/]+|tg://\S+)", url):
                raise bad_request("BUTTON_URL_INVALID")

    def _remember_keyboard(self, chat_id: int, markup: dict[str, Any] | None) -> None:
        if markup is None:
            return
        if "keyboard" in markup:
            self._reply_keyboards[chat_id] = markup
        elif markup.get("remove_keyboard"):
            self._reply_keyboards[chat_id] = None

    # ---------------------------------------------------------------- files

    def _new_file(
        self,
        kind: str,
        data: bytes | Callable[[], bytes],
        extension: str,
        *,
        digest: str,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int = 0,
        height: int = 0,
    ) -> _FileRecord:
        self._file_seq += 1
        seq = self._file_seq
        prefix = "AgACAgIAAxkBAAI" if kind == "photo" else "BQACAgIAAxkBAAI"
        folder = "photos" if kind == "photo" else "documents"
        suffix = f".{extension}" if extension else ""
        record = _FileRecord(
            file_id=f"{prefix}{seq:06d}{digest[:24]}",
            # Same content, same unique id, like Telegram.
            file_unique_id=f"AQAD{digest[:16]}",
            kind=kind,
            source=data,
            file_path=f"{folder}/file_{seq}{suffix}",
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self._registry[record.file_id] = record
        self._by_path[record.file_path] = record
        return record

    def _register_photo(
        self, data: bytes, file_name: str | None, width: int, height: int, extension: str
    ) -> list[dict[str, Any]]:
        records: list[_FileRecord] = []
        digest = hashlib.sha1(data).hexdigest()
        if max(width, height) > THUMBNAIL_SIDE:
            # Telegram lists smaller sizes first; bots must pick photo[-1] for the original.
            size = _thumbnail_size(width, height)
            thumb = self._new_file(
                "photo",
                lambda: _thumbnail(data, size),
                "jpg",
                digest=hashlib.sha1(f"{digest}:s".encode()).hexdigest(),
                width=size[0],
                height=size[1],
            )
            records.append(thumb)
        main = self._new_file(
            "photo",
            data,
            extension,
            digest=digest,
            file_name=file_name,
            width=width,
            height=height,
        )
        records.append(main)
        sizes = [record.photo_size() for record in records]
        for record in records:
            record.photo_set = sizes
        self.files[main.file_id] = data
        return sizes

    def _register_document(
        self, data: bytes, file_name: str | None, mime_type: str | None
    ) -> _FileRecord:
        extension = ""
        if file_name and "." in file_name:
            extension = file_name.rsplit(".", 1)[1].lower()
        record = self._new_file(
            "document",
            data,
            extension,
            digest=hashlib.sha1(data).hexdigest(),
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[record.file_id] = data
        return record

    def _input_file(
        self, value: Any, uploads: dict[str, _Upload], field_name: str
    ) -> _Upload | _FileRecord | None:
        """An upload (direct part or attach://name) or an existing file; None if absent."""
        if value is None:
            return uploads.get(field_name)
        if not isinstance(value, str) or not value:
            raise ApiError(400, WRONG_FILE_ID)
        if value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(f"can't find attached file {value!r}")
            return upload
        if value.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        record = self._registry.get(value)
        if record is None:
            raise ApiError(400, WRONG_FILE_ID)
        return record

    def _photo_source(
        self, source: _Upload | _FileRecord
    ) -> tuple[Callable[[], list[dict[str, Any]]], _FileRecord | None]:
        """Validates a photo and returns a deferred registration (so errors leave no trace)."""
        if isinstance(source, _FileRecord):
            if source.kind != "photo":
                raise bad_request("can't use file of type Document as Photo")
            return (lambda: source.photo_set), source
        if len(source.data) > PHOTO_SIZE_LIMIT:
            raise bad_request("PHOTO_SAVE_FILE_INVALID")
        width, height, extension = _probe_image(source.data)
        return (
            lambda: self._register_photo(source.data, source.filename, width, height, extension)
        ), None

    def _document_source(self, source: _Upload | _FileRecord) -> Callable[[], _FileRecord]:
        if isinstance(source, _FileRecord):
            if source.kind != "document":
                raise bad_request("can't use file of type Photo as Document")
            return lambda: source
        if len(source.data) > DOCUMENT_SIZE_LIMIT:
            raise ApiError(413, "Request Entity Too Large")
        mime = None
        if source.filename:
            mime = mimetypes.guess_type(source.filename)[0]
        mime = mime or source.content_type or "application/octet-stream"
        return lambda: self._register_document(source.data, source.filename, mime)

    # ---------------------------------------------------------------- sent messages

    def _store(self, chat_id: int, kind: str, **fields: Any) -> SentMessage:
        message = SentMessage(
            message_id=self._next_message_id(chat_id),
            chat_id=chat_id,
            kind=kind,
            date=int(time.time()),
            sender=self.bot_user,
            chat=self._chat(self.users[chat_id]),
            **fields,
        )
        self._sent.setdefault(chat_id, []).append(message)
        self._sent_by_id.setdefault(chat_id, {})[message.message_id] = message
        self._remember_keyboard(chat_id, message.reply_markup)
        return message

    def _apply_media(self, message: SentMessage, kind: str, sizes_or_doc: Any) -> None:
        message.kind = kind
        message.text = None
        if kind == "photo":
            message.media = sizes_or_doc
            record = self._registry[sizes_or_doc[-1]["file_id"]]
        else:
            record = sizes_or_doc
            message.media = record.document()
        message.file_id = record.file_id
        message.file_bytes = record.data
        message.file_name = record.file_name
        message.mime_type = record.mime_type

    def _edit_target(self, params: dict[str, Any]) -> SentMessage:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = self._sent_by_id.get(chat_id, {}).get(message_id)
        if message is None or message.deleted:
            if message_id in self._user_messages.get(chat_id, {}) and (
                (chat_id, message_id) not in self._deleted_user_messages
            ):
                raise bad_request("message can't be edited")
            raise bad_request("message to edit not found")
        return message

    def _mark_edited(self, message: SentMessage) -> None:
        message.history.append(message.raw)
        message.edits += 1
        message.edit_date = int(time.time())

    # ---------------------------------------------------------------- method handlers

    async def _m_get_me(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_get_updates(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        offset = params.get("offset")
        limit = params.get("limit") or 100
        limit = min(max(int(limit), 1), 100)
        timeout = max(int(params.get("timeout") or 0), 0)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            if allowed is not None and not isinstance(allowed, list):
                raise bad_request("can't parse allowed_updates JSON object")
            # Like Telegram, the last non-empty list sticks; an empty list restores defaults.
            self._allowed_updates = set(allowed) if allowed else None
        if offset:
            if offset < 0:
                self._updates = self._updates[offset:]
            else:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
        # A second concurrent poll terminates the first one, as on the real server.
        self._wake_pollers("conflict")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            # Updates the bot did not subscribe to are never delivered.
            self._updates = [u for u in self._updates if self._is_allowed(u)]
            remaining = deadline - loop.time()
            if self._updates or self._stopping or remaining <= 0:
                return self._updates[:limit]
            waiter: asyncio.Future[str] = loop.create_future()
            self._pollers.add(waiter)
            self._touch()
            try:
                reason = await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                reason = "timeout"
            finally:
                self._pollers.discard(waiter)
            if reason == "conflict":
                raise ApiError(409, CONFLICT)

    async def _m_delete_webhook(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = None
        return True

    async def _m_set_webhook(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        url = params.get("url")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = {"url": url, "secret_token": secret}
        return True

    async def _m_get_webhook_info(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str | None, bool]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        language = params.get("language_code") or None
        if language is not None and not _LANG_RE.fullmatch(str(language)):
            raise bad_request("invalid language code specified")
        is_default = scope["type"] == "default"
        return json.dumps(scope, sort_keys=True), language, is_default

    async def _m_set_my_commands(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request('parameter "commands" is required')
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        cleaned: list[dict[str, Any]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        scope_key, language, is_default = self._commands_key(params)
        if cleaned:
            self.scoped_commands[(scope_key, language)] = cleaned
            if is_default:
                self.commands[language] = cleaned
        else:
            # An empty list is the same as deleteMyCommands.
            self.scoped_commands.pop((scope_key, language), None)
            if is_default:
                self.commands.pop(language, None)
        return True

    async def _m_get_my_commands(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        scope_key, language, _ = self._commands_key(params)
        return self.scoped_commands.get((scope_key, language), [])

    async def _m_delete_my_commands(
        self, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> Any:
        scope_key, language, is_default = self._commands_key(params)
        self.scoped_commands.pop((scope_key, language), None)
        if is_default:
            self.commands.pop(language, None)
        return True

    def _set_text_setting(
        self, store: dict[str | None, str], params: dict[str, Any], name: str, limit: int
    ) -> bool:
        value = params.get(name) or ""
        language = params.get("language_code") or None
        if language is not None and not _LANG_RE.fullmatch(str(language)):
            raise bad_request("invalid language code specified")
        if len(value) > limit:
            raise bad_request(f"{name.replace('_', ' ')} is too long")
        if value:
            store[language] = value
        else:
            store.pop(language, None)
        return True

    async def _m_set_my_description(
        self, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> Any:
        return self._set_text_setting(self.descriptions, params, "description", 512)

    async def _m_get_my_description(
        self, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> Any:
        language = params.get("language_code") or None
        return {"description": self.descriptions.get(language, "")}

    async def _m_set_my_short_description(
        self, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> Any:
        return self._set_text_setting(self.short_descriptions, params, "short_description", 120)

    async def _m_get_my_short_description(
        self, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> Any:
        language = params.get("language_code") or None
        return {"short_description": self.short_descriptions.get(language, "")}

    async def _m_set_chat_menu_button(
        self, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> Any:
        chat_id = self._chat_id(params) if params.get("chat_id") is not None else None
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise bad_request("can't parse MenuButton JSON object")
        self.menu_buttons[chat_id] = button
        return True

    async def _m_get_chat_menu_button(
        self, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> Any:
        chat_id = self._chat_id(params) if params.get("chat_id") is not None else None
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "commands"}

    async def _m_send_message(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        chat_id = self._chat_id(params)
        text, entities = self._text(params)
        markup = self._markup(params.get("reply_markup"), inline_only=False)
        self._check_blocked(chat_id)
        message = self._store(
            chat_id,
            "text",
            text=text,
            entities=entities,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
        )
        return message.raw

    async def _m_send_photo(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        chat_id = self._chat_id(params)
        source = self._input_file(params.get("photo"), uploads, "photo")
        if source is None:
            raise bad_request("there is no photo in the request")
        register, _ = self._photo_source(source)
        caption, entities = self._caption(params)
        markup = self._markup(params.get("reply_markup"), inline_only=False)
        self._check_blocked(chat_id)
        message = self._store(
            chat_id,
            "photo",
            caption=caption,
            entities=entities,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
        )
        self._apply_media(message, "photo", register())
        return message.raw

    async def _m_send_document(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        chat_id = self._chat_id(params)
        source = self._input_file(params.get("document"), uploads, "document")
        if source is None:
            raise bad_request("there is no document in the request")
        register = self._document_source(source)
        caption, entities = self._caption(params)
        markup = self._markup(params.get("reply_markup"), inline_only=False)
        self._check_blocked(chat_id)
        message = self._store(
            chat_id,
            "document",
            caption=caption,
            entities=entities,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
        )
        self._apply_media(message, "document", register())
        return message.raw

    @staticmethod
    def _next_markup(message: SentMessage, new: dict[str, Any] | None) -> dict[str, Any] | None:
        # Edits replace the inline keyboard (dropping it when none is passed); a reply
        # keyboard sent with the message belongs to the chat and is left alone.
        if new is None and message.reply_markup is not None and message.inline_markup is None:
            return message.reply_markup
        return new

    async def _m_edit_message_text(
        self, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> Any:
        message = self._edit_target(params)
        text, entities = self._text(params)
        markup = self._markup(params.get("reply_markup"), inline_only=True)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        self._check_blocked(message.chat_id)
        if (text, entities, markup) == (message.text, message.entities, message.inline_markup):
            raise ApiError(400, NOT_MODIFIED)
        self._mark_edited(message)
        message.text = text
        message.entities = entities
        message.parse_mode = params.get("parse_mode")
        message.reply_markup = self._next_markup(message, markup)
        return message.raw

    async def _m_edit_message_caption(
        self, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> Any:
        message = self._edit_target(params)
        caption, entities = self._caption(params)
        markup = self._markup(params.get("reply_markup"), inline_only=True)
        if message.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        self._check_blocked(message.chat_id)
        if (caption, entities, markup) == (
            message.caption,
            message.entities,
            message.inline_markup,
        ):
            raise ApiError(400, NOT_MODIFIED)
        self._mark_edited(message)
        message.caption = caption
        message.entities = entities
        message.parse_mode = params.get("parse_mode")
        message.reply_markup = self._next_markup(message, markup)
        return message.raw

    async def _m_edit_message_reply_markup(
        self, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> Any:
        message = self._edit_target(params)
        markup = self._markup(params.get("reply_markup"), inline_only=True)
        self._check_blocked(message.chat_id)
        if markup == message.inline_markup:
            raise ApiError(400, NOT_MODIFIED)
        self._mark_edited(message)
        message.reply_markup = self._next_markup(message, markup)
        return message.raw

    async def _m_edit_message_media(
        self, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> Any:
        message = self._edit_target(params)
        media = params.get("media")
        if not isinstance(media, dict) or "type" not in media or "media" not in media:
            raise bad_request("can't parse InputMedia JSON object")
        kind = media["type"]
        if kind not in ("photo", "document"):
            raise bad_request(f'unsupported media type "{kind}" (fake server: photo, document)')
        source = self._input_file(media["media"], uploads, "media")
        if source is None:
            raise bad_request("there is no media in the request")
        register: Callable[[], Any]
        if kind == "photo":
            register, existing = self._photo_source(source)
            same_file = existing is not None and any(
                size["file_id"] == message.file_id for size in existing.photo_set
            )
        else:
            register = self._document_source(source)
            same_file = isinstance(source, _FileRecord) and source.file_id == message.file_id
        caption, entities = self._caption(media)
        markup = self._markup(params.get("reply_markup"), inline_only=True)
        self._check_blocked(message.chat_id)
        if (
            same_file
            and kind == message.kind
            and (caption, entities, markup)
            == (message.caption, message.entities, message.inline_markup)
        ):
            raise ApiError(400, NOT_MODIFIED)
        self._mark_edited(message)
        self._apply_media(message, kind, register())
        # The new media's caption replaces the old one, even when absent.
        message.caption = caption
        message.entities = entities
        message.parse_mode = media.get("parse_mode")
        message.reply_markup = self._next_markup(message, markup)
        return message.raw

    async def _m_delete_message(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = self._sent_by_id.get(chat_id, {}).get(message_id)
        if message is not None and not message.deleted:
            message.deleted = True
            return True
        key = (chat_id, message_id)
        if message_id in self._user_messages.get(chat_id, {}) and key not in (
            self._deleted_user_messages
        ):
            # Bots may delete incoming messages in private chats.
            self._deleted_user_messages.add(key)
            return True
        raise bad_request("message to delete not found")

    async def _m_answer_callback_query(
        self, params: dict[str, Any], uploads: dict[str, _Upload]
    ) -> Any:
        query_id = params.get("callback_query_id")
        query = self._callbacks.get(str(query_id)) if query_id is not None else None
        # Answering twice is as invalid as answering an unknown query.
        if query is None or query["answered"]:
            raise ApiError(400, QUERY_INVALID)
        if len(str(params.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        self.callback_answers[str(query_id)] = dict(params)
        return True

    async def _m_get_file(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        record = self._registry.get(str(params.get("file_id") or ""))
        if record is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": len(record.data),
            "file_path": record.file_path,
        }

    async def _m_send_chat_action(self, params: dict[str, Any], uploads: dict[str, _Upload]) -> Any:
        chat_id = self._chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._check_blocked(chat_id)
        return True
