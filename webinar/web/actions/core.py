"""The action registry: declaration, input validation with plain messages, dispatch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from webinar.domain.breakout import BreakoutError
from webinar.domain.clock import ClockError
from webinar.domain.polls import PollError
from webinar.domain.qa import QAError
from webinar.domain.survey import SurveyError
from webinar.services import Services
from webinar.services.access import AccessError, Participant
from webinar.storage.postgres import Unreachable

QA_STATUS = {"invalid": 400, "conflict": 409, "forbidden": 403, "not_found": 404}


#: Said (503) when the database does not answer (PostgreSQL restarting, or away).
DATABASE_AWAY = (
    "The event's database is not answering at the moment, so this may not have been saved."
    " Please try again in a few seconds."
)


class ActionError(Exception):
    """A refused action: HTTP status, a plain sentence, and optionally the field."""

    def __init__(
        self,
        status: int,
        message: str,
        field: str | None = None,
        errors: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        #: Every field in error as (field, sentence), when there are several.
        self.errors = tuple(errors)

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message}
        if self.field:
            error["field"] = self.field
        if len(self.errors) > 1:
            error["errors"] = [{"field": f, "message": m} for f, m in self.errors]
        return {"error": error}


class Strict(BaseModel):
    """The base of every action's parameters: a field the action does not take is refused."""

    model_config = ConfigDict(extra="forbid")


class NoParams(Strict):
    pass  # the parameters of an action that takes none


#: The named events an action's HTTP answer may carry in its ``HX-Trigger`` header, so
#: that the page's script (``static/live.js``) knows what answered without guessing from
#: the body: name -> (the detail it carries, when it is sent).
TRIGGERS: dict[str, tuple[str, str]] = {
    "webinar:asked": ('`{"state"}`: the question\'s state', "a question was taken (`qa/ask`)"),
    "webinar:voted": (
        '`{"question_id", "voted", "votes"}`',
        "a vote was set or withdrawn (`qa/vote`)",
    ),
    "webinar:survey-saved": (
        '`{"submitted"}`: whether the response now counts as submitted',
        "survey answers were saved (`survey/save`)",
    ),
    "webinar:preassigned": (
        '`{"stored", "not_joined_yet"}`: how many rows were stored, how many of the people '
        "named have not joined yet",
        "a pre-assignment file was stored (`POST /api/breakout/preassign`)",
    ),
}


@dataclass
class Context:
    """Who acts, with what: the services, the participant, their session's own keys."""

    services: Services
    actor: Participant
    #: Submit keys of questions this browser session asked (proves anonymous authorship).
    own_keys: list[str] = field(default_factory=list)
    #: Keys to add to the session after success (HTTP only: a socket cannot set cookies).
    new_keys: list[str] = field(default_factory=list)
    #: The caller's session as it was (read-only use).
    session: Mapping[str, Any] = field(default_factory=dict)
    #: Values to store in the session after success (HTTP only).
    session_updates: dict[str, Any] = field(default_factory=dict)
    #: Named events for the page after success, sent in ``HX-Trigger`` (HTTP only).
    triggers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def announce(self, name: str, detail: dict[str, Any]) -> None:
        """Tell the page what was done: ``name`` (one of :data:`TRIGGERS`) with ``detail``."""
        if name not in TRIGGERS:
            raise ValueError(f"{name!r} is not a declared trigger")
        self.triggers[name] = detail


Handler = Callable[[Context, Any], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    roles: frozenset[str]
    params: type[BaseModel]
    handler: Handler
    summary: str


REGISTRY: dict[str, Action] = {}


def register(
    name: str, roles: Iterable[str], params: type[BaseModel], summary: str
) -> Callable[[Handler], Handler]:
    """Decorator: add a handler to the registry under ``name`` for ``roles``."""

    def add(handler: Handler) -> Handler:
        REGISTRY[name] = Action(name, frozenset(roles), params, handler, summary)
        return handler

    return add


def parse_params(action: Action, raw: Mapping[str, Any], *, form: bool = False) -> BaseModel:
    """Validate raw input; ``ActionError(400)`` with a plain sentence when it is wrong.

    JSON must match the declared types exactly (``true``, not ``"yes"`` or ``1``; ``5``,
    not ``"5"``), as the OpenAPI document says. Form fields are all text, so ``form``
    input is converted (``"5"`` -> 5, ``"true"`` -> True).
    """
    try:
        return action.params.model_validate(dict(raw), strict=not form)
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
    services: Services,
    actor: Participant | None,
    name: str,
    raw: Mapping[str, Any],
    own_keys: list[str] | None = None,
    session: Mapping[str, Any] | None = None,
    *,
    form: bool = False,
) -> tuple[dict[str, Any], Context | None]:
    """Check role, validate, run; return the result and the context (for session updates).

    ``ActionError`` with 400/401/403/404/409 on refusal; nothing is changed then.
    """
    action = REGISTRY.get(name)
    if action is None:
        raise ActionError(404, f"There is no action called '{name}'.")
    if actor is None:
        raise ActionError(401, "Please join the event first.")
    if actor.role not in action.roles:
        raise ActionError(403, "You are not allowed to do that.")
    args = parse_params(action, raw, form=form)
    context = Context(services, actor, list(own_keys or []), session=dict(session or {}))
    try:
        return await action.handler(context, args), context
    except ClockError as exc:
        raise ActionError(409, str(exc)) from None
    except AccessError as exc:
        raise ActionError(exc.status, str(exc), exc.field) from None
    except (QAError, BreakoutError, PollError) as exc:
        raise ActionError(QA_STATUS[exc.kind], str(exc), exc.field) from None
    except SurveyError as exc:
        status = QA_STATUS[getattr(exc, "kind", "invalid")]
        raise ActionError(status, str(exc), exc.field, exc.errors) from None
    except Unreachable:  # logged where it happened (the commit, or the reconnect)
        raise ActionError(503, DATABASE_AWAY) from None
