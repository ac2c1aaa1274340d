"""Every state-changing action, once: who may call it, what it takes, what it does.

The JSON API (``POST /api/{area}/{command}``), the pages (htmx posts to the same URLs) and
WebSocket ``action`` messages all dispatch through :func:`perform`, so the role checks and
input validation are the same whichever way a request arrives, and the OpenAPI document
and the authorization tests enumerate this registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webinar.domain.clock import ClockError
from webinar.services import Services
from webinar.services.access import Participant
from webinar.services.agenda import status_data


class ActionError(Exception):
    """A refused action: HTTP status, a plain sentence, and optionally the field."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message}
        if self.field:
            error["field"] = self.field
        return {"error": error}


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_id: str = Field(min_length=1, max_length=100, description="The agenda item's id.")


class OptionalItemParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_id: str | None = Field(
        default=None, max_length=100, description="An upcoming item; default the current one."
    )


class ExtendParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes: int = Field(ge=1, le=240, description="Minutes to add to the current item.")


Handler = Callable[[Services, Participant, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    roles: frozenset[str]
    params: type[BaseModel]
    handler: Handler
    summary: str


HOST = frozenset({"host"})
REGISTRY: dict[str, Action] = {}


def _agenda_action(command: str, params: type[BaseModel], summary: str) -> None:
    async def handler(services: Services, actor: Participant, args: BaseModel) -> dict[str, Any]:
        kwargs = {k: v for k, v in args.model_dump().items() if v is not None}
        status = await services.clock_service.command(command, actor.role, **kwargs)
        return {"agenda": status_data(status)}

    REGISTRY[f"agenda.{command}"] = Action(f"agenda.{command}", HOST, params, handler, summary)


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


def parse_params(action: Action, raw: Mapping[str, Any]) -> BaseModel:
    """Validate raw input; ``ActionError(400)`` with a plain sentence when it is wrong."""
    try:
        return action.params.model_validate(dict(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        message = _plain(first)
        raise ActionError(400, message, field) from None


def _plain(error: Mapping[str, Any]) -> str:
    field = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"'{field}' is not something this action takes."
    if kind == "missing":
        return f"Please give '{field}'."
    ctx = error.get("ctx") or {}
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"'{field}' must be between the allowed limits ({error['msg'].lower()})."
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"'{field}' must be a whole number."
    if kind in ("string_too_long", "string_too_short"):
        return f"'{field}' has the wrong length ({error['msg'].lower()})."
    if ctx:
        return f"'{field}': {error['msg']}."
    return f"'{field}' is not valid: {error['msg'].lower()}."


async def perform(
    services: Services, actor: Participant | None, name: str, raw: Mapping[str, Any]
) -> dict[str, Any]:
    """Check role, validate, run. ``ActionError`` with 400/401/403/404/409 on refusal."""
    action = REGISTRY.get(name)
    if action is None:
        raise ActionError(404, f"There is no action called '{name}'.")
    if actor is None:
        raise ActionError(401, "Please join the event first.")
    if actor.role not in action.roles:
        raise ActionError(403, "You are not allowed to do that.")
    args = parse_params(action, raw)
    try:
        return await action.handler(services, actor, args)
    except ClockError as exc:
        raise ActionError(409, str(exc)) from None
