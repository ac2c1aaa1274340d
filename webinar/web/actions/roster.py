"""Roster actions: staff remove someone from the event."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from webinar.domain import audiences
from webinar.services.roster import remove_participant
from webinar.web.actions.core import Context, Strict, register

STAFF = audiences.STAFF_ROLES


class RemoveParams(Strict):
    participant_id: str = Field(min_length=1, max_length=100, description="The attendee's id.")


@register(
    "roster.remove",
    STAFF,
    RemoveParams,
    "Remove an attendee: off the roster and out of their group, their screens closed.",
)
async def remove(ctx: Context, args: RemoveParams) -> dict[str, Any]:
    services = ctx.services
    await remove_participant(services.access, services.breakouts, services.hub, args.participant_id)
    return {"removed": args.participant_id}
