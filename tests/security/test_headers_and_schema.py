"""Smaller hardening (issue 11, item 8): no caching of private pages, Allow on 405, a session
that lasts for the event, and an OpenAPI document that says what the API really takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpers import LiveServer, attendee_of, host_of, seed_agenda
from webinar.domain.agenda import SESSION_MINIMUM, session_lifetime
from webinar.web.actions import REGISTRY
from webinar.web.openapi import openapi_document

pytestmark = pytest.mark.integration


async def test_staff_pages_and_exports_are_never_cached(server: LiveServer) -> None:
    host = await host_of(server)
    paths = ["/host", "/projector", "/feedback", "/report", "/api/qa/export?format=csv"]

    responses = {path: await host.http.get(path) for path in paths}
    static = await host.http.get("/static/live.js")

    for path, response in responses.items():
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path
    assert "no-store" not in static.headers.get("cache-control", "")
    await host.close()


async def test_a_wrong_method_says_which_are_allowed(server: LiveServer) -> None:
    ann = await attendee_of(server, "Ann")

    api = await ann.http.delete("/api/join")
    page = await ann.http.put("/live")

    assert api.status_code == 405
    assert api.headers["allow"] == "POST"
    assert api.json()["error"]["message"] == "This address does not take that method."
    assert page.status_code == 405
    assert "GET" in page.headers["allow"]
    await ann.close()


async def test_the_session_cookie_lasts_for_the_event_not_weeks(server: LiveServer) -> None:
    ann = await attendee_of(server, "Ann")

    cookie = next(c for c in ann.http.cookies.jar if c.name == "webinar_session_webinar")

    assert cookie.expires is not None
    lifetime = timedelta(seconds=cookie.expires - datetime.now(UTC).timestamp())
    agenda = server.agenda
    assert agenda.survey is not None
    over = agenda.planned_end + timedelta(days=agenda.survey.open_days + 1)
    assert lifetime <= max(SESSION_MINIMUM, over - datetime.now(UTC)) + timedelta(minutes=1)
    await ann.close()


@pytest.mark.unit
def test_session_lifetime_runs_to_the_end_of_the_survey() -> None:
    agenda = seed_agenda()
    assert agenda.survey is not None
    morning = agenda.planned_start - timedelta(hours=1)
    long_after = agenda.planned_end + timedelta(days=60)

    assert session_lifetime(agenda, morning) == (
        agenda.planned_end - morning + timedelta(days=agenda.survey.open_days + 1)
    )
    assert session_lifetime(agenda, long_after) == SESSION_MINIMUM


async def test_json_takes_only_real_booleans_and_numbers_forms_take_text(
    server: LiveServer,
) -> None:
    host = await host_of(server)
    ann = await attendee_of(server, "Ann")
    await host.act("agenda.start")
    key = "k" * 20

    text_bool = await ann.act("qa.ask", text="Is this anonymous?", key=key, anonymous="yes")
    number_bool = await ann.act("qa.ask", text="Is this anonymous?", key=key, anonymous=1)
    text_number = await host.act("agenda.extend", minutes="3")
    form = await ann.http.post(
        "/api/qa/ask",
        data={"text": "Sent from a form?", "key": key, "anonymous": "true"},
        headers={"X-CSRF-Token": ann.csrf},
    )

    assert text_bool.status_code == 400
    assert text_bool.json()["error"]["field"] == "anonymous"
    assert number_bool.status_code == 400
    assert text_number.status_code == 400
    assert text_number.json()["error"]["field"] == "minutes"
    assert form.status_code == 200, form.text
    assert form.json()["question"]["anonymous"] is True
    for person in (host, ann):
        await person.close()


@pytest.mark.unit
def test_openapi_declares_limits_and_required_bodies() -> None:
    paths = openapi_document()["paths"]

    assert {"413", "429"} <= set(paths["/api/join"]["post"]["responses"])
    for name, action in REGISTRY.items():
        operation = paths["/api/" + name.replace(".", "/")]["post"]
        assert "413" in operation["responses"], name
        required = action.params.model_json_schema().get("required", [])
        assert operation["requestBody"]["required"] is bool(required), name
    assert paths["/api/qa/ask"]["post"]["requestBody"]["required"] is True
    assert paths["/api/agenda/start"]["post"]["requestBody"]["required"] is False
