"""``GET /breakout/call``: into one's own group's call, or a sentence saying why not.

The group's page frames this address; it answers with a redirect to the provider's room
(with the person's token, or BigBlueButton's join URL), made for this person at this
moment. Refusals are plain sentences that name nothing about other groups, and they may be
shown inside the group's frame (this site's own pages only).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from webinar.services.calls import CallError
from webinar.web.auth import current_participant, services_of
from webinar.web.security import CSP

#: A refusal may be shown in the group's frame on this site, never framed elsewhere.
FRAMED_HERE = {
    "content-security-policy": CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'"),
    "x-frame-options": "SAMEORIGIN",
}


def refuse(message: str, status: int) -> Response:
    return PlainTextResponse(message, status_code=status, headers=FRAMED_HERE)


def _number(request: Request, name: str) -> int | None:
    value = request.query_params.get(name, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


async def call_page(request: Request) -> Response:
    participant = await current_participant(request)
    if participant is None:
        return refuse("Join the event first: group calls are for the people in each group.", 403)
    round_id, group = _number(request, "round"), _number(request, "group")
    if round_id is None or group is None:
        return refuse(
            "This address needs the breakout round and group numbers, like "
            "/breakout/call?round=1&group=2; open the call from your group's room instead.",
            400,
        )
    try:
        url = await services_of(request).calls.join_url(participant, round_id, group)
    except CallError as exc:
        return refuse(exc.message, exc.status)
    # The address holds this person's token: no referrer, no copy kept anywhere.
    return RedirectResponse(url, status_code=303, headers={"referrer-policy": "no-referrer"})
