"""Hostile input against the real server: no 5xx, plain errors, an intact database.

Every registered action gets random JSON (every JSON type, nested, huge numbers, NaN and
Infinity literals), raw random bytes, random form fields and a fixed corpus of XSS, SQL
and odd-unicode strings in every field, over HTTP and as WebSocket ``action`` messages,
as a role allowed to call it. After each example the database passes
``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check`` (a refused call leaves no
partial rows). The join form, ``/api/join`` and the WebSocket protocol are fuzzed too;
then pages that show the stored hostile text must show it escaped.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webinar.web.actions import REGISTRY

pytestmark = pytest.mark.integration

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "<svg/onload=alert(1)>",
    "'><iframe src=javascript:alert(1)>",
    "{{7*7}}{% raw %}",
    "[click](javascript:alert(1))",
]
SQL = [
    "' OR 1=1 --",
    '"; DROP TABLE questions; --',
    "1; SELECT * FROM sessions",
    "%' AND 1=0 UNION SELECT key_hash FROM questions --",
]
ODD = [
    "\u202eevil\u202c right-to-left override",
    "zero\u200dwidth\u200bjoiner\ufeff",
    "\ud800",  # a lone surrogate: only expressible in JSON as an escape
    "a\udfffb",
    "e\u0301\u0301\u0301\u0301 combining marks",
    "NUL\x00inside",
    "\x1b[31mescape",
    "x" * 10_000,
    "",
    " ",
    "-1",
    "1e309",
    "NaN",
    "Infinity",
    "null",
    "true",
    "🎉" * 50,
]
CORPUS = XSS + SQL + ODD
#: What a form can carry: UTF-8 text (no lone surrogates), not too long.
FORM_CORPUS = [t for t in CORPUS if len(t) < 1000 and not re.search("[\ud800-\udfff]", t)]
#: Unescaped markup that must never reach a page from user input.
RAW_MARKUP = re.compile(
    r"<script>alert|<img src=x onerror|<svg/onload|<iframe src=javascript|"
    r"href=\"javascript:|src=\"javascript:",
    re.IGNORECASE,
)

SURVEY_CODES = [
    "overall",
    "national_reviews_useful",
    "lcspr_breakout_useful",
    "most_useful_sessions",
    "role",
    "question_answered",
    "cover_next",
    "comments",
]
AREAS = {
    "agenda": ("agenda.",),
    "qa": ("qa.",),
    "breakout": ("breakout.", "feedback."),
    "survey": ("survey.",),
}


def caller_of(name: str) -> str:
    """Fuzz as the host when allowed (no forum rate limits), else the attendee."""
    roles = REGISTRY[name].roles
    return next(role for role in ("host", "attendee", "organiser") if role in roles)


def fields_of(name: str) -> list[str]:
    fields = list(REGISTRY[name].params.model_fields)
    return fields + SURVEY_CODES if name == "survey.save" else fields


def dumps(value: Any) -> bytes:
    """JSON as an attacker may write it: escapes for lone surrogates, NaN and Infinity."""
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


# -- strategies --------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.sampled_from([0, -1, 1, 2**31, 2**63, -(2**63) - 1, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=60),
    st.sampled_from(CORPUS),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=10), inner, max_size=4),
    ),
    max_leaves=12,
)


@st.composite
def bodies(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """A JSON object with (some of) the action's field names, and maybe strangers."""
    fields = fields_of(name)
    body: dict[str, Any] = {}
    if fields:
        chosen = draw(st.lists(st.sampled_from(fields), max_size=len(fields), unique=True))
        for field in chosen:
            body[field] = draw(json_values)
    if draw(st.integers(0, 4)) == 0:
        body.update(draw(st.dictionaries(st.text(max_size=12), json_values, max_size=3)))
    return body


form_values = st.one_of(
    st.text(max_size=80), st.sampled_from(FORM_CORPUS), st.lists(st.text(max_size=20), max_size=3)
)


# -- checks ------------------------------------------------------------------------------------


def check_response(response: Any, what: str) -> None:
    """No 5xx; an error is JSON with a plain message; a success is ``{"ok": true}``."""
    status = response.status_code
    assert status < 500, f"{what}: {status} {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/json"), what
    body = response.json()
    if status >= 400:
        message = body["error"]["message"]
        assert isinstance(message, str) and message.strip(), what
    else:
        assert status == 200 and body["ok"] is True, what


def check_result(result: dict[str, Any], what: str) -> None:
    """A WebSocket action's reply: its result, or an error for a frame that is not JSON."""
    if result["type"] == "error":
        assert result["message"] == "That message is not valid JSON.", what
        return
    assert result["type"] == "result", what
    if result["ok"]:
        return
    assert 400 <= result["status"] < 500, f"{what}: {result}"
    assert isinstance(result["error"]["message"], str) and result["error"]["message"], what


async def post_action(cast: Any, name: str, content: bytes, content_type: str) -> Any:
    person = cast.principals[caller_of(name)].person
    area, command = name.split(".", 1)
    return await person.http.post(
        f"/api/{area}/{command}",
        content=content,
        headers={"Content-Type": content_type, "X-CSRF-Token": person.csrf},
    )


async def send_action(cast: Any, name: str, params: Any) -> dict[str, Any]:
    """The same action as a WebSocket message (its JSON written as an attacker may)."""
    sock = cast.principals[caller_of(name)].live
    ref = f"fuzz-{len(sock.messages)}"
    start = len(sock.messages)
    message = {"type": "action", "id": ref, "name": name, "params": params}
    await sock.conn.send(dumps(message).decode())
    reply: dict[str, Any] = await sock.wait_for(
        lambda m: (m["type"] == "result" and m.get("id") == ref) or m["type"] == "error",
        start=start,
    )
    return reply


# -- actions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("area", sorted(AREAS))
@FUZZ
@given(data=st.data())
async def test_actions_survive_random_json(
    fuzz_cast: Any, db_check: Any, area: str, data: st.DataObject
) -> None:
    names = sorted(n for n in REGISTRY if n.startswith(AREAS[area]))
    name = data.draw(st.sampled_from(names), label="action")
    body = data.draw(bodies(name), label="body")

    response = await post_action(fuzz_cast, name, dumps(body), "application/json")
    check_response(response, f"HTTP {name} {body!r:.200}")
    result = await send_action(fuzz_cast, name, body)
    check_result(result, f"WS {name} {body!r:.200}")
    db_check()


@FUZZ
@given(
    name=st.sampled_from(sorted(REGISTRY)),
    content=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=200).map(str.encode),
        st.sampled_from([b"", b"{", b"[]", b"null", b"1", b'"x"', b"\xff\xfe{}", b"{}" * 3]),
    ),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/json; charset=latin-1",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=xyz",
            "text/plain",
            "application/xml",
            "",
        ]
    ),
)
async def test_actions_survive_raw_bytes(
    fuzz_cast: Any, db_check: Any, name: str, content: bytes, content_type: str
) -> None:
    response = await post_action(fuzz_cast, name, content, content_type)

    check_response(response, f"{name} {content_type} {content!r:.200}")
    db_check()


@FUZZ
@given(data=st.data())
async def test_actions_survive_random_forms(
    fuzz_cast: Any, db_check: Any, data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(REGISTRY)), label="action")
    keys = st.one_of(st.sampled_from(fields_of(name) or ["x"]), st.text(max_size=10))
    form = data.draw(st.dictionaries(keys, form_values, max_size=5), label="form")
    person = fuzz_cast.principals[caller_of(name)].person
    area, command = name.split(".", 1)

    response = await person.http.post(
        f"/api/{area}/{command}", data=form, headers={"X-CSRF-Token": person.csrf}
    )

    check_response(response, f"{name} {form!r:.200}")
    db_check()


@FUZZ
@given(area=st.text(min_size=1, max_size=20), command=st.text(min_size=1, max_size=20))
async def test_unknown_actions_get_a_plain_404(fuzz_cast: Any, area: str, command: str) -> None:
    host = fuzz_cast.host
    path = f"/api/{quote(area, safe='')}/{quote(command, safe='')}"
    response = await host.http.post(path, json={}, headers={"X-CSRF-Token": host.csrf})

    assert response.status_code < 500, (path, response.text)
    # "." and ".." are path segments a client removes (RFC 3986): not an action's name.
    dot_segment = {area, command} & {".", ".."}
    if "/" not in area + command and not dot_segment and f"{area}.{command}" not in REGISTRY:
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["message"].startswith("There is no action called")


#: Every GET route that reads a query parameter, with the parameter, and who may read it.
QUERY_ROUTES = [
    ("/join", "code", "visitor"),
    ("/feedback", "by", "host"),
    ("/results/group", "group", "organiser"),
    ("/api/qa/questions", "sort", "attendee"),
    ("/api/qa/export", "format", "host"),
    ("/api/breakout/export", "format", "organiser"),
    ("/api/survey/export", "format", "host"),
    ("/api/polls/export", "format", "host"),
]
#: Digits Python's str.isdigit() accepts but int() does not (or not as expected), and more.
TRICKY_QUERIES = ["²", "١٢", "Ⅻ", "0x1", "-1", "1" * 40, "none", "csv", "xlsx", "group", ""]
query_values = st.one_of(
    st.text(max_size=30), st.sampled_from(FORM_CORPUS), st.sampled_from(TRICKY_QUERIES)
)


async def check_query(cast: Any, route: tuple[str, str, str], value: str) -> None:
    path, name, role = route
    person = {
        "visitor": cast.visitor,
        "host": cast.host,
        "organiser": cast.organiser,
        "attendee": cast.attendees[cast.facilitator_id][0],
    }[role]

    response = await person.http.get(path, params={name: value})

    assert response.status_code in (200, 400, 404), (path, value, response.text[:300])
    if path.startswith("/api/") and response.status_code != 200:
        assert response.json()["error"]["message"]
    if response.headers["content-type"].startswith("text/html"):
        assert not RAW_MARKUP.search(response.text), (path, value)


@FUZZ
@given(route=st.sampled_from(QUERY_ROUTES), value=query_values)
async def test_query_parameters_never_break_a_page(
    fuzz_cast: Any, route: tuple[str, str, str], value: str
) -> None:
    await check_query(fuzz_cast, route, value)


async def test_tricky_query_values_on_every_route(fuzz_cast: Any) -> None:
    for route in QUERY_ROUTES:
        for value in TRICKY_QUERIES + FORM_CORPUS:
            await check_query(fuzz_cast, route, value)


async def test_corpus_in_every_field_of_every_action(
    fuzz_cast: Any, db_check: Any, params_for: Any
) -> None:
    """Each corpus string in each field of each action (other fields valid), and as a
    field name: over HTTP for all, and over the WebSocket for the strangest strings."""
    cast = fuzz_cast
    sent = 0
    for name in sorted(REGISTRY, key=lambda n: (n.startswith("agenda."), n)):
        action = REGISTRY[name]
        base = params_for(action.params)
        for field in fields_of(name):
            for value in CORPUS:
                body = {**base, field: value}
                response = await post_action(cast, name, dumps(body), "application/json")
                check_response(response, f"{name}.{field}={value!r:.60}")
                sent += 1
                if value in ODD[:7]:
                    check_result(await send_action(cast, name, body), f"WS {name}.{field}")
        for value in CORPUS[:12] + ODD[:7]:
            body = {**base, value: "x"}
            response = await post_action(cast, name, dumps(body), "application/json")
            check_response(response, f"{name} field named {value!r:.60}")
            check_result(await send_action(cast, name, body), f"WS {name} named {value!r:.40}")
        db_check()
    assert sent > 500
    await check_pages_escape(cast)


csv_cells = st.one_of(
    st.text(max_size=30), st.sampled_from(FORM_CORPUS), st.integers(-5, 99).map(str)
)
csv_texts = st.lists(st.lists(csv_cells, min_size=1, max_size=4), max_size=6).map(
    lambda rows: "\n".join(",".join(row) for row in [["name", "group"], *rows])
)


@FUZZ
@given(
    content=st.one_of(csv_texts.map(str.encode), st.binary(max_size=300)),
    as_file=st.booleans(),
)
async def test_preassignment_upload_survives_fuzzing(
    fuzz_cast: Any, db_check: Any, content: bytes, as_file: bool
) -> None:
    host = fuzz_cast.host
    headers = {"X-CSRF-Token": host.csrf}
    if as_file:
        files = {"file": ("groups.csv", content, "text/csv")}
        response = await host.http.post("/api/breakout/preassign", files=files, headers=headers)
    else:
        headers["Content-Type"] = "text/csv"
        response = await host.http.post("/api/breakout/preassign", content=content, headers=headers)

    check_response(response, f"preassign {content!r:.200}")
    db_check()


# -- joining -----------------------------------------------------------------------------------


def join_fields(code: str) -> st.SearchStrategy[dict[str, Any]]:
    text = st.one_of(st.text(max_size=100), st.sampled_from(FORM_CORPUS))
    return st.fixed_dictionaries(
        {},
        optional={
            "code": st.one_of(st.just(code), st.just(f" {code.lower()} "), text),
            "name": text,
            "organisation": text,
            "role": st.sampled_from(["host", "organiser"]),
            "sid": text,
        },
    )


addresses = st.integers(1, 60).map(lambda n: f"198.51.100.{n}")


@FUZZ
@given(data=st.data(), address=addresses, with_token=st.booleans())
async def test_join_form_survives_fuzzing(
    cast: Any, db_check: Any, data: st.DataObject, address: str, with_token: bool
) -> None:
    visitor = cast.visitor
    form = data.draw(join_fields(cast.server.secrets["join_code"]), label="form")
    if with_token:
        form["csrf_token"] = (await visitor.http.get("/api/session")).json()["csrf_token"]

    response = await visitor.http.post("/join", data=form, headers={"X-Forwarded-For": address})

    assert response.status_code in (303, 400, 403, 429), response.text[:300]
    if not with_token:
        assert response.status_code == 403
    if response.status_code == 303:
        assert response.headers["location"] == "/live"
        assert with_token
    else:
        assert not RAW_MARKUP.search(response.text), response.text
    db_check()


@FUZZ
@given(data=st.data(), address=addresses, with_token=st.booleans())
async def test_signin_form_survives_fuzzing(
    cast: Any, db_check: Any, data: st.DataObject, address: str, with_token: bool
) -> None:
    visitor = cast.visitor
    text = st.one_of(st.text(max_size=100), st.sampled_from(FORM_CORPUS))
    form = data.draw(
        st.fixed_dictionaries({}, optional={"email": text, "password": text}), label="form"
    )
    if with_token:
        form["csrf_token"] = (await visitor.http.get("/api/session")).json()["csrf_token"]

    response = await visitor.http.post("/signin", data=form, headers={"X-Forwarded-For": address})

    # No account exists: never signed in, only refused (or slowed) with a sentence.
    assert response.status_code in ((400, 429) if with_token else (403,)), response.text[:300]
    assert '<div class="error-summary" role="alert"' in response.text
    assert not RAW_MARKUP.search(response.text), response.text
    db_check()


@FUZZ
@given(data=st.data(), address=addresses)
async def test_api_join_survives_fuzzing(
    cast: Any, db_check: Any, data: st.DataObject, address: str
) -> None:
    code = cast.server.secrets["join_code"]
    body = data.draw(
        st.one_of(join_fields(code), st.dictionaries(st.text(max_size=12), json_values)),
        label="body",
    )
    person = await cast.person()

    response = await person.http.post(
        "/api/join",
        content=dumps(body),
        headers={"Content-Type": "application/json", "X-Forwarded-For": address},
    )

    assert response.status_code in (201, 400, 429), response.text[:300]
    if response.status_code == 201:
        participant = response.json()["participant"]
        assert participant["role"] == "attendee"
        assert "".join(body["code"].split()).upper() == code
    else:
        assert response.json()["error"]["message"]
    await person.close()
    db_check()


# -- the WebSocket -----------------------------------------------------------------------------

weird_seqs = st.one_of(
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=0, max_value=200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
message_dicts = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(["resume", "ping", "action", "pong"]), json_values)},
    optional={
        "name": st.one_of(st.sampled_from(sorted(REGISTRY)), json_values),
        "params": json_values,
        "id": json_values,
        "last_seq": weird_seqs,
    },
)
frames = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    json_values.map(lambda v: dumps(v).decode()),
    message_dicts.map(lambda v: dumps(v).decode()),
)


def resume_fits(value: Any, last_seq: int) -> bool:
    """Whether the server replays events for this ``last_seq`` (else: a snapshot)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= last_seq


def as_resume(frame: str | bytes) -> tuple[bool, Any]:
    """(whether the server takes this frame as a resume request, its last_seq)."""
    if not isinstance(frame, str):
        return False, None
    try:
        message = json.loads(frame)
        json.dumps(message, ensure_ascii=False).encode()  # no lone surrogates
    except (ValueError, UnicodeError):
        return False, None
    if isinstance(message, dict) and message.get("type") == "resume":
        return True, message.get("last_seq")
    return False, None


def replies_of(sock: Any) -> list[dict[str, Any]]:
    return [m for m in sock.messages if m.get("type") in ("error", "result", "pong")]


@FUZZ
@given(first=st.one_of(weird_seqs, frames), rest=st.lists(frames, max_size=4))
async def test_websocket_survives_random_frames(
    fuzz_cast: Any, db_check: Any, first: Any, rest: list[Any]
) -> None:
    """Every frame gets exactly one reply (an error, a result or a pong), a resume with
    a last_seq the server cannot replay from gets a snapshot, and the server lives on."""
    cast = fuzz_cast
    person = cast.attendees[cast.facilitator_id][0]
    sock = await cast.connect(person, send_resume=False)
    last_seq = cast.server.services.hub.last_seq
    if isinstance(first, str | bytes):
        resumed, seq = as_resume(first)
        await sock.conn.send(first)
    else:
        resumed, seq = True, first
        await sock.conn.send(dumps({"type": "resume", "last_seq": first}).decode())
    for frame in rest:
        await sock.conn.send(frame)
    await sock.conn.send('{"type": "ping"}')
    expected = len(rest) + 1 + (0 if resumed else 1)
    await sock.wait_for(lambda _: len(replies_of(sock)) >= expected)
    await sock.ping()  # nothing more was coming

    replies = replies_of(sock)
    assert len(replies) == expected + 1, sock.messages
    assert replies[-2]["type"] == "pong"
    for reply in replies:
        if reply["type"] == "error":
            assert isinstance(reply["message"], str) and reply["message"]
        if reply["type"] == "result":
            check_result(reply, f"frame result {reply}")
    if not resumed or not resume_fits(seq, last_seq):
        assert sock.messages[0]["type"] == "snapshot", sock.messages[:2]
    else:
        assert all(m["type"] != "snapshot" for m in sock.messages)
    await sock.close()
    fresh = await cast.connect(person)
    await fresh.wait_for(lambda m: m["type"] == "snapshot")
    await fresh.close()
    db_check()


NESTED = [
    "[" * 60_000,
    '{"a":' * 9_000 + "1" + "}" * 9_000,
    '{"text": ' + "[" * 30_000 + "]" * 30_000 + "}",
]


@pytest.mark.parametrize("body", NESTED, ids=["open-arrays", "objects", "closed-arrays"])
async def test_deeply_nested_json_is_refused_plainly(
    fuzz_cast: Any, db_check: Any, body: str
) -> None:
    cast = fuzz_cast
    assert len(body) < 64 * 1024
    response = await post_action(cast, "qa.ask", body.encode(), "application/json")
    joined = await cast.visitor.http.post(
        "/api/join", content=body.encode(), headers={"Content-Type": "application/json"}
    )
    check_response(response, "nested JSON")
    assert response.status_code == 400
    assert joined.status_code == 400
    assert joined.json()["error"]["message"]

    sock = cast.principals["host"].live
    start = len(sock.messages)
    await sock.conn.send(body)
    reply = await sock.wait_for(lambda m: m.get("type") == "error", start=start)
    assert reply["message"] == "That message is not valid JSON."
    assert (await sock.ping())["type"] == "pong"
    db_check()


@pytest.mark.parametrize("kind", ["text", "binary"])
async def test_oversized_frames_close_with_1009(fuzz_cast: Any, kind: str) -> None:
    cast = fuzz_cast
    person = cast.attendees[cast.facilitator_id][0]
    sock = await cast.connect(person)
    await sock.wait_for(lambda m: m["type"] == "snapshot")
    payload = '{"type": "ping", "pad": "' + "x" * (64 * 1024) + '"}'

    await sock.conn.send(payload if kind == "text" else payload.encode())
    with pytest.raises(ConnectionError):
        await sock.wait_for(lambda m: m.get("type") == "pong")

    assert sock.closed_code == 1009
    fresh = await cast.connect(person)
    await fresh.wait_for(lambda m: m["type"] == "snapshot")
    assert (await fresh.ping())["type"] == "pong"


async def test_invalid_utf8_text_frame_closes_only_that_socket(fuzz_cast: Any) -> None:
    cast = fuzz_cast
    person = cast.attendees[cast.facilitator_id][0]
    sock = await cast.connect(person)
    await sock.wait_for(lambda m: m["type"] == "snapshot")

    await sock.conn.send(b'{"type": "\xff\xfe"}', text=True)
    with pytest.raises(ConnectionError):
        await sock.wait_for(lambda m: m.get("type") == "pong")

    assert sock.closed_code == 1007
    fresh = await cast.connect(person)
    await fresh.wait_for(lambda m: m["type"] == "snapshot")


# -- stored hostile text on pages --------------------------------------------------------------


async def check_pages_escape(cast: Any) -> None:
    """Pages and live HTML fragments show stored markup escaped, never as markup."""
    attendee = cast.attendees[cast.facilitator_id][0]
    pages = {
        attendee: ["/live", "/survey"],
        cast.host: ["/host", "/live", "/projector", "/feedback?by=group", "/feedback"],
        cast.organiser: ["/organiser", "/results", "/report"],
    }
    seen_escaped = False
    for person, paths in pages.items():
        for path in paths:
            response = await person.http.get(path)
            assert response.status_code == 200, (path, response.status_code)
            found = RAW_MARKUP.search(response.text)
            assert found is None, (path, response.text[found.start() - 200 : found.end() + 50])
            seen_escaped |= "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
        sock = await cast.connect(person, fmt="html")
        snapshot = await sock.wait_for(lambda m: 'data-snapshot="1"' in m.get("raw", ""))
        assert not RAW_MARKUP.search(snapshot["raw"]), "live HTML snapshot"
        await sock.close()
    assert seen_escaped, "the hostile text was not shown at all"


async def test_stored_markup_is_escaped_on_every_page(fuzz_cast: Any) -> None:
    cast = fuzz_cast
    host = cast.host
    person, pid = await cast.join("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
    sock = await cast.connect(person)
    await sock.wait_for(lambda m: m["type"] == "snapshot")  # a late joiner: in the group
    facilitator = cast.attendees[cast.facilitator_id][0]
    for i, text in enumerate(XSS):  # two askers: 5 questions a minute each at most
        asker = (person, facilitator)[i % 2]
        asked = await asker.act("qa.ask", text=f"Q {text}", key=f"xss-question-{i:04d}")
        assert asked.status_code == 200, asked.text
        qid = asked.json()["question"]["id"]
        replied = await person.act("qa.reply", question_id=qid, text=text, key=f"xss-reply-{i:06d}")
        assert replied.status_code == 200, replied.text
    answer = await host.act("qa.answer", question_id=1, text=XSS[1], key="xss-answer-000001")
    highlight = await host.act("qa.highlight", question_id=1, on=True)
    capture = await facilitator.act("breakout.capture", group=1, topic=0, text=" ".join(XSS))
    point = await person.act("breakout.point", group=1, topic=0, text=XSS[0], key="p" * 20)
    message = await host.act("breakout.message", text=XSS[2])
    star = await host.act("breakout.star", group=1, topic=0, on=True)
    present = await host.act("feedback.present", mode="topic", index=0)
    survey = await person.act("survey.save", overall=5, cover_next=XSS[0], comments=XSS[1])
    for response in (answer, highlight, capture, point, message, star, present, survey):
        assert response.status_code == 200, response.text

    await check_pages_escape(cast)
    # The late joiner's own page, and the same for the HTML live fragments they receive.
    page = await person.http.get("/live")
    assert not RAW_MARKUP.search(page.text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    live = await cast.connect(person, fmt="html")
    await live.wait_for(lambda m: "data-snapshot" in m.get("raw", ""))
    assert (await host.act("qa.highlight", question_id=2, on=True)).status_code == 200
    again = await facilitator.act("breakout.capture", group=1, topic=0, text=XSS[0] + "!")
    assert again.status_code == 200
    await live.wait_for(lambda m: "alert(1)&lt;/script&gt;!" in m.get("raw", ""))
    fragments = [m["raw"] for m in live.messages if "raw" in m]
    # The snapshot, the highlight and the capture: each event led by its own marker (a
    # fold may bring several in one message).
    assert sum(f.count('<div id="live-seq" ') for f in fragments) >= 3
    assert not any(RAW_MARKUP.search(f) for f in fragments)
    assert pid in cast.server.services.breakouts.current.groups[1].members
