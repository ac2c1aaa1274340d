"""Host commands for the agenda clock."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from webinar.domain import audiences
from webinar.services.agenda import status_data
from webinar.web.actions.core import Context, NoParams, Strict, register

HOST = (audiences.HOST,)


class ItemParams(Strict):
    item_id: str = Field(min_length=1, max_length=100, description="The agenda item's id.")


class OptionalItemParams(Strict):
    item_id: str | None = Field(
        default=None, max_length=100, description="An upcoming item; default the current one."
    )


class ExtendParams(Strict):
    minutes: int = Field(ge=1, le=240, description="Minutes to add to the current item.")


def _agenda_action(command: str, params: type[BaseModel], summary: str) -> None:
    @register(f"agenda.{command}", HOST, params, summary)
    async def handler(ctx: Context, args: BaseModel) -> dict[str, Any]:
        kwargs = {k: v for k, v in args.model_dump().items() if v is not None}
        status = await ctx.services.agenda_service.command(command, ctx.actor.role, **kwargs)
        return {"agenda": status_data(status)}


_agenda_action("start", NoParams, "Start the event with its first item.")
_agenda_action("next", NoParams, "End the current item now and start the next.")
_agenda_action("back", NoParams, "Go back to the previous item, restarting it now.")
_agenda_action("jump", ItemParams, "Start the given item now.")
_agenda_action("skip", OptionalItemParams, "Skip the current item, or mark an upcoming one.")
_agenda_action("unskip", ItemParams, "Restore an upcoming item that was marked to skip.")
_agenda_action("extend", ExtendParams, "Give the current item more minutes.")
_agenda_action("pause", NoParams, "Pause the countdown of the current item.")
_agenda_action("resume", NoParams, "Resume the countdown after a pause.")
_agenda_action("hold", NoParams, "Keep the current item running past its end.")
_agenda_action("release", NoParams, "Let a held item advance when its time is up.")
_agenda_action("next_slide", NoParams, "Show the current item's next slide on every screen.")
_agenda_action(
    "previous_slide", NoParams, "Show the current item's previous slide on every screen."
)
