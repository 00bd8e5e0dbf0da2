"""What the fuzz test sends: junk texts and commands, forged and replayed callback data of
every kind the bot defines, photos, contacts, edits, other chats and unknown update types,
all drawn from one seeded `random.Random`."""

from __future__ import annotations

import contextlib
import io
import random
from typing import Any

import qrcode
from PIL import Image

from bot.domain.tokens import luhn_digit
from bot.keyboards.owner import StaffCb
from tests.conftest import OWNER_ID
from tests.fakeapi import SentMessage
from tests.fuzzing import Delivery, Driver, FuzzTelegram, buttons_data, buttons_in

LEGIT_CASHIERS = (2001, 2002)
FUZZ_CASHIERS = (2101, 2102, 2103)
LEGIT_CUSTOMERS = (3001, 3002, 3003, 3004, 3005, 3006)
JOINED_CUSTOMERS = tuple(range(4001, 4009))
SEEDED_FIRST, SEEDED_COUNT = 4101, 100
NEW_USERS_FIRST = 6001
GROUP_ID, CHANNEL_ID = -100_123, -100_777
NAMES = ("", "<b>", "=SUM(A1)+", "A&B ", "\u202e", "ไทย ", "🙂" * 30, "x" * 70, "&lt;")
JUNK_WORDS = (
    "",
    " ",
    "\u200b",
    "hello",
    "<b>bold</b>",
    "</i>",
    "a & b",
    "&amp;",
    "<script>alert(1)</script>",
    '=HYPERLINK("https://x.y","z")',
    "12.50",
    "12,50",
    "-5",
    "0",
    "1e9",
    "nan",
    "١٢",
    "99999999999",
    "+380 67 123 45 67",
    "070 123 456",
    "31.12.1990",
    "29.02.2023",
    "yes",
    "Skip",
    "🙂",
    "👍🏽🇺🇦",
    "ไทย",
    "Привет",
    "null",
    "None",
    "%s %d {name}",
    "\\x00",
    "c_AAAAAAAAAAAAAAAAAAAAAA",
    "s_AAAAAAAAAAAAAAAAAAAAAA",
    "r_AAAAAAAAAAAAAAAAAAAAAA",
)


def bad_card_number(rng: random.Random) -> str:
    """Eight digits that are never a card number: the check digit is always wrong, so junk
    typed by the fuzzer cannot open a real customer by luck."""
    body = "".join(rng.choice("0123456789") for _ in range(7))
    good = luhn_digit(body)
    return body + str((int(good) + 1 + rng.randrange(9)) % 10)


def qr_png(text: str) -> bytes:
    out = io.BytesIO()
    qrcode.make(text).save(out, format="PNG")
    return out.getvalue()


def jpeg(png: bytes, rotate: int = 0) -> bytes:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if rotate:
        image = image.rotate(rotate, expand=True)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


class UpdateMaker:
    """Makes one fuzz update at a time and queues it on the fake server."""

    def __init__(self, fake: FuzzTelegram, drive: Driver, rng: random.Random) -> None:
        self.fake = fake
        self.drive = drive
        self.rng = rng
        self.callbacks: list[type] = []
        self.commands: list[str] = []
        self.menu_labels: list[str] = []
        self.users: dict[int, dict[str, Any]] = {}
        self.card_numbers: dict[int, str] = {}  # telegram id -> card number, fuzz reachable
        self.card_payloads: list[str] = []
        self.images: list[bytes] = []
        self.seen_data: list[str] = []
        # Confirm buttons of legitimate flows that have finished: safe for their own to replay.
        self.finished: list[str] = []
        self.next_new_user = NEW_USERS_FIRST
        self.counts: dict[str, int] = {}

    def user(self, telegram_id: int) -> dict[str, Any]:
        if telegram_id not in self.users:
            language = ("en", "uk", "ru", "mk", "th", "de", None)[telegram_id % 7]
            if telegram_id in LEGIT_CASHIERS or telegram_id in LEGIT_CUSTOMERS:
                language = "en"  # their flows read the replies
            name = f"User{telegram_id}"
            if telegram_id not in LEGIT_CASHIERS and telegram_id not in LEGIT_CUSTOMERS:
                # People choose their own names: markup, formulas, bidi controls, long ones.
                name = self.rng.choice(NAMES) + name
            self.users[telegram_id] = self.fake.user(telegram_id, name, language_code=language)
        return self.users[telegram_id]

    def junk_text(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.25:
            return rng.choice(JUNK_WORDS)
        if roll < 0.35:
            return rng.choice(self.menu_labels)
        if roll < 0.45:
            return bad_card_number(rng)
        if roll < 0.55:
            return f"{rng.randrange(0, 100_000)}{rng.choice(['', '.5', ',99', '.001', ' 000'])}"
        if roll < 0.6:
            return "x" * rng.choice((300, 4096, 5000))
        alphabet = "abc xyz ABC 0123456789 .,;:!?/\\<>&\"'=+-_@#\n\tё€🙂ไ\u202e"
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40)))

    def junk_value(self) -> str:
        rng = self.rng
        pool = [
            "",
            "0",
            "-1",
            "1",
            "99999999999999999999",
            "true",
            "x" * 40,
            "é",
            ":",
            str(rng.choice(LEGIT_CUSTOMERS)),
            str(rng.choice(FUZZ_CASHIERS)),
        ]
        harvested = [part for data in self.seen_data[-200:] for part in data.split(":")[1:]]
        if harvested and rng.random() < 0.6:
            return rng.choice(harvested)
        return rng.choice(pool)

    def forged_data(self) -> str:
        """Callback data of one of the bot's own kinds, fields filled with junk or with
        values lifted from buttons shown to other people."""
        rng = self.rng
        if rng.random() < 0.1:
            return rng.choice(["", "op", "op:", "x" * 64, "::::", "desk:purchase", "lang:xx:yy"])
        kind = rng.choice(self.callbacks)
        parts = [kind.__prefix__, *(self.junk_value() for _ in kind.model_fields)]
        return ":".join(parts)[:64]

    def cross_forged(self, own: list[SentMessage]) -> str | None:
        """A value from a button in the actor's own chat (a pending operation's id, a desk
        view) put into a callback of another kind, every flag set to yes."""
        values = [part for data in buttons_data(own) for part in data.split(":")[1:2]]
        if not values:
            return None
        kind = self.rng.choice(self.callbacks)
        fields = [
            "1" if info.annotation is bool else self.rng.choice(values)
            for info in kind.model_fields.values()
        ]
        return ":".join([kind.__prefix__, *fields])[:64]

    def command(self, actor: int) -> str:
        rng = self.rng
        name = rng.choice(self.commands)
        text = "/" + name + rng.choice(["", "", f"@{self.fake.bot_username}", "@other_bot"])
        if rng.random() < 0.6:
            args = [self.junk_value() if rng.random() < 0.3 else self.junk_text()]
            if rng.random() < 0.3:
                args.append(str(rng.randrange(-1000, 1000)))
            if name == "start" and rng.random() < 0.3 and self.card_payloads:
                # Someone's card link: a cashier opens that customer, a customer is refused.
                args = [rng.choice(self.card_payloads)]
            text += " " + " ".join(args)
        return text[:4096]

    # ------------------------------------------------------------------ one fuzz update

    def pick_actor(self) -> int:
        rng = self.rng
        roll = rng.random()
        if roll < 0.12:
            return OWNER_ID
        if roll < 0.4:
            return rng.choice(FUZZ_CASHIERS)
        if roll < 0.43:
            self.next_new_user += 1
            return self.next_new_user - 1
        if roll < 0.45:
            return rng.choice((*LEGIT_CUSTOMERS, *LEGIT_CASHIERS))
        return rng.choice([*JOINED_CUSTOMERS, *range(SEEDED_FIRST, SEEDED_FIRST + SEEDED_COUNT)])

    def count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def fuzz_update(self) -> None:
        rng = self.rng
        actor = self.pick_actor()
        user = self.user(actor)
        legit = actor in LEGIT_CUSTOMERS or actor in LEGIT_CASHIERS
        own = [m for m in self.fake.messages(actor)[-12:] if not m.deleted]
        roll = rng.random()
        if legit:
            # Legitimate actors only ever replay old buttons: their flows must stay intact.
            done = [m for m in own if m.edits and not m.buttons()]
            data = self.finished
            if done and data:
                self.count("legit replay")
                self.fake.press(user, rng.choice(done), rng.choice(data))
                return
            roll = 0.0
        if roll < 0.2:
            self.count("text")
            self.fake.send_message(user, self.junk_text())
        elif roll < 0.35:
            self.count("command")
            self.fake.send_message(user, self.command(actor))
        elif roll < 0.45:
            self.count("card or phone typed")
            number = rng.choice(list(self.card_numbers.values()))
            if actor in FUZZ_CASHIERS and rng.random() < 0.3:
                number = self.card_numbers[actor]  # their own card, as a customer
            self.fake.send_message(user, rng.choice([number, f"{number[:4]} {number[4:]}"]))
        elif roll < 0.62 and own:
            self.press_own(user, own)
        elif roll < 0.72 and own:
            self.count("replayed or forged callback")
            data = rng.choice(self.seen_data) if self.seen_data and rng.random() < 0.4 else None
            if data is None and rng.random() < 0.4:
                data = self.cross_forged(own)
            self.press(user, rng.choice(own), data or self.forged_data())
        elif roll < 0.77:
            self.photo(user)
        elif roll < 0.81:
            self.count("contact")
            other = rng.choice([actor, actor + 1, 999_999, None])
            phone = rng.choice(
                ["+380671234567", "380501112233", "+38970123456", "123", "+66812345678"]
            )
            self.fake.send_contact(user, phone, other)
        elif roll < 0.85:
            self.edited(user)
        elif roll < 0.9:
            self.elsewhere(user)
        elif roll < 0.94:
            self.count("unknown update type")
            self.fake.inject(*self.unhandled_update(user))
        elif roll < 0.97 and self.drive.deliveries:
            self.count("redelivered update")
            old = rng.choice(self.drive.deliveries[-50:]).update
            self.fake._updates.append(old)
        else:
            self.count("document")
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
            self.fake.send_document(
                user, data, rng.choice(["a.pdf", "card.png", "x"]), "application/octet-stream"
            )

    def unhandled_update(self, user: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """A well-formed update of a type the bot has no handler for, or of a type newer
        than the library knows."""
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        group = {"id": GROUP_ID, "type": "supergroup", "title": "Shop fans"}
        when = 1_700_000_000
        member = {"status": "member", "user": user}
        left = {"status": "kicked", "user": user, "until_date": 0}
        message = {"message_id": 7, "from": user, "chat": chat, "date": when, "text": "/start"}
        choices: list[tuple[str, dict[str, Any]]] = [
            (
                "my_chat_member",
                {
                    "chat": chat,
                    "from": user,
                    "date": when,
                    "old_chat_member": member,
                    "new_chat_member": left,
                },
            ),
            (
                "chat_member",
                {
                    "chat": group,
                    "from": user,
                    "date": when,
                    "old_chat_member": left,
                    "new_chat_member": member,
                },
            ),
            ("inline_query", {"id": "q1", "from": user, "query": self.junk_text(), "offset": ""}),
            ("chosen_inline_result", {"result_id": "r", "from": user, "query": "x"}),
            (
                "message_reaction",
                {
                    "chat": chat,
                    "message_id": 1,
                    "user": user,
                    "date": when,
                    "old_reaction": [],
                    "new_reaction": [{"type": "emoji", "emoji": "👍"}],
                },
            ),
            (
                "chat_join_request",
                {"chat": group, "from": user, "user_chat_id": user["id"], "date": when},
            ),
            ("business_message", {**message, "business_connection_id": "b1"}),
            (
                "edited_business_message",
                {**message, "business_connection_id": "b1", "edit_date": when},
            ),
            ("some_update_from_the_future", {"id": 1, "from": user, "anything": [1, 2]}),
        ]
        return self.rng.choice(choices)

    def press_own(self, user: dict[str, Any], own: list[SentMessage]) -> None:
        with_buttons = [m for m in own if buttons_data([m])]
        if not with_buttons:
            self.count("text")
            self.fake.send_message(user, self.junk_text())
            return
        message = self.rng.choice(with_buttons)
        self.count("own button")
        self.press(user, message, self.rng.choice(buttons_data([message])))

    def press(self, user: dict[str, Any], message: SentMessage, data: str) -> None:
        self.fake.press(user, message, spare_legitimate_cashiers(data))

    def photo(self, user: dict[str, Any]) -> None:
        rng = self.rng
        if rng.random() < 0.15:
            self.count("photo (not an image)")
            self.fake.send_unreadable_photo(user, bytes(rng.randrange(256) for _ in range(64)))
            return
        self.count("photo")
        self.fake.send_photo(
            user, rng.choice(self.images), rng.choice([None, "", self.junk_text()])
        )

    def edited(self, user: dict[str, Any]) -> None:
        earlier = self.fake.user_message(user["id"], self.rng.randrange(1000))
        if earlier is None:
            self.fake.send_message(user, self.junk_text())
            return
        self.count("edited message")
        edit = {k: earlier[k] for k in ("message_id", "from", "chat", "date")}
        edit["text"] = self.rng.choice([self.junk_text(), "/forget", "/start", "12.50"])
        edit["edit_date"] = edit["date"] + 5
        self.fake.inject("edited_message", edit)

    def elsewhere(self, user: dict[str, Any]) -> None:
        """A group, a supergroup or a channel the bot was added to."""
        rng = self.rng
        chat_type = rng.choice(["group", "supergroup", "channel"])
        chat = {
            "id": CHANNEL_ID if chat_type == "channel" else GROUP_ID,
            "type": chat_type,
            "title": "Shop fans",
        }
        message: dict[str, Any] = {
            "message_id": rng.randrange(1, 10**6),
            "chat": chat,
            "date": 1_700_000_000,
        }
        text = rng.choice([self.command(user["id"]), self.junk_text(), bad_card_number(rng)])
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
            ]
        if chat_type == "channel":
            self.count("channel post")
            self.fake.inject(rng.choice(["channel_post", "edited_channel_post"]), message)
            return
        message["from"] = user
        if rng.random() < 0.5:
            self.count("group message")
            self.fake.inject("message", message)
        else:
            self.count("group callback")
            data = rng.choice(self.seen_data) if self.seen_data else self.forged_data()
            self.fake.press_anywhere(
                user, {**message, "from": self.fake.bot_user}, spare_legitimate_cashiers(data)
            )

    def harvest(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            for call in delivery.calls:
                self.seen_data += buttons_in(call.params.get("reply_markup"))
        del self.seen_data[:-400]


def spare_legitimate_cashiers(data: str) -> str:
    """The owner may remove any cashier, but the two the legitimate flows run on stay."""
    with contextlib.suppress(ValueError, TypeError):
        if StaffCb.unpack(data).who in LEGIT_CASHIERS:
            return "staff:revoke:1"
    return data
