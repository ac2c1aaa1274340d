"""The stage and group calls as pure data: addresses, origins, rooms, tokens, checksums."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from webinar.domain.video import (
    NO_STAGE,
    CallSettings,
    Stage,
    address_problem,
    bbb_api,
    bbb_checksum,
    bbb_url,
    jitsi_claims,
    jitsi_subject,
    origin_of,
    origins_of,
    room_name,
    stage_for,
    token_expiry,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
KEY = b"k" * 32
SECRET = "a-jitsi-app-secret-of-enough-length-for-hs256"

# The example of BigBlueButton's API documentation ("API Security"): this secret and query
# string give this checksum for the create call.
BBB_DOC_SECRET = "639259d4-9dd8-4b25-bf01-95f9567eaf4b"
BBB_DOC_QUERY = "name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444"
BBB_DOC_CHECKSUM = "1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17"


def test_address_https_is_accepted() -> None:
    assert address_problem("https://meet.example.org/room", "https://x") is None


def test_address_http_is_accepted_for_loopback_only() -> None:
    assert address_problem("http://127.0.0.1:8080/s", "https://x") is None
    assert address_problem("http://localhost:9000/", "https://x") is None
    assert address_problem("http://[::1]:9000/", "https://x") is None
    refused = address_problem("http://stream.example.org/live.m3u8", "https://x")
    assert refused is not None
    assert "only allowed for this computer" in refused


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "ftp://x.example", "https://", "https://a b.example", "//x.example"],
)
def test_address_that_is_not_web_is_refused(url: str) -> None:
    problem = address_problem(url, "https://x")

    assert problem is not None
    assert "https://" in problem


def test_address_with_credentials_is_refused() -> None:
    problem = address_problem("https://user:pw@meet.example.org/", "https://x")

    assert problem is not None
    assert "password" in problem


def test_address_with_bad_port_is_a_sentence_not_an_error() -> None:
    problem = address_problem("https://meet.example.org:99999999/", "https://x")

    assert problem is not None


def test_origin_drops_path_default_port_and_case() -> None:
    assert origin_of("https://Meet.Example.org:443/a?b") == "https://meet.example.org"
    assert origin_of("http://127.0.0.1:8081/live.m3u8") == "http://127.0.0.1:8081"
    assert origin_of("http://[::1]:9/") == "http://[::1]:9"


def test_stage_for_item_overrides_event_and_breakout_shows_none() -> None:
    event = Stage("youtube", "https://www.youtube-nocookie.com/embed/a")
    own = Stage("hls", "https://cdn.example.org/live.m3u8")

    assert stage_for(event, None, "talk") == event
    assert stage_for(event, own, "talk") == own
    assert stage_for(event, NO_STAGE, "talk") is None
    assert stage_for(event, None, "breakout") is None
    assert stage_for(event, own, "breakout") == own


def test_origins_are_exactly_those_configured() -> None:
    stages = [
        Stage("youtube", "https://www.youtube-nocookie.com/embed/a"),
        Stage("vimeo", "https://player.vimeo.com/video/1"),
        Stage("hls", "https://cdn.example.org/live/a.m3u8"),
        Stage("teams", "https://teams.microsoft.com/l/meetup-join/x"),
    ]
    calls = [
        CallSettings("jitsi", "https://meet.example.org"),
        CallSettings("link", "https://video.example.org/{group}"),
    ]

    origins = origins_of(stages, calls)

    assert origins.frames == (
        "https://meet.example.org",
        "https://player.vimeo.com",
        "https://www.youtube-nocookie.com",
    )
    assert origins.streams == ("https://cdn.example.org",)
    assert origins.calls == ("https://meet.example.org",)


def test_room_names_differ_by_round_group_item_and_event() -> None:
    names = {
        room_name(KEY, event, item, round_id, group)
        for event in ("e1", "e2")
        for item in ("breakout-a", "breakout-b")
        for round_id in range(1, 4)
        for group in range(1, 11)
    }

    assert len(names) == 2 * 2 * 3 * 10
    assert all(len(n) == 28 and n == n.lower() and n.isalnum() for n in names)


@given(code=st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=6, max_size=10))
def test_room_names_are_not_derivable_from_the_event_code(code: str) -> None:
    # Whoever knows the code (every attendee) and the round and group still cannot name
    # the room: the key is the server's own, and a different key gives another name.
    real = room_name(KEY, "event", "breakout", 1, 2)

    assert room_name(code.encode(), "event", "breakout", 1, 2) != real
    assert room_name(KEY, code, "breakout", 1, 2) != real
    assert code.lower() not in real


def test_jitsi_claims_verify_with_pyjwt_and_name_the_room() -> None:
    claims = jitsi_claims(
        app_id="webinar",
        audience="jitsi",
        subject="meet.example.org",
        room="wbroom",
        name="Ann Example",
        moderator=False,
        now=NOW,
        expires=NOW + timedelta(minutes=25),
    )
    token = jwt.encode(claims, SECRET, algorithm="HS256")

    decoded = jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        audience="jitsi",
        issuer="webinar",
        options={"require": ["exp", "aud", "iss", "sub", "room"], "verify_exp": False},
    )

    assert decoded["room"] == "wbroom"
    assert decoded["sub"] == "meet.example.org"
    assert decoded["exp"] == int((NOW + timedelta(minutes=25)).timestamp())
    assert decoded["context"]["user"] == {
        "name": "Ann Example",
        "moderator": False,
        "affiliation": "member",
    }


def test_jitsi_claims_mark_moderator_only_when_asked() -> None:
    def user(moderator: bool) -> dict[str, object]:
        claims = jitsi_claims(
            app_id="a",
            audience="jitsi",
            subject="s",
            room="r",
            name="N",
            moderator=moderator,
            now=NOW,
            expires=NOW + timedelta(minutes=10),
        )
        result: dict[str, object] = claims["context"]["user"]
        return result

    assert user(True)["moderator"] is True
    assert user(True)["affiliation"] == "owner"
    assert user(False)["moderator"] is False


def test_jitsi_claims_hold_no_identifier_but_the_display_name() -> None:
    claims = jitsi_claims(
        app_id="a",
        audience="jitsi",
        subject="s",
        room="r",
        name="Ann",
        moderator=False,
        now=NOW,
        expires=NOW + timedelta(minutes=10),
    )

    assert set(claims) == {"iss", "aud", "sub", "room", "iat", "nbf", "exp", "context"}
    assert set(claims["context"]["user"]) == {"name", "moderator", "affiliation"}


def test_jitsi_token_expires_after_end_within_bounds() -> None:
    assert token_expiry(NOW, NOW + timedelta(minutes=20)) == NOW + timedelta(minutes=25)
    assert token_expiry(NOW, NOW - timedelta(minutes=1)) == NOW + timedelta(minutes=5)
    assert token_expiry(NOW, NOW + timedelta(hours=9)) == NOW + timedelta(hours=3)
    assert token_expiry(NOW, None) == NOW + timedelta(minutes=5)


def test_jitsi_subject_is_tenant_or_domain() -> None:
    assert jitsi_subject("https://Meet.Example.org") == "meet.example.org"
    assert jitsi_subject("https://meet.example.org/Safeguarding/") == "safeguarding"


def test_bbb_checksum_matches_the_api_documentation_example() -> None:
    assert bbb_checksum("create", BBB_DOC_QUERY, BBB_DOC_SECRET) == BBB_DOC_CHECKSUM


def test_bbb_checksum_sha256_is_the_same_string_hashed_with_sha256() -> None:
    expected = hashlib.sha256(f"create{BBB_DOC_QUERY}{BBB_DOC_SECRET}".encode()).hexdigest()

    assert bbb_checksum("create", BBB_DOC_QUERY, BBB_DOC_SECRET, "sha256") == expected


def test_bbb_url_reproduces_the_documentation_example() -> None:
    params = [
        ("name", "Test Meeting"),
        ("meetingID", "abc123"),
        ("attendeePW", "111222"),
        ("moderatorPW", "333444"),
    ]

    url = bbb_url("https://bbb.example.org/bigbluebutton/", "create", params, BBB_DOC_SECRET)

    assert url == (
        "https://bbb.example.org/bigbluebutton/api/create?"
        f"{BBB_DOC_QUERY}&checksum={BBB_DOC_CHECKSUM}"
    )


def test_bbb_url_encodes_names_and_checksums_the_encoded_string() -> None:
    url = bbb_url("https://b.example", "join", [("fullName", "Zoë & Co")], "s")
    query = urlsplit(url).query

    assert query.startswith("fullName=Zo%C3%AB+%26+Co&checksum=")
    assert dict(parse_qsl(query))["checksum"] == bbb_checksum(
        "join", "fullName=Zo%C3%AB+%26+Co", "s"
    )


def test_bbb_api_root_from_any_common_form() -> None:
    expected = "https://b.example/bigbluebutton/api/"

    assert bbb_api("https://b.example") == expected
    assert bbb_api("https://b.example/bigbluebutton/") == expected
    assert bbb_api("https://b.example/bigbluebutton/api") == expected
