"""Organiser commands for the event itself: replacing its code and secret links."""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictBool

from webinar.domain import audiences
from webinar.services.access import AccessError
from webinar.web.actions.core import ActionError, Context, Strict, register

ORGANISER = (audiences.ORGANISER,)


class RotateParams(Strict):
    code: StrictBool = Field(default=False, description="Replace the event code.")
    host: StrictBool = Field(default=False, description="Replace the host link.")
    organiser: StrictBool = Field(default=False, description="Replace the organiser link.")
    end_sessions: StrictBool = Field(
        default=False,
        description="Also sign out everyone who entered with what is replaced (not you).",
    )


@register("event.rotate", ORGANISER, RotateParams, "Replace the event code or a secret link.")
async def rotate(ctx: Context, args: RotateParams) -> dict[str, Any]:
    which = [name for name in ("code", "host", "organiser") if getattr(args, name)]
    own = ctx.session.get("sid")
    try:
        ended = await ctx.services.access.rotate(
            which, end_sessions=args.end_sessions, keep=own if isinstance(own, str) else None
        )
    except AccessError as exc:
        raise ActionError(400, str(exc), exc.field) from None
    return {"replaced": which, "signed_out": len(ended), "secrets": ctx.services.access.secrets()}
