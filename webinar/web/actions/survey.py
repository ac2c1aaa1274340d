"""Survey actions: attendees save (partially or finally); hosts open or close it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from webinar.domain import audiences
from webinar.web.actions.core import Context, Strict, register

SESSION_KEY = "survey"


class SaveParams(BaseModel):
    """The answers come as extra fields named by each question's code."""

    model_config = ConfigDict(extra="allow")
    final: bool = Field(default=False, description="Submit: required answers must be there.")
    key: str | None = Field(
        default=None,
        description=(
            "A random key (16 to 100 characters) the client makes for its response and sends"
            " with every save, so a save retried after a lost reply continues the same"
            " response. Without it, the session's key is used (or one is made)."
        ),
    )


class StateParams(Strict):
    state: Literal["auto", "open", "closed"]


@register(
    "survey.save", (audiences.ATTENDEE,), SaveParams, "Save survey answers (partial or final)."
)
async def save(ctx: Context, args: SaveParams) -> dict[str, Any]:
    survey = ctx.services.survey
    raw = dict(args.model_extra or {})
    asked = await survey.asked_question(ctx.actor, ctx.own_keys)
    stored = ctx.session.get(SESSION_KEY)
    used, row = await survey.save(
        ctx.actor,
        args.key,
        raw,
        final=args.final,
        asked_question=asked,
        session_key=stored if isinstance(stored, str) else None,
    )
    ctx.session_updates[SESSION_KEY] = used
    ctx.announce("webinar:survey-saved", {"submitted": row.submitted})
    return {"answers": row.answers, "submitted": row.submitted}


@register("survey.state", audiences.STAFF_ROLES, StateParams, "Open or close the survey.")
async def state(ctx: Context, args: StateParams) -> dict[str, Any]:
    return {"survey": await ctx.services.survey.set_override(args.state)}
