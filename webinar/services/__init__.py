"""Services: load -> domain -> save -> publish. The one place that joins the layers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from webinar.domain import audiences
from webinar.domain.accounts import SigninThrottle
from webinar.domain.agenda import Agenda
from webinar.domain.breakout import AWAY_AFTER
from webinar.realtime.hub import Encoder, Hub
from webinar.services.access import AccessLimits, AccessService, new_secrets
from webinar.services.accounts import AccountService
from webinar.services.agenda import AgendaService
from webinar.services.breakouts import BreakoutService
from webinar.services.calls import CallConfig, CallService
from webinar.services.commit import Clock, Committer
from webinar.services.polls import PollService
from webinar.services.qa import QAService
from webinar.services.survey import SurveyService
from webinar.storage import repo, webinars
from webinar.storage.db import Database, migrate_sync

RING_SIZE = 4096
#: Each screen gets at most one push of events per this many seconds: what is committed
#: meanwhile (questions, vote counts) goes out together (see ``webinar.realtime.hub``).
FOLD_SECONDS = 0.5
#: A push writes to this many screens, then lets the loop run (the writer first).
PUSH_SLICE = 256


@dataclass
class Services:
    agenda: Agenda
    committer: Committer
    access: AccessService
    agenda_service: AgendaService
    qa: QAService
    breakouts: BreakoutService
    survey: SurveyService
    calls: CallService
    accounts: AccountService
    polls: PollService

    @property
    def hub(self) -> Hub:
        return self.committer.hub

    @property
    def db(self) -> Database:
        return self.committer.db


#: The event's short name when none is given (and that of a database from before events
#: were first-class).
DEFAULT_SLUG = "webinar"


def prepare_database(db_path: str, slug: str = DEFAULT_SLUG) -> dict[str, str]:
    """Create or migrate the database, make sure the event ``slug`` exists and generate its
    secrets once; return them.

    Synchronous: the CLI calls it before the server starts, to print the links.
    """
    migrate_sync(db_path)
    event, _ = webinars.save_webinar_sync(db_path, slug)
    return repo.ensure_meta_sync(db_path, event.id, new_secrets())


def event_secrets(db_path: str, webinar_id: int) -> dict[str, str]:
    """An existing event's secrets, generated now if it has none yet."""
    return repo.ensure_meta_sync(db_path, webinar_id, new_secrets())


def prepare_event(
    db_path: str,
    slug: str,
    agenda_name: str,
    agenda_text: str,
    title: str,
    *,
    adopt: bool = False,
) -> tuple[webinars.Webinar, bool, dict[str, str]]:
    """Create or update the event ``slug`` from an agenda file (its name and text), with
    its secrets generated once; return it, whether it was created, and its secrets.

    ``adopt`` (``webinar serve AGENDA``): an old database's one event (no agenda stored)
    carries on under ``slug``. ``ValueError`` for a slug that cannot name an event.
    """
    migrate_sync(db_path)
    event, created = webinars.save_webinar_sync(
        db_path, slug, title=title, agenda_name=agenda_name, agenda=agenda_text, adopt=adopt
    )
    return event, created, repo.ensure_meta_sync(db_path, event.id, new_secrets())


async def open_services(
    agenda: Agenda,
    db_path: str,
    encode: Encoder,
    clock: Clock,
    limits: AccessLimits | None = None,
    away_after: timedelta = AWAY_AFTER,
    calls: CallConfig | None = None,
    *,
    webinar_id: int,
    write_lock: asyncio.Lock | None = None,
    signin_throttle: SigninThrottle | None = None,
) -> Services:
    """Open the event's handle on the database, restore state and the replay ring; start
    nothing yet.

    ``webinar_id``: the event (every read and write is scoped to it); ``write_lock``: the
    lock shared by every event's handle on this file (one writer at a time);
    ``limits``: how fast one address may join and how wrong codes are slowed;
    ``away_after``: someone with no screen for longer is not dealt into a breakout group;
    ``calls``: the server's secrets for group calls; ``signin_throttle``: the server's
    one throttle of staff sign-in guesses (shared by its events).
    """
    db = Database(db_path, webinar_id, write_lock)
    await db.open()
    try:
        return await _restore(
            db, agenda, encode, clock, limits, away_after, calls, webinar_id, signin_throttle
        )
    except BaseException:
        await db.close()  # an event that cannot be restored keeps no connection open
        raise


async def _restore(
    db: Database,
    agenda: Agenda,
    encode: Encoder,
    clock: Clock,
    limits: AccessLimits | None,
    away_after: timedelta,
    calls: CallConfig | None,
    webinar_id: int,
    signin_throttle: SigninThrottle | None,
) -> Services:
    """The event's services on its open handle, state and replay ring restored."""
    hub = Hub(encode, ring_size=RING_SIZE, fold_seconds=FOLD_SECONDS, slice_size=PUSH_SLICE)
    committer = Committer(db, hub, clock)
    await committer.load_ring(RING_SIZE)
    meta = await repo.get_meta(db)
    agenda_service = AgendaService(agenda, committer)
    await agenda_service.load()
    qa_service = QAService(agenda, committer, agenda_service)
    await qa_service.load()
    qa_service.on_owner.append(
        lambda owner, qid: committer.hub.add_audience_for(owner, audiences.question_owner(qid))
    )
    breakouts = BreakoutService(agenda, committer, agenda_service, committer.hub.owners, away_after)
    await breakouts.load()
    survey = SurveyService(agenda, committer, agenda_service, qa_service, breakouts)
    await survey.load()
    polls = PollService(agenda, committer, agenda_service)
    await polls.load()
    access = AccessService(committer, meta, limits)
    await access.load()
    committer.reloaders += [
        agenda_service.load,
        qa_service.load,
        breakouts.load,
        survey.load,
        polls.load,
        access.load,
    ]
    call_service = CallService(
        agenda,
        breakouts,
        lambda: agenda_service.status().current_ends_at,
        clock,
        calls or CallConfig(),
        meta["room_secret"].encode(),
    )
    breakouts.round_ended.append(call_service.round_ended)
    accounts = AccountService(committer, access, webinar_id, signin_throttle)
    return Services(
        agenda,
        committer,
        access,
        agenda_service,
        qa_service,
        breakouts,
        survey,
        call_service,
        accounts,
        polls,
    )


async def start(services: Services) -> None:
    services.agenda_service.start_ticker()
    services.qa.start()
    services.breakouts.start()
    services.polls.start()


async def stop(services: Services) -> None:
    await services.polls.stop()
    await services.breakouts.stop()
    await services.calls.close()
    await services.qa.stop()
    await services.agenda_service.stop_ticker()
    await services.committer.flush()
    await services.db.close()
