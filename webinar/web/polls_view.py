"""What the live pages show of the polls, and the session's poll key."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from webinar.services.access import Participant
from webinar.services.polls import SESSION_KEY, new_key
from webinar.web.auth import services_of


def poll_context(request: Request, participant: Participant) -> dict[str, Any]:
    """The polls as this participant may see them and their own answers.

    The session gets its poll key here if it has none, so that answers sent over the
    live socket (which cannot set a cookie) use the same key as the page's form.
    """
    key = request.session.get(SESSION_KEY)
    if not isinstance(key, str):
        key = new_key()
        request.session[SESSION_KEY] = key
    polls = services_of(request).polls
    return {"polls": polls.snapshot(participant.role), "my_poll_answers": polls.mine(key)}
