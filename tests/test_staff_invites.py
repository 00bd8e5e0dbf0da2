"""The owner sees the cashier invite links still open in /staff and can revoke each."""

from __future__ import annotations

from bot.app import Application
from tests.conftest import OWNER_ID
from tests.fakeapi import FakeTelegram, SentMessage
from tests.helpers import join


async def make_invite(fake: FakeTelegram, owner: dict) -> str:
    fake.send_message(owner, "/staff")
    overview = await fake.next_message(OWNER_ID)
    fake.press(owner, overview, overview.callback("Invite"))
    return (await fake.next_message(OWNER_ID)).content.split()[-1].split("start=")[1]


async def staff_overview(fake: FakeTelegram, owner: dict) -> SentMessage:
    fake.send_message(owner, "/staff")
    return await fake.next_message(OWNER_ID)


async def test_open_invites_are_listed_and_revoked(app: Application, fake: FakeTelegram) -> None:
    owner = fake.user(OWNER_ID, "Olga")
    first, second = await make_invite(fake, owner), await make_invite(fake, owner)
    overview = await staff_overview(fake, owner)
    assert "not used yet" in overview.content
    assert f"…{first[-4:]}" in overview.content and f"…{second[-4:]}" in overview.content
    assert first not in overview.content  # the list names links without giving them away

    data = overview.callback(f"Revoke link …{first[-4:]}")
    answer = fake.press(owner, overview, data)
    await fake.wait_for(lambda: answer in fake.callback_answers)
    await fake.wait_for(lambda: f"…{first[-4:]}" not in overview.content)  # edited in place
    assert f"…{second[-4:]}" in overview.content
    again = fake.press(owner, overview, data)  # a replayed button changes nothing
    await fake.wait_for(lambda: again in fake.callback_answers)
    assert "already used or has expired" in fake.callback_answers[again]["text"]

    mallory = fake.user(5402, "Mallory")  # not an owner: a forged press revokes nothing
    card = await join(fake, mallory)
    forged = fake.press(mallory, card, overview.callback(f"Revoke link …{second[-4:]}"))
    await fake.wait_for(lambda: forged in fake.callback_answers)
    assert "no longer valid" in fake.callback_answers[forged]["text"]

    late = fake.user(5401, "Late")
    fake.send_message(late, f"/start {first}")
    assert "expired" in (await fake.next_message(5401)).content
    assert await app.shop.storage.staff_member(5401) is None
    carl = fake.user(5403, "Carl")
    fake.send_message(carl, f"/start {second}")
    assert "cashier" in (await fake.next_message(5403)).content
    await fake.next_message(OWNER_ID)  # "Carl joined"
    overview = await staff_overview(fake, owner)
    assert "Carl" in overview.content and "not used yet" not in overview.content


async def test_revoking_from_a_card_photo_sends_the_list_anew(
    app: Application, fake: FakeTelegram
) -> None:
    # A press can arrive on any message the bot sent, the card photo too: a photo has no
    # text to edit, so the refreshed list comes as a new message.
    owner = fake.user(OWNER_ID, "Olga")
    card = await join(fake, owner)
    first, second = await make_invite(fake, owner), await make_invite(fake, owner)
    overview = await staff_overview(fake, owner)
    answer = fake.press(owner, card, overview.callback(f"Revoke link …{first[-4:]}"))
    await fake.wait_for(lambda: answer in fake.callback_answers)
    listing = await fake.next_message(OWNER_ID)
    assert f"…{second[-4:]}" in listing.content and f"…{first[-4:]}" not in listing.content
