"""What a worker of ``webinar serve --workers N`` believes of a forwarded request."""

from __future__ import annotations

from typing import Any

from webinar.web.forward import (
    CLIENT_HEADER,
    HOST_HEADER,
    PEER_HEADER,
    SCHEME_HEADER,
    as_forwarded,
    internal,
    peer_proof,
    proven,
)

SECRETS = {"peer_secret": "s" * 43}


def scope_with(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {
        "type": "http",
        "scheme": "http",
        "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"127.0.0.1:41000"), (b"cookie", b"a=b"), *headers],
    }


def test_only_the_events_own_proof_is_proven() -> None:
    proof = peer_proof(SECRETS)

    assert proven(scope_with((PEER_HEADER, proof)), proof)
    assert not proven(scope_with(), proof)
    assert not proven(scope_with((PEER_HEADER, b"guess")), proof)
    # Another event's (or another install's) secret proves nothing here.
    assert not proven(scope_with((PEER_HEADER, peer_proof({"peer_secret": "t" * 43}))), proof)


def test_a_forwarded_request_is_seen_as_the_client_sent_it() -> None:
    scope = scope_with(
        (PEER_HEADER, peer_proof(SECRETS)),
        (CLIENT_HEADER, b"203.0.113.9"),
        (SCHEME_HEADER, b"https"),
        (HOST_HEADER, b"webinar.example.org"),
    )

    seen = as_forwarded(scope)

    assert seen["client"] == ("203.0.113.9", 0)
    assert seen["scheme"] == "https"
    assert seen["headers"] == [(b"cookie", b"a=b"), (b"host", b"webinar.example.org")]
    assert not internal(seen)


def test_a_scheme_that_is_not_one_is_ignored() -> None:
    seen = as_forwarded(scope_with((SCHEME_HEADER, b"javascript")))

    assert seen["scheme"] == "http"
    assert seen["client"] is None  # no address claimed: none believed


def test_any_internal_header_marks_a_request_as_internal() -> None:
    assert not internal(scope_with())
    for name in (PEER_HEADER, CLIENT_HEADER, SCHEME_HEADER, HOST_HEADER):
        assert internal(scope_with((name, b"x")))
