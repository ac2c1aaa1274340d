"""Removing someone from the event: off the roster, out of their group, screens closed."""

from __future__ import annotations

from datetime import datetime

from webinar.domain.breakout_round import Round
from webinar.realtime.hub import Hub
from webinar.services.access import AccessService
from webinar.services.breakouts import BreakoutService
from webinar.services.commit import Outgoing
from webinar.storage.db import Tx

#: The reason a removed person's screens show (a WebSocket close reason: short).
REMOVED = "The host removed you from the event."


async def remove_participant(
    access: AccessService, breakouts: BreakoutService, hub: Hub, participant_id: str
) -> None:
    """Remove an attendee (a bot flooding the roster, someone who should not be there).

    In one transaction: they are marked removed (kept for the record, off the roster and
    its count), every session of theirs ends, and they leave their group in a running
    breakout (and its facilitator's seat). After COMMIT their screens close for good with
    ``REMOVED``. They could join again with the event code, as a new attendee.
    ``AccessError(404)`` if there is no such attendee.
    """

    async def work(tx: Tx, now: datetime) -> tuple[Round | None, list[Outgoing]]:
        events = await access.remove_in(tx, participant_id, now)
        rnd, more = await breakouts.remove_in(tx, participant_id, now)
        return rnd, events + more

    def apply(rnd: Round | None) -> None:
        access.removed(participant_id)
        breakouts.removed(participant_id, rnd)

    await access.committer.commit(work, apply)
    hub.end_screens(participant_id, REMOVED)
