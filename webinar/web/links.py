"""The links people use: the attendee link and code, the secret host and organiser links."""

from __future__ import annotations

from collections.abc import Mapping


def links_for(base_url: str, secrets: Mapping[str, str]) -> dict[str, str]:
    """The links for ``secrets`` (join code and link tokens) at ``base_url``."""
    base = base_url.rstrip("/")
    code = secrets["join_code"]
    return {
        "code": code,
        "attendee": f"{base}/join?code={code}",
        "host": f"{base}/enter/host/{secrets['host_token']}",
        "organiser": f"{base}/enter/organiser/{secrets['organiser_token']}",
        "projector": f"{base}/projector",
    }
