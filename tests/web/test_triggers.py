"""Action answers name what was done in their HX-Trigger header (static/live.js listens
for those names instead of guessing from the JSON body)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from helpers import LiveServer, Person, attendee_of, host_of
from webinar.web.actions.core import TRIGGERS, Context
from webinar.web.api import triggers

pytestmark = pytest.mark.integration


def named(response: httpx.Response) -> dict[str, Any]:
    header = response.headers.get("HX-Trigger")
    assert header is not None, f"no HX-Trigger on {response.request.url}"
    value: dict[str, Any] = json.loads(header)
    return value


async def test_asking_and_voting_name_what_they_did(server: LiveServer) -> None:
    host = await host_of(server)
    ann, bob = await attendee_of(server, "Ann"), await attendee_of(server, "Bob")

    asked = await ann.act("qa.ask", text="Will the slides be shared?", key=uuid.uuid4().hex)
    question_id = asked.json()["question"]["id"]
    voted = await bob.act("qa.vote", question_id=question_id, on=True)
    withdrawn = await bob.act("qa.vote", question_id=question_id, on=False)

    assert named(asked) == {"webinar:asked": {"state": "published"}}
    assert named(voted) == {
        "webinar:voted": {"question_id": question_id, "voted": True, "votes": 1}
    }
    assert named(withdrawn) == {
        "webinar:voted": {"question_id": question_id, "voted": False, "votes": 0}
    }
    assert voted.json() == {"ok": True, "question_id": question_id, "voted": True, "votes": 1}
    for person in (host, ann, bob):
        await person.close()


async def test_a_survey_save_says_whether_it_is_submitted(server: LiveServer) -> None:
    host = await host_of(server)
    await host.act("agenda.start")
    await host.act("agenda.jump", item_id="closing-remarks")
    ann = await attendee_of(server, "Ann")
    key = uuid.uuid4().hex

    saved = await ann.act("survey.save", key=key, role="Police", overall="4")
    submitted = await ann.act("survey.save", key=key, final=True)

    assert named(saved) == {"webinar:survey-saved": {"submitted": False}}
    assert named(submitted) == {"webinar:survey-saved": {"submitted": True}}
    for person in (host, ann):
        await person.close()


async def test_a_preassignment_upload_says_what_was_stored(server: LiveServer) -> None:
    organiser = Person(server.base)
    await organiser.enter("organiser", server.secrets["organiser_token"])

    stored = await organiser.http.post(
        "/api/breakout/preassign",
        files={"file": ("groups.csv", b"name,group\nNobody Here,1\n", "text/csv")},
        data={"csrf_token": organiser.csrf},
    )

    assert stored.status_code == 200, stored.text
    assert len(stored.json()["not_joined_yet"]) == 1
    assert named(stored) == {"webinar:preassigned": {"stored": 1, "not_joined_yet": 1}}
    await organiser.close()


async def test_other_answers_and_refusals_name_nothing(server: LiveServer) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")

    configured = await host.act("qa.configure", open=True)
    refused = await ann.act("qa.vote", question_id=999, on=True)

    assert configured.status_code == 200
    assert "HX-Trigger" not in configured.headers
    assert refused.status_code == 404
    assert "HX-Trigger" not in refused.headers
    for person in (host, ann):
        await person.close()


def test_the_header_is_ascii_json_and_absent_when_nothing_happened() -> None:
    assert triggers({}) == {}
    header = triggers({"webinar:asked": {"state": "published", "note": "café"}})["HX-Trigger"]
    assert header.isascii()
    assert json.loads(header) == {"webinar:asked": {"state": "published", "note": "café"}}


def test_only_declared_triggers_can_be_announced() -> None:
    context = Context(services=None, actor=None)  # type: ignore[arg-type]

    with pytest.raises(ValueError, match="not a declared trigger"):
        context.announce("webinar:guessed", {})
    context.announce("webinar:asked", {"state": "pending"})

    assert context.triggers == {"webinar:asked": {"state": "pending"}}
    assert set(TRIGGERS) == {
        "webinar:asked",
        "webinar:voted",
        "webinar:survey-saved",
        "webinar:preassigned",
    }
