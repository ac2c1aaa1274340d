"""Who is who, and who hears what: the roles and the live event audiences, named once.

Roles: an *attendee* joined with the event code; a *host* runs the event (agenda, Q&A
moderation, breakouts); an *organiser* owns it (links, survey, results, report). Hosts
and organisers together are *staff*: they see what attendees must not (the moderation
queue, the breakout grid, every group's responses, exports).

Audiences: every event is published to one audience, and a screen receives the events of
the audiences it holds. Every audience string is built here and nowhere else, so a
prefix (one event among many in a database) can be added in one place.
"""

from __future__ import annotations

from typing import Final, Literal

Role = Literal["attendee", "host", "organiser"]
ATTENDEE: Final = "attendee"
HOST: Final = "host"
ORGANISER: Final = "organiser"
ROLES: Final[tuple[Role, ...]] = (ATTENDEE, HOST, ORGANISER)
#: The roles that are staff: hosts and organisers.
STAFF_ROLES: Final[frozenset[str]] = frozenset({HOST, ORGANISER})


def is_staff(role: str) -> bool:
    """Whether ``role`` is a host's or an organiser's."""
    return role in STAFF_ROLES


#: Every screen.
EVERYONE: Final = "all"
#: The screens of hosts and organisers.
STAFF: Final = "staff"

#: The kind of an audience, as the event reference names it (see :func:`kind`).
Kind = Literal["all", "staff", "participant", "question", "group"]
_PREFIXES: Final[dict[str, Kind]] = {"p": "participant", "q": "question", "g": "group"}


def participant(participant_id: str) -> str:
    """One participant's screens: ``p:<participant id>``."""
    return f"p:{participant_id}"


def question_owner(question_id: int) -> str:
    """The screens of one question's author: ``q:<question id>`` (for an anonymous
    question the link lives only in the server's memory, never in the database)."""
    return f"q:{question_id}"


def question_of(audience: str) -> int | None:
    """The question id of a :func:`question_owner` audience; None for any other audience."""
    prefix, colon, rest = audience.partition(":")
    if prefix != "q" or not colon or not (rest.isascii() and rest.isdigit()):
        return None
    return int(rest)


def group(round_id: int, number: int) -> str:
    """The members of one breakout group: ``g:<round>:<group>``."""
    return f"g:{round_id}:{number}"


def of(participant_id: str, role: str) -> set[str]:
    """The audiences every screen of this participant holds from the start (breakout
    groups and owned questions are added as they come)."""
    out = {EVERYONE, participant(participant_id)}
    if is_staff(role):
        out.add(STAFF)
    return out


def kind(audience: str) -> Kind:
    """What an audience is: ``"all"``, ``"staff"``, ``"participant"``, ``"question"`` or
    ``"group"``; ``ValueError`` for a string no function here builds."""
    if audience == EVERYONE:
        return "all"
    if audience == STAFF:
        return "staff"
    prefix, colon, _ = audience.partition(":")
    if colon and prefix in _PREFIXES:
        return _PREFIXES[prefix]
    raise ValueError(f"{audience!r} is not an audience")
