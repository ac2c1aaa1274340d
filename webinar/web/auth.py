"""Who is calling: the participant behind the signed session cookie."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from webinar.services import Services
from webinar.services.access import Participant


def services_of(conn: HTTPConnection) -> Services:
    services: Services = conn.app.state.services
    return services


async def current_participant(conn: HTTPConnection) -> Participant | None:
    """The participant of this request's session, or None for a visitor."""
    session_id = conn.session.get("sid")
    if not isinstance(session_id, str):
        return None
    return await services_of(conn).access.session(session_id)
