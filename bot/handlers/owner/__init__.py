"""The owner's tools: the team, backups, referrals, promotions, offers, figures."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter

from bot.handlers.owner import (
    backup,
    branding,
    imports,
    offers,
    poster,
    program_editor,
    program_history,
    promotions,
    referrals,
    staff,
    stats,
)
from bot.handlers.owner.branding import LogoSteps
from bot.handlers.owner.offers import OfferCompose
from bot.handlers.owner.poster import PosterSteps
from bot.handlers.owner.program_editor import ProgramEdit
from bot.handlers.owner.promotions import Compose
from bot.keyboards.branding import LogoCb, PaletteCb
from bot.keyboards.editor import (
    AnnounceCb,
    DraftCb,
    EditChoiceCb,
    EditGroupCb,
    EditItemCb,
    EditKeyCb,
    HistoryCb,
    RevertCb,
)
from bot.keyboards.imports import ImportCb
from bot.keyboards.owner import (
    AudienceCb,
    BroadcastCb,
    OfferAudienceCb,
    OfferKindCb,
    OfferResultsCb,
    OfferSendCb,
    ResultsCb,
    SendCb,
    StaffCb,
    StaffInviteCb,
    StatsCb,
)
from bot.keyboards.poster import PosterLanguageCb, PosterLayoutCb, PosterSourceCb
from bot.telegram.filters import OnLoop
from bot.telegram.roles import HasRole, Role


def build_routers() -> tuple[Router, ...]:
    """The owner's routers, in the order updates try them. `install` puts them behind one
    role check; each handler checks the role again."""
    return (
        build_team_router(),
        build_promotions_router(),
        build_offers_router(),
        build_stats_router(),
        build_branding_router(),
        build_imports_router(),
        build_program_router(),
    )


def build_team_router() -> Router:
    router = Router(name="owner")
    owner_only = HasRole(Role.OWNER)
    router.message.register(staff.staff, Command("staff"), owner_only)
    router.message.register(backup.backup, Command("backup"), owner_only)
    router.callback_query.register(staff.revoke_invite, StaffInviteCb.filter(), owner_only)
    router.message.register(referrals.referrals, Command("referrals"), owner_only)
    router.callback_query.register(staff.staff_action, StaffCb.filter(), owner_only)
    return router


def build_promotions_router() -> Router:
    router = Router(name="promotions")
    owner_only = HasRole(Role.OWNER)
    message, callback = router.message, router.callback_query
    message.register(promotions.broadcast, Command("broadcast"), owner_only)
    message.register(promotions.cancel, Command("cancel"), owner_only, StateFilter(Compose))
    message.register(
        promotions.composed, StateFilter(Compose.text), owner_only, OnLoop(F.text | F.photo)
    )
    message.register(
        promotions.button_given, StateFilter(Compose.button), owner_only, OnLoop(F.text)
    )
    callback.register(promotions.audience_chosen, AudienceCb.filter(), owner_only)
    callback.register(promotions.send_choice, SendCb.filter(), owner_only)
    message.register(promotions.scheduled, StateFilter(Compose.when), owner_only, OnLoop(F.text))
    message.register(promotions.listing, Command("broadcasts"), owner_only)
    callback.register(promotions.results, ResultsCb.filter(), owner_only)
    callback.register(promotions.cancel_broadcast, BroadcastCb.filter(), owner_only)
    return router


def build_offers_router() -> Router:
    router = Router(name="offers")
    owner_only = HasRole(Role.OWNER)
    message, callback = router.message, router.callback_query
    message.register(offers.start, Command("offer"), owner_only)
    message.register(offers.cancel, Command("cancel"), owner_only, StateFilter(OfferCompose))
    message.register(offers.titled, StateFilter(OfferCompose.title), owner_only, OnLoop(F.text))
    callback.register(offers.kind_chosen, OfferKindCb.filter(), owner_only)
    message.register(offers.valued, StateFilter(OfferCompose.value), owner_only, OnLoop(F.text))
    message.register(offers.termed, StateFilter(OfferCompose.terms), owner_only, OnLoop(F.text))
    callback.register(offers.audience_chosen, OfferAudienceCb.filter(), owner_only)
    callback.register(offers.send, OfferSendCb.filter(), owner_only)
    message.register(offers.listing, Command("offer_results"), owner_only)
    callback.register(offers.show_results, OfferResultsCb.filter(), owner_only)
    return router


def build_stats_router() -> Router:
    router = Router(name="insights")
    owner_only = HasRole(Role.OWNER)
    router.message.register(stats.stats, Command("stats"), owner_only)
    router.callback_query.register(stats.stats_period, StatsCb.filter(), owner_only)
    router.message.register(stats.export, Command("export"), owner_only)
    router.message.register(stats.adjust, Command("adjust"), owner_only)
    return router


def build_branding_router() -> Router:
    """Posters for the counter, the logo and the card colours."""
    router = Router(name="branding")
    owner_only = HasRole(Role.OWNER)
    message, callback = router.message, router.callback_query
    message.register(poster.poster, Command("poster"), owner_only)
    message.register(poster.cancel, Command("cancel"), owner_only, StateFilter(PosterSteps))
    message.register(
        poster.source_typed, StateFilter(PosterSteps.source), owner_only, OnLoop(F.text)
    )
    callback.register(poster.source_chosen, PosterSourceCb.filter(), owner_only)
    callback.register(poster.language_chosen, PosterLanguageCb.filter(), owner_only)
    callback.register(poster.layout_chosen, PosterLayoutCb.filter(), owner_only)
    message.register(branding.logo, Command("logo"), owner_only)
    message.register(branding.cancel, Command("cancel"), owner_only, StateFilter(LogoSteps))
    message.register(
        branding.logo_sent,
        StateFilter(LogoSteps.picture),
        owner_only,
        OnLoop(F.photo | F.document),
    )
    message.register(branding.logo_text, StateFilter(LogoSteps.picture), owner_only)
    callback.register(branding.logo_action, LogoCb.filter(), owner_only)
    message.register(branding.colors, Command("colors"), owner_only)
    callback.register(branding.palette_chosen, PaletteCb.filter(), owner_only)
    return router


def build_imports_router() -> Router:
    router = Router(name="imports")
    owner_only = HasRole(Role.OWNER)
    router.message.register(imports.start, Command("import"), owner_only)
    # Whatever step the owner is in (at the desk, say), a document is a file to import.
    router.message.register(imports.check, owner_only, OnLoop(F.document))
    router.callback_query.register(imports.decided, ImportCb.filter(), owner_only)
    return router


def build_program_router() -> Router:
    router = Router(name="program_editor")
    owner_only = HasRole(Role.OWNER)
    message, callback = router.message, router.callback_query
    message.register(program_editor.show_program, Command("program"), owner_only)
    message.register(program_editor.set_command, Command("set"), owner_only)
    message.register(program_editor.cancel, Command("cancel"), owner_only, StateFilter(ProgramEdit))
    message.register(
        program_editor.value_typed,
        StateFilter(ProgramEdit.value),
        owner_only,
        OnLoop(F.text & ~F.text.startswith("/")),
    )
    callback.register(program_editor.group_chosen, EditGroupCb.filter(), owner_only)
    callback.register(program_editor.key_chosen, EditKeyCb.filter(), owner_only)
    callback.register(program_editor.choice_chosen, EditChoiceCb.filter(), owner_only)
    callback.register(program_editor.item_chosen, EditItemCb.filter(), owner_only)
    callback.register(program_editor.draft_decided, DraftCb.filter(), owner_only)
    callback.register(program_history.history_pressed, HistoryCb.filter(), owner_only)
    callback.register(program_history.revert_pressed, RevertCb.filter(), owner_only)
    callback.register(program_history.announce_pressed, AnnounceCb.filter(), owner_only)
    return router
