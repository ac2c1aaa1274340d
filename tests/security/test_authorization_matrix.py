"""Who may do what: every route and every registered action, for every kind of caller.

The expected tables below are written out by hand. A route or action added to the app
without a line here fails ``test_every_route_and_action_is_classified``: nothing reaches
production unclassified.

Principals (see ``conftest.principals_of``), during a running breakout with two groups:

* ``visitor``: no session at all;
* ``attendee``: a plain member of group 1 (A), which already has a facilitator;
* ``facilitator_on_b``: the facilitator of group 1 (A) acting on group 2 (B);
* ``facilitator_on_a``: the same facilitator acting on their own group (the control case);
* ``host`` and ``organiser``: entered through their secret links.

For pages and routes the two facilitator principals are one person, called
``facilitator``. "Allowed" means: a page answers 200 (or 303 to the right place); an API
route answers anything but 401/403; an action answers anything but 401/403 (400, 404 or
409 only say that the state or the sample input does not fit, not that the caller may
not). "Refused" means 401/403, or a 303 to ``/join`` for a visitor on a page for joined
people.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from helpers import LiveServer, Person
from postgres_cluster import database
from webinar.domain.accounts import Grant
from webinar.domain.agenda_file import parse_agenda
from webinar.services import prepare_event
from webinar.services.accounts import add_user
from webinar.services.agenda_files import SEED_AGENDA
from webinar.storage.webinars import list_webinars_sync, save_webinar_sync
from webinar.web.actions import REGISTRY
from webinar.web.app import Hosted

pytestmark = pytest.mark.integration

FOREIGN_ORIGIN = "https://evil.example"
SEED_TEXT = SEED_AGENDA.read_text(encoding="utf-8")

# -- who is who --------------------------------------------------------------------------------

ROUTE_ROLES = ("visitor", "attendee", "facilitator", "host", "organiser")
ACTION_ROLES = (
    "visitor",
    "attendee",
    "facilitator_on_b",
    "facilitator_on_a",
    "host",
    "organiser",
)
EVERYONE = frozenset(ROUTE_ROLES)
JOINED = EVERYONE - {"visitor"}
STAFF = frozenset({"host", "organiser"})
HOST = frozenset({"host"})
HOME = {"attendee": "/live", "facilitator": "/live", "host": "/host", "organiser": "/organiser"}

#: Every route of the app -> the roles allowed. Keys are "METHOD path", "WS path" or
#: "MOUNT path", exactly as ``conftest.route_keys`` names the app's routes.
ROUTES: dict[str, frozenset[str]] = {
    "GET /": EVERYONE,  # a redirect to the caller's home (or /join)
    "GET /join": EVERYONE,  # the form, or a redirect home for someone who has joined
    "POST /join": EVERYONE,  # CSRF-checked; a bad name gets 400 (probed so)
    "GET /enter/{role}/{token}": EVERYONE,  # the secret token is the credential
    "POST /leave": EVERYONE,
    "GET /signin": EVERYONE,  # the form, or a redirect home for staff already signed in
    "POST /signin": EVERYONE,  # CSRF-checked; the email and password are the credential
    "GET /signin/oidc": EVERYONE,  # 404 here: no OpenID provider is set up
    "GET /signin/oidc/callback": EVERYONE,
    "POST /signout": EVERYONE,
    "GET /live": JOINED,
    "GET /host": HOST,
    "GET /projector": STAFF,
    "GET /organiser": frozenset({"organiser"}),
    "POST /organiser/rotate": frozenset({"organiser"}),  # CSRF-checked form
    "GET /feedback": STAFF,
    # Group 1's call: its members only (the seed's breakout has no call, so they get 404
    # after the membership check; tests/integration/test_calls.py joins real ones).
    "GET /breakout/call": frozenset({"attendee", "facilitator"}),
    "GET /survey": JOINED,
    "GET /results": STAFF,
    "GET /results/group": STAFF,
    "GET /report": STAFF,
    "GET /report.md": STAFF,
    "GET /healthz": EVERYONE,
    "GET /api/openapi.json": EVERYONE,
    "GET /api/session": EVERYONE,
    "GET /api/agenda": JOINED,
    "POST /api/join": EVERYONE,
    "GET /api/qa/questions": JOINED,
    "GET /api/qa/export": STAFF,
    "POST /api/breakout/preassign": STAFF,
    "GET /api/breakout/export": STAFF,
    "GET /api/survey/export": STAFF,
    "GET /api/polls/export": STAFF,
    # Per action: see ACTIONS. The route itself: a role that may call some action.
    "POST /api/{area}/{command}": JOINED,
    "WS /ws": JOINED,
    "MOUNT /static": EVERYONE,
}

#: Pages where a visitor is sent to /join: refused, politely.
JOIN_GATED = {"GET /live", "GET /survey"}

ATTENDEES = frozenset({"attendee", "facilitator_on_b", "facilitator_on_a"})
FORUM = ATTENDEES | {"host"}
A_HOST = frozenset({"host"})

#: Every registered action -> the principals allowed (see the module docstring).
ACTIONS: dict[str, frozenset[str]] = {
    **{
        f"agenda.{c}": A_HOST
        for c in (
            "start",
            "next",
            "back",
            "jump",
            "skip",
            "unskip",
            "extend",
            "pause",
            "resume",
            "hold",
            "release",
            "next_slide",
            "previous_slide",
        )
    },
    "qa.ask": FORUM,
    "qa.edit": FORUM,  # each on their own question
    "qa.vote": FORUM,
    "qa.reply": FORUM,
    **{
        f"qa.{c}": A_HOST
        for c in (
            "answer",
            "approve",
            "reject",
            "hide",
            "unhide",
            "hide_reply",
            "unhide_reply",
            "correct",
            "highlight",
            "pin",
            "answered_live",
            "merge",
            "carry_over",
            "configure",
        )
    },
    "breakout.volunteer": ATTENDEES,
    # Only a facilitator, only in their own group.
    "breakout.capture": frozenset({"facilitator_on_a"}),
    # Any member, only in their own group.
    "breakout.point": frozenset({"attendee", "facilitator_on_a"}),
    "breakout.help": ATTENDEES,
    "breakout.message": A_HOST,
    "breakout.move": A_HOST,
    "breakout.facilitator": A_HOST,
    "breakout.clear_help": A_HOST,
    "breakout.star": A_HOST,
    "breakout.correct": A_HOST,
    "feedback.present": A_HOST,
    "polls.answer": FORUM,
    **{f"polls.{c}": A_HOST for c in ("create", "open", "close", "reveal", "project", "reset")},
    "survey.save": ATTENDEES,
    "survey.state": frozenset({"host", "organiser"}),
    "event.rotate": frozenset({"organiser"}),
    "roster.remove": frozenset({"host", "organiser"}),
}

#: The role-level grant of each action as docs/api.md states it (what REGISTRY must say).
DOCUMENTED_ROLES: dict[str, frozenset[str]] = {
    # capture and point are member actions; the group and facilitator checks are their own.
    name: frozenset({"attendee" if p in ATTENDEES else p for p in allowed})
    for name, allowed in ACTIONS.items()
}


def test_every_route_and_action_is_classified(server: Any, routes_of: Any) -> None:
    keys = routes_of(server)

    assert len(keys) == len(set(keys)), "two routes share a method and path"
    assert sorted(set(keys) - set(ROUTES)) == [], "unclassified routes: add them to ROUTES"
    assert sorted(set(ROUTES) - set(keys)) == [], "ROUTES lists routes the app does not have"
    assert sorted(set(REGISTRY) - set(ACTIONS)) == [], "unclassified actions: add to ACTIONS"
    assert sorted(set(ACTIONS) - set(REGISTRY)) == [], "ACTIONS lists unregistered actions"
    for name, action in REGISTRY.items():
        assert action.roles == DOCUMENTED_ROLES[name], name


# -- routes ------------------------------------------------------------------------------------


def clone(person: Person) -> Person:
    """A second client with the same session cookie (for calls that replace the session)."""
    twin = Person(person.base)
    for cookie in person.http.cookies.jar:
        twin.http.cookies.set(cookie.name, cookie.value or "", domain=cookie.domain)
    twin.csrf = person.csrf
    return twin


async def csrf_of(person: Person) -> str:
    token: str = (await person.http.get("/api/session")).json()["csrf_token"]
    return token


Probe = Callable[[Any, str, Person], Awaitable[tuple[int, str]]]


def get(path: str) -> Probe:
    async def probe(cast: Any, role: str, person: Person) -> tuple[int, str]:
        response = await person.http.get(path)
        return response.status_code, response.headers.get("location", "")

    return probe


async def post_join_form(cast: Any, role: str, person: Person) -> tuple[int, str]:
    token = await csrf_of(person)
    form = {"csrf_token": token, "code": cast.server.secrets["join_code"], "name": ""}
    response = await person.http.post("/join", data=form)
    return response.status_code, response.headers.get("location", "")


async def enter_link(cast: Any, role: str, person: Person) -> tuple[int, str]:
    twin, other = clone(person), clone(person)
    try:
        response = await twin.http.get(f"/enter/host/{cast.server.secrets['host_token']}")
        wrong = await other.http.get("/enter/organiser/not-the-token")
        assert wrong.status_code == 403, (role, wrong.status_code)
    finally:
        await twin.close()
        await other.close()
    return response.status_code, response.headers.get("location", "")


async def leave(cast: Any, role: str, person: Person) -> tuple[int, str]:
    # Leaving ends the session on the server, so leave with a fresh session of the same
    # role rather than a copy of the one the other checks go on using.
    secrets = cast.server.secrets
    twin = Person(person.base)
    if role in ("attendee", "facilitator"):
        await twin.join(secrets["join_code"], f"Leaver {role}")
    elif role in ("host", "organiser"):
        await twin.enter(role, secrets[f"{role}_token"])
    try:
        token = await csrf_of(twin)
        response = await twin.http.post("/leave", data={"csrf_token": token})
    finally:
        await twin.close()
    return response.status_code, response.headers.get("location", "")


async def signin_form(cast: Any, role: str, person: Person) -> tuple[int, str]:
    """A wrong password (for an address with no account: nothing is throttled here)."""
    token = await csrf_of(person)
    form = {"csrf_token": token, "email": f"{role}@example.org", "password": "not a password"}
    response = await person.http.post("/signin", data=form)
    return response.status_code, response.headers.get("location", "")


async def signout(cast: Any, role: str, person: Person) -> tuple[int, str]:
    # As leave: with a fresh session of the same role, which signing out ends.
    secrets = cast.server.secrets
    twin = Person(person.base)
    if role in ("attendee", "facilitator"):
        await twin.join(secrets["join_code"], f"Signer-out {role}")
    elif role in ("host", "organiser"):
        await twin.enter(role, secrets[f"{role}_token"])
    try:
        token = await csrf_of(twin)
        response = await twin.http.post("/signout", data={"csrf_token": token})
    finally:
        await twin.close()
    return response.status_code, response.headers.get("location", "")


async def api_join(cast: Any, role: str, person: Person) -> tuple[int, str]:
    body = {"code": cast.server.secrets["join_code"], "name": ""}
    response = await person.http.post("/api/join", json=body)
    assert response.status_code == 400, response.text  # the empty name: nothing created
    return response.status_code, ""


async def preassign(cast: Any, role: str, person: Person) -> tuple[int, str]:
    token = await csrf_of(person)
    response = await person.http.post(
        "/api/breakout/preassign",
        content=b"name,group\nNobody Who Joined,1\n",
        headers={"Content-Type": "text/csv", "X-CSRF-Token": token},
    )
    return response.status_code, ""


async def rotate_form(cast: Any, role: str, person: Person) -> tuple[int, str]:
    """The organiser's replace form, with nothing ticked: it replaces nothing."""
    token = await csrf_of(person)
    response = await person.http.post("/organiser/rotate", data={"csrf_token": token})
    return response.status_code, response.headers.get("location", "")


async def any_action(cast: Any, role: str, person: Person) -> tuple[int, str]:
    """The action route: an action this role may call (a visitor: any action)."""
    name = {"organiser": "survey.state"}.get(role, "qa.vote")
    params = {"state": "auto"} if name == "survey.state" else {"question_id": 10**6}
    token = await csrf_of(person)
    area, command = name.split(".")
    response = await person.http.post(
        f"/api/{area}/{command}", json=params, headers={"X-CSRF-Token": token}
    )
    return response.status_code, ""


async def websocket(cast: Any, role: str, person: Person) -> tuple[int, str]:
    try:
        sock = await cast.connect(person)
    except InvalidStatus as refused:
        return refused.response.status_code, ""
    snapshot = await sock.wait_for(lambda m: m["type"] == "snapshot")
    assert snapshot["data"]["agenda"]["current"] == "lcspr-breakout"
    await sock.close()
    return 200, ""


PROBES: dict[str, Probe] = {
    "GET /": get("/"),
    "GET /join": get("/join"),
    "POST /join": post_join_form,
    "GET /enter/{role}/{token}": enter_link,
    "POST /leave": leave,
    "GET /signin": get("/signin"),
    "POST /signin": signin_form,
    "GET /signin/oidc": get("/signin/oidc"),
    "GET /signin/oidc/callback": get("/signin/oidc/callback?code=x&state=y"),
    "POST /signout": signout,
    "GET /live": get("/live"),
    "GET /host": get("/host"),
    "GET /projector": get("/projector"),
    "GET /organiser": get("/organiser"),
    "POST /organiser/rotate": rotate_form,
    "GET /feedback": get("/feedback?by=group"),
    "GET /breakout/call": get("/breakout/call?round=1&group=1"),
    "GET /survey": get("/survey"),
    "GET /results": get("/results"),
    "GET /results/group": get("/results/group?group=none"),
    "GET /report": get("/report"),
    "GET /report.md": get("/report.md"),
    "GET /healthz": get("/healthz"),
    "GET /api/openapi.json": get("/api/openapi.json"),
    "GET /api/session": get("/api/session"),
    "GET /api/agenda": get("/api/agenda"),
    "POST /api/join": api_join,
    "GET /api/qa/questions": get("/api/qa/questions?sort=newest"),
    "GET /api/qa/export": get("/api/qa/export?format=csv"),
    "POST /api/breakout/preassign": preassign,
    "GET /api/breakout/export": get("/api/breakout/export?format=xlsx"),
    "GET /api/survey/export": get("/api/survey/export?format=csv"),
    "GET /api/polls/export": get("/api/polls/export?format=csv"),
    "POST /api/{area}/{command}": any_action,
    "WS /ws": websocket,
    "MOUNT /static": get("/static/live.js"),
}

#: Where an allowed 303 must lead, per route and role.
REDIRECTS: dict[str, Callable[[str], str]] = {
    "GET /": lambda role: HOME.get(role, "/join"),
    "GET /join": lambda role: HOME[role],
    "GET /enter/{role}/{token}": lambda role: "/host",
    "POST /leave": lambda role: "/join",
    "GET /signin": lambda role: HOME[role],
    "POST /signout": lambda role: "/signin",
    "POST /organiser/rotate": lambda role: "/organiser#links-heading",
}
#: Statuses of an allowed call other than 200.
OTHER_OK = {
    "POST /join": {400},
    "POST /api/join": {400},
    "POST /signin": {400},
    "GET /signin/oidc": {404},
    "GET /signin/oidc/callback": {404},
    "POST /api/{area}/{command}": {404},
    "GET /results/group": {404},  # no survey responses yet: the group is "not shown"
    "GET /breakout/call": {404},  # the seed's breakout has no call
}


def verdict(key: str, role: str, status: int, location: str) -> bool:
    """True for allowed, False for refused; anything unexpected fails the test."""
    assert status < 500, (key, role, status)
    if status in (401, 403):
        return False
    if status == 303:
        if key in JOIN_GATED and role == "visitor" and location == "/join":
            return False
        assert key in REDIRECTS, (key, role, location)
        assert location == REDIRECTS[key](role), (key, role, location)
        return True
    assert status == 200 or status in OTHER_OK.get(key, set()), (key, role, status)
    return True


def persons_of(cast: Any) -> dict[str, Person]:
    p = cast.principals
    return {
        "visitor": p["visitor"].person,
        "attendee": p["attendee"].person,
        "facilitator": p["facilitator_on_a"].person,
        "host": p["host"].person,
        "organiser": p["organiser"].person,
    }


async def test_every_route_gives_each_role_exactly_its_rights(breakout_cast: Any) -> None:
    cast = breakout_cast
    assert set(PROBES) == set(ROUTES)
    persons = persons_of(cast)
    seen: dict[str, set[str]] = {}
    for key in sorted(ROUTES):
        allowed: set[str] = set()
        for role in ROUTE_ROLES:
            status, location = await PROBES[key](cast, role, persons[role])
            if verdict(key, role, status, location):
                allowed.add(role)
        seen[key] = allowed

    wrong = {key: sorted(got) for key, got in seen.items() if got != ROUTES[key]}
    assert wrong == {}, f"routes whose allowed roles differ from ROUTES: {wrong}"
    # The probes changed no one's session: everyone is still who they were.
    for role, person in persons.items():
        info = (await person.http.get("/api/session")).json()["participant"]
        assert (info["role"] if info else "visitor") == {"facilitator": "attendee"}.get(role, role)


async def test_exports_and_reports_hold_nothing_for_attendees(breakout_cast: Any) -> None:
    """The refusals carry no data: the plain error body (JSON for the API, HTML pages)."""
    cast = breakout_cast
    attendee = cast.principals["attendee"].person
    for path in (
        "/api/qa/export",
        "/api/breakout/export",
        "/api/survey/export",
        "/api/polls/export",
    ):
        for fmt in ("csv", "xlsx"):
            response = await attendee.http.get(f"{path}?format={fmt}")
            assert response.status_code == 403
            assert response.headers["content-type"].startswith("application/json")
            assert "attachment" not in response.headers.get("content-disposition", "")
            assert set(response.json()) == {"error"}
    for path in (
        "/results",
        "/results/group?group=1",
        "/report",
        "/report.md",
        "/feedback",
        "/host",
        "/organiser",
        "/projector",
    ):
        response = await attendee.http.get(path)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        assert "Person 0" not in response.text  # no roster, no responses


# -- actions -----------------------------------------------------------------------------------


async def ask(person: Person, text: str, key: str) -> int:
    response = await person.act("qa.ask", text=text, key=key)
    assert response.status_code == 200, response.text
    qid: int = response.json()["question"]["id"]
    return qid


def overrides_for(
    name: str, principal: Any, cast: Any, questions: dict[str, int]
) -> dict[str, Any]:
    """Per-principal params: their own question, their group, harmless targets."""
    own = questions.get(principal.key.removesuffix("_on_a").removesuffix("_on_b"))
    victim, duplicate = questions["victim"], questions["duplicate"]
    group = principal.group or 1
    by_action: dict[str, dict[str, Any]] = {
        "qa.ask": {"text": f"A question from {principal.key}", "key": f"{principal.key:<16}"},
        "qa.edit": {"question_id": own or victim, "text": "Edited by its author"},
        "qa.vote": {"question_id": victim},
        "qa.reply": {"question_id": victim, "key": f"reply-{principal.key:<16}"},
        "qa.answer": {"question_id": victim, "key": f"answer-{principal.key:<16}"},
        "qa.merge": {"question_id": duplicate, "into": victim},
        "qa.carry_over": {"from_item": "review-qa", "to_item": "lcspr-qa"},
        "qa.configure": {"open": True, "moderation": False},
        "qa.reject": {"question_id": victim, "reason": "other"},
        "breakout.capture": {"group": group, "topic": 0},
        "breakout.point": {"group": group, "topic": 0, "key": f"point-{principal.key:<16}"},
        "breakout.move": {"participant_id": "nobody-at-all", "group": 2},
        "roster.remove": {"participant_id": "nobody-at-all"},  # 404 for staff: no one removed
        "breakout.facilitator": {"group": 1, "participant_id": cast.facilitator_id},
        "breakout.clear_help": {"group": group},
        "breakout.star": {"group": group, "topic": 0},
        "breakout.correct": {"group": group, "topic": 0, "text": "Corrected by the host"},
        "feedback.present": {"mode": "off"},
        "survey.state": {"state": "auto"},
        "agenda.jump": {"item_id": "lcspr-breakout"},
        "agenda.unskip": {"item_id": "closing-remarks"},
        "agenda.extend": {"minutes": 1},
    }
    if name.startswith("qa.") and name not in by_action:
        return {"question_id": victim}
    return by_action.get(name, {})


def action_order(name: str) -> tuple[bool, str]:
    # The agenda moves last: before it, the breakout keeps running for everyone.
    return (name.startswith("agenda."), name)


async def test_every_action_gives_each_principal_exactly_its_rights(
    breakout_cast: Any, params_for: Any
) -> None:
    cast = breakout_cast
    principals = cast.principals
    questions = {
        "attendee": await ask(principals["attendee"].person, "Mine, attendee", "k" * 20),
        "facilitator": await ask(principals["facilitator_on_a"].person, "Mine, f", "f" * 20),
        "host": await ask(principals["host"].person, "Mine, host", "h" * 20),
    }
    other = cast.attendees[cast.members(2)[-1]][0]
    questions["victim"] = await ask(other, "A question to moderate", "v" * 20)
    questions["duplicate"] = await ask(other, "A duplicate to merge", "d" * 20)

    # A visitor has no socket to send actions on: the handshake itself is refused.
    with pytest.raises(InvalidStatus) as refused:
        await cast.connect(principals["visitor"].person)
    assert refused.value.response.status_code == 403

    seen_http: dict[str, set[str]] = {}
    seen_ws: dict[str, set[str]] = {}
    problems: list[str] = []
    for name in sorted(REGISTRY, key=action_order):
        action = REGISTRY[name]
        seen_http[name], seen_ws[name] = set(), set()
        for key in ACTION_ROLES:
            principal = principals[key]
            params = params_for(action.params, **overrides_for(name, principal, cast, questions))
            area, command = name.split(".")
            response = await principal.person.http.post(
                f"/api/{area}/{command}",
                json=params,
                headers={"X-CSRF-Token": await csrf_of(principal.person)},
            )
            status = response.status_code
            if status >= 500 or ("error" not in response.json() and status != 200):
                problems.append(f"HTTP {name} as {key}: {status} {response.text[:200]}")
            if status not in (401, 403):
                seen_http[name].add(key)
            elif key != "visitor" and status == 401:
                problems.append(f"HTTP {name} as {key}: 401 for a joined caller")
            if principal.live is None:
                continue
            result = await principal.live.act(name, params)
            if result["ok"]:
                seen_ws[name].add(key)
            elif result["status"] >= 500:
                problems.append(f"WS {name} as {key}: {result}")
            elif result["status"] not in (401, 403):
                seen_ws[name].add(key)

    assert problems == []
    wrong_http = {n: sorted(got) for n, got in seen_http.items() if got != ACTIONS[n]}
    assert wrong_http == {}, f"HTTP: actions whose allowed principals differ: {wrong_http}"
    expected_ws = {n: set(allowed) - {"visitor"} for n, allowed in ACTIONS.items()}
    wrong_ws = {n: sorted(got) for n, got in seen_ws.items() if got != expected_ws[n]}
    assert wrong_ws == {}, f"WebSocket: actions whose allowed principals differ: {wrong_ws}"


# -- breakout rooms ----------------------------------------------------------------------------


def about_group(number: int) -> Callable[[dict[str, Any]], bool]:
    """A message that shows group ``number``'s room (its members, responses or points)."""

    def check(m: dict[str, Any]) -> bool:
        data = m.get("data") or {}
        if m.get("type") == "breakout.group":
            return bool(data.get("number") == number)
        if m.get("type") == "breakout.response":
            return bool(data.get("group") == number)
        if m.get("type") == "snapshot":
            room = (data.get("breakout") or {}).get("group") or {}
            return bool(room.get("number") == number)
        return False

    return check


async def test_facilitator_writes_only_their_own_group(breakout_cast: Any) -> None:
    cast = breakout_cast
    facilitator = cast.principals["facilitator_on_a"]
    person, sock = facilitator.person, facilitator.live

    other_http = await person.act("breakout.capture", group=2, topic=0, text="Not ours")
    other_ws = await sock.act("breakout.capture", {"group": 2, "topic": 0, "text": "Not ours"})
    own_http = await person.act("breakout.capture", group=1, topic=0, text="Ours")
    own_ws = await sock.act("breakout.capture", {"group": 1, "topic": 0, "text": "Ours, too"})

    assert other_http.status_code == 403
    assert other_http.json()["error"]["message"] == "You can only act in your own group."
    assert (other_ws["ok"], other_ws["status"]) == (False, 403)
    assert own_http.status_code == 200
    assert own_ws["ok"] is True
    responses = cast.server.services.breakouts.current.responses
    assert responses[(1, 0)][0] == "Ours, too"
    assert (2, 0) not in responses
    # A plain member of group 1 may not write either.
    member = cast.principals["attendee"].person
    assert (await member.act("breakout.capture", group=1, topic=0, text="x")).status_code == 403


async def test_a_member_of_group_b_never_sees_group_a(breakout_cast: Any) -> None:
    cast = breakout_cast
    group_a, group_b = cast.members(1), cast.members(2)
    facilitator = cast.attendees[cast.facilitator_id][0]
    a_member = next(pid for pid in group_a if pid != cast.facilitator_id)
    host = cast.host

    # Group A is busy: help, a point, a response.
    assert (await cast.attendees[a_member][0].act("breakout.help")).status_code == 200
    point = await cast.attendees[a_member][0].act(
        "breakout.point", group=1, topic=0, text="A's secret point", key="a" * 20
    )
    assert point.status_code == 200
    capture = await facilitator.act("breakout.capture", group=1, topic=0, text="A's answer")
    assert capture.status_code == 200

    # The host moves a member of A to B: from then on they see B's room, never A's.
    mover = next(pid for pid in group_a if pid not in (cast.facilitator_id, a_member))
    mover_sock = cast.attendees[mover][1]
    moved = await host.act("breakout.move", participant_id=mover, group=2)
    assert moved.status_code == 200
    arrived = await mover_sock.wait_for(about_group(2))
    after_move = mover_sock.messages.index(arrived) + 1

    # More of A's room after the move.
    again = await facilitator.act("breakout.capture", group=1, topic=0, text="A's final answer")
    assert again.status_code == 200
    assert (await cast.attendees[a_member][0].act("breakout.help", on=False)).status_code == 200
    a_sock = cast.attendees[a_member][1]
    await a_sock.wait_for(lambda m: about_group(1)(m) and "final" in json.dumps(m))
    await a_sock.wait_for(lambda m: about_group(1)(m) and m["data"].get("help") is False)

    # Flush every B socket (a pong comes after anything already queued), then look.
    for pid in [*group_b, mover]:
        await cast.attendees[pid][1].ping()
    leaks = {
        pid: [m["type"] for m in cast.attendees[pid][1].messages if about_group(1)(m)]
        for pid in group_b
    }
    leaks[mover] = [m["type"] for m in mover_sock.messages[after_move:] if about_group(1)(m)]
    assert {pid: seen for pid, seen in leaks.items() if seen} == {}
    for pid in group_b:  # the control: B's members do see B's room
        assert any(about_group(2)(m) for m in cast.attendees[pid][1].messages)
    # A fresh screen of the mover, too, shows only B.
    person = cast.attendees[mover][0]
    fresh = await cast.connect(person)
    snapshot = await fresh.wait_for(lambda m: m["type"] == "snapshot")
    assert snapshot["data"]["breakout"]["group"]["number"] == 2


async def test_http_api_refuses_attendee_reads_of_other_groups(breakout_cast: Any) -> None:
    """No HTTP read shows one group's room to another group's member."""
    cast = breakout_cast
    facilitator = cast.attendees[cast.facilitator_id][0]
    await facilitator.act("breakout.capture", group=1, topic=0, text="Only for group one")
    b_member = cast.attendees[cast.members(2)[0]][0]
    for path in ("/live", "/api/agenda", "/api/qa/questions", "/survey"):
        response = await b_member.http.get(path)
        assert response.status_code == 200
        assert "Only for group one" not in response.text, path


# -- origins -----------------------------------------------------------------------------------


async def test_foreign_origin_is_refused_for_every_role(breakout_cast: Any) -> None:
    cast = breakout_cast
    persons = persons_of(cast)
    for role, person in persons.items():
        for origin in (FOREIGN_ORIGIN, "null", cast.server.base.replace("127.0.0.1", "localhost")):
            with pytest.raises(InvalidStatus) as refused:
                await cast.connect(person, origin=origin)
            assert refused.value.response.status_code == 403, (role, origin)
        # The same for a state-changing HTTP call, with a valid CSRF token.
        response = await person.http.post(
            "/api/qa/ask",
            json={"text": "Cross-site", "key": "x" * 20},
            headers={"X-CSRF-Token": await csrf_of(person), "Origin": FOREIGN_ORIGIN},
        )
        assert response.status_code == 403, role
        assert response.json()["error"]["message"] == "Requests from other sites are refused."
    assert not any(q.text == "Cross-site" for q in cast.server.services.qa.questions.values())


async def test_a_forged_session_cookie_is_no_session(cast: Any) -> None:
    """A session cookie from another server (wrong secret) is no session at all."""
    forged = Person(cast.server.base)
    forged.http.cookies.set("webinar_session_webinar", "eyJzaWQiOiAiYWJjIn0=.forged.sig")
    try:
        with pytest.raises(InvalidStatus) as refused:
            await cast.connect(forged)
        assert refused.value.response.status_code == 403
        response = await forged.http.get("/api/agenda")
        assert response.status_code == 401
    finally:
        await forged.close()


# -- across events -----------------------------------------------------------------------------

#: Routes anyone may open: for someone of another event they answer as for a visitor.
#: Pages anyone may open, in any event: the join form, the staff sign-in form (whose OpenID
#: routes answer 404 where no provider is set up), and the documents.
OPEN_TO_ALL = {
    "GET /join",
    "GET /healthz",
    "GET /api/openapi.json",
    "GET /api/session",
    "GET /signin",
    "GET /signin/oidc",
    "GET /signin/oidc/callback",
}


@pytest.fixture
async def two_events(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """One server with the events alpha and beta (the seed webinar twice), no short
    addresses."""
    db = database(str(tmp_path / "two.db"))
    text = SEED_AGENDA.read_text(encoding="utf-8")
    beta = parse_agenda(text, "beta.toml", today=date.today())
    _, _, secrets = prepare_event(db, "beta", "beta.toml", text, beta.title)
    server = LiveServer(db, slug="alpha", others=(Hosted("beta", beta, secrets),), aliases=False)
    await server.start()
    yield server
    await server.stop()


async def alpha_people(server: LiveServer) -> dict[str, Person]:
    """An attendee, the host and the organiser of alpha."""
    alpha = f"{server.base}/e/alpha"
    people = {role: Person(alpha) for role in ("attendee", "host", "organiser")}
    await people["attendee"].join(server.secrets["join_code"], "Ann")
    await people["host"].enter("host", server.secrets["host_token"])
    await people["organiser"].enter("organiser", server.secrets["organiser_token"])
    return people


async def test_no_one_of_one_event_has_any_right_in_another(two_events: LiveServer) -> None:
    server = two_events
    people = await alpha_people(server)
    beta = f"{server.base}/e/beta"
    for person in people.values():  # their own cookies and CSRF tokens, at beta's addresses
        person.base = beta
        person.http.base_url = beta
    wrong: list[str] = []
    for role, person in people.items():
        for name in sorted(REGISTRY):
            status = (await person.act(name)).status_code
            if status not in (401, 403):
                wrong.append(f"{role} {name}: {status}")
        for key in sorted(ROUTES):
            method, path = key.split(" ", 1)
            if method != "GET" or "{" in path or key in OPEN_TO_ALL:
                continue
            response = await person.http.get(path)
            refused = response.status_code in (401, 403) or (
                response.status_code == 303 and response.headers["location"] == "/e/beta/join"
            )
            if not refused:
                wrong.append(f"{role} {key}: {response.status_code}")
        session = (await person.http.get("/api/session")).json()
        if session["participant"] is not None:
            wrong.append(f"{role} is someone in beta")
        with pytest.raises(InvalidStatus):
            await person.connect()
        await person.close()
    assert wrong == []


# -- the organiser's programme -----------------------------------------------------------------

#: Who may use the programme: nobody without a staff account, whatever they hold in an event
#: (an attendee's session, the organiser's secret link); a host account its own events only.
PROGRAMME_ROLES = ("visitor", "attendee", "link_organiser", "host_account", "organiser_account")
ACCOUNTS = frozenset({"host_account", "organiser_account"})
AN_ORGANISER = frozenset({"organiser_account"})
PROGRAMME_EVERYONE = frozenset(PROGRAMME_ROLES)

#: Every route of the programme's app -> the roles allowed.
PROGRAMME_ROUTES: dict[str, frozenset[str]] = {
    "GET /programme": ACCOUNTS,
    "GET /programme/signin": PROGRAMME_EVERYONE,
    "POST /programme/signin": PROGRAMME_EVERYONE,  # CSRF-checked; a wrong password: 400
    "POST /programme/signout": PROGRAMME_EVERYONE,
    "GET /programme/new": AN_ORGANISER,
    "POST /programme/new": AN_ORGANISER,
    "GET /programme/e/{slug}": ACCOUNTS,
    "POST /programme/e/{slug}/open": ACCOUNTS,
    "POST /programme/e/{slug}/duplicate": AN_ORGANISER,
    "POST /programme/e/{slug}/archive": AN_ORGANISER,
    "POST /programme/e/{slug}/purge": AN_ORGANISER,
    "GET /programme/e/{slug}/agenda": AN_ORGANISER,
    "GET /programme/e/{slug}/agenda.toml": ACCOUNTS,
    "POST /programme/agenda": AN_ORGANISER,
}

ORGANISER_ACCOUNT = ("ann@example.org", "a long and happy password")
HOST_ACCOUNT = ("hal@example.org", "hosting is what I do")


def site_of(server: LiveServer) -> Any:
    assert server._server is not None
    return server._server.config.loaded_app.app  # uvicorn's proxy-headers wrapper, then Site


async def programme_csrf(person: Person) -> str:
    page = await person.http.get("/programme")
    if page.status_code != 200:
        page = await person.http.get("/programme/signin")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


async def programme_people(server: LiveServer) -> dict[str, Person]:
    now = datetime.now(UTC)
    for (email, password), grants in (
        (ORGANISER_ACCOUNT, (Grant("organiser"),)),
        (HOST_ACCOUNT, (Grant("host", 1), Grant("host", 2))),
    ):
        await asyncio.to_thread(add_user, server.db_path, email, "Staff", password, grants, now)
    people = {role: Person(server.base) for role in PROGRAMME_ROLES}
    await people["attendee"].join(server.secrets["join_code"], "Ada")
    await people["link_organiser"].enter("organiser", server.secrets["organiser_token"])
    for role, (email, password) in (
        ("host_account", HOST_ACCOUNT),
        ("organiser_account", ORGANISER_ACCOUNT),
    ):
        person = people[role]
        token = await programme_csrf(person)
        response = await person.http.post(
            "/programme/signin", data={"email": email, "password": password, "csrf_token": token}
        )
        assert response.status_code == 303, response.text
    return people


def programme_post(path: str, **fields: str) -> Probe:
    async def probe(cast: Any, role: str, person: Person) -> tuple[int, str]:
        data = {"csrf_token": await programme_csrf(person), **fields}
        response = await person.http.post(path, data=data)
        return response.status_code, response.headers.get("location", "")

    return probe


async def programme_upload(path: str, person: Person, **fields: str) -> tuple[int, str]:
    data = {"csrf_token": await programme_csrf(person), **fields}
    files = {"file": ("x.toml", b"[event\n", "application/toml")}  # not TOML: nothing stored
    response = await person.http.post(path, data=data, files=files)
    return response.status_code, response.headers.get("location", "")


async def programme_signout(cast: Any, role: str, person: Person) -> tuple[int, str]:
    twin = clone(person)  # signing out ends the session: the copy's, not the one kept
    try:
        data = {"csrf_token": await programme_csrf(twin)}
        response = await twin.http.post("/programme/signout", data=data)
    finally:
        await twin.close()
    return response.status_code, response.headers.get("location", "")


async def programme_open(cast: Any, role: str, person: Person) -> tuple[int, str]:
    twin = clone(person)  # opening the console replaces the event's cookie: on a copy
    try:
        data = {"csrf_token": await programme_csrf(twin), "page": "host"}
        response = await twin.http.post("/programme/e/webinar/open", data=data)
    finally:
        await twin.close()
    return response.status_code, response.headers.get("location", "")


PROGRAMME_PROBES: dict[str, Probe] = {
    "GET /programme": get("/programme"),
    "GET /programme/signin": get("/programme/signin"),
    "POST /programme/signin": programme_post(
        "/programme/signin", email="nobody@example.org", password="not a password"
    ),
    "POST /programme/signout": programme_signout,
    "GET /programme/new": get("/programme/new"),
    "POST /programme/new": lambda cast, role, person: programme_upload(
        "/programme/new", person, source="upload"
    ),
    "GET /programme/e/{slug}": get("/programme/e/hals"),
    "POST /programme/e/{slug}/open": programme_open,
    "POST /programme/e/{slug}/duplicate": programme_post(
        "/programme/e/hals/duplicate", date="not a date", start="10:00"
    ),
    "POST /programme/e/{slug}/archive": programme_post("/programme/e/hals/archive", archived="no"),
    # The main event is served from its file: refused with a sentence, nothing purged.
    "POST /programme/e/{slug}/purge": programme_post("/programme/e/webinar/purge"),
    "GET /programme/e/{slug}/agenda": get("/programme/e/hals/agenda"),
    "GET /programme/e/{slug}/agenda.toml": get("/programme/e/hals/agenda.toml"),
    "POST /programme/agenda": lambda cast, role, person: programme_upload(
        "/programme/agenda", person, event="hals"
    ),
}

#: Where an allowed 303 leads in the programme, per route.
PROGRAMME_REDIRECTS: dict[str, str] = {
    "GET /programme/signin": "/programme",
    "POST /programme/signout": "/programme/signin",
    "POST /programme/e/{slug}/open": "/host",
    "POST /programme/e/{slug}/archive": "/programme",
}
#: Statuses of an allowed programme call other than 200 and 303.
PROGRAMME_OTHER_OK = {
    "POST /programme/signin": {400},
    "POST /programme/new": {400},
    "POST /programme/e/{slug}/duplicate": {400},
    "POST /programme/e/{slug}/purge": {400},
    "POST /programme/agenda": {400},
}


def programme_verdict(key: str, role: str, status: int, location: str) -> bool:
    assert status < 500, (key, role, status)
    if status in (401, 403) or (status == 303 and location == "/programme/signin"):
        return key == "POST /programme/signout"  # signing out always ends at the form
    if status == 303:
        assert location == PROGRAMME_REDIRECTS.get(key), (key, role, location)
        return True
    assert status == 200 or status in PROGRAMME_OTHER_OK.get(key, set()), (key, role, status)
    return True


async def test_every_programme_route_gives_each_role_exactly_its_rights(
    server: LiveServer,
) -> None:
    keys = [
        f"{method} {route.path}"
        for route in site_of(server).programme.routes
        for method in sorted(route.methods - {"HEAD"})
    ]
    assert sorted(keys) == sorted(PROGRAMME_ROUTES) == sorted(PROGRAMME_PROBES)
    await asyncio.to_thread(
        save_webinar_sync, server.db_path, "hals", agenda_name="h.toml", agenda=SEED_TEXT
    )
    people = await programme_people(server)
    try:
        seen: dict[str, set[str]] = {}
        for key in sorted(PROGRAMME_ROUTES):
            seen[key] = set()
            for role in PROGRAMME_ROLES:
                status, location = await PROGRAMME_PROBES[key](None, role, people[role])
                if programme_verdict(key, role, status, location):
                    seen[key].add(role)
    finally:
        for person in people.values():
            await person.close()

    wrong = {k: sorted(got) for k, got in seen.items() if got != PROGRAMME_ROUTES[k]}
    assert wrong == {}, f"programme routes whose allowed roles differ: {wrong}"
    assert [w.slug for w in list_webinars_sync(server.db_path)] == ["webinar", "hals"]
