"""Services: load -> domain -> save -> publish. The one place that joins the layers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from webinar.domain.agenda import Agenda
from webinar.domain.breakout import AWAY_AFTER
from webinar.realtime.hub import Encoder, Hub
from webinar.services.access import AccessLimits, AccessService, new_secrets
from webinar.services.agenda import AgendaService
from webinar.services.breakouts import BreakoutService
from webinar.services.live import Clock, Live, utcnow
from webinar.services.polls import PollService
from webinar.services.qa import QAService
from webinar.services.survey import SurveyService
from webinar.storage import repo
from webinar.storage.db import Database, migrate_sync

RING_SIZE = 4096


@dataclass
class Services:
    agenda: Agenda
    live: Live
    access: AccessService
    clock_service: AgendaService
    qa: QAService
    breakouts: BreakoutService
    survey: SurveyService
    polls: PollService

    @property
    def hub(self) -> Hub:
        return self.live.hub

    @property
    def db(self) -> Database:
        return self.live.db


def prepare_database(db_path: str) -> dict[str, str]:
    """Create or migrate the database and generate its secrets once; return them.

    Synchronous: the CLI calls it before the server starts, to print the links.
    """
    migrate_sync(db_path)
    return repo.ensure_meta_sync(db_path, new_secrets())


async def open_services(
    agenda: Agenda,
    db_path: str,
    encode: Encoder,
    clock: Clock = utcnow,
    limits: AccessLimits | None = None,
    away_after: timedelta = AWAY_AFTER,
) -> Services:
    """Open the database, restore state and the replay ring; start nothing yet.

    ``limits``: how fast one address may join and how wrong codes are slowed;
    ``away_after``: someone with no screen for longer is not dealt into a breakout group.
    """
    db = Database(db_path)
    await db.open()
    live = Live(db, Hub(encode, ring_size=RING_SIZE), clock)
    await live.load_ring(RING_SIZE)
    meta = await repo.get_meta(db)
    agenda_service = AgendaService(agenda, live)
    await agenda_service.load()
    qa_service = QAService(agenda, live, agenda_service)
    await qa_service.load()
    qa_service.on_owner.append(lambda owner, qid: live.hub.add_audience_for(owner, f"q:{qid}"))
    breakouts = BreakoutService(agenda, live, agenda_service, live.hub.owners, away_after)
    await breakouts.load()
    survey = SurveyService(agenda, live, agenda_service, qa_service, breakouts)
    await survey.load()
    polls = PollService(agenda, live, agenda_service)
    await polls.load()
    access = AccessService(live, meta, limits)
    await access.load()
    live.reloaders += [
        agenda_service.load,
        qa_service.load,
        breakouts.load,
        survey.load,
        polls.load,
        access.load,
    ]
    return Services(agenda, live, access, agenda_service, qa_service, breakouts, survey, polls)


async def start(services: Services) -> None:
    services.clock_service.start_ticker()
    services.qa.start()
    services.breakouts.start()
    services.polls.start()


async def stop(services: Services) -> None:
    await services.polls.stop()
    await services.breakouts.stop()
    await services.qa.stop()
    await services.clock_service.stop_ticker()
    await services.live.flush()
    await services.db.close()
