"""The vote counts as browsers get them: the smallest JSON that renders the same."""

from __future__ import annotations

import html
import json
import re

import pytest

from helpers import seed_agenda
from webinar.realtime.hub import Event
from webinar.web.render import Encoder, make_environment

pytestmark = pytest.mark.unit

AT = "2026-12-07T10:00:00.000+00:00"


def test_vote_counts_go_as_compact_json_that_reads_back_the_same() -> None:
    agenda = seed_agenda()
    encode = Encoder(make_environment(agenda), agenda)
    counts = {str(qid): qid % 7 for qid in range(100, 150)}

    for fmt in ("html", "html-staff"):
        wire = encode(Event(9, "qa.votes", "all", {"votes": counts}, AT), fmt)
        assert wire is not None
        found = re.search(r"data-votes='([^']*)'", wire)
        assert found is not None
        attribute = found.group(1)
        assert json.loads(html.unescape(attribute)) == counts  # what live.js reads
        assert ", " not in attribute and ": " not in attribute
        # The counts and their attribute, with no character to spare beyond the marker.
        assert len(attribute) == len(json.dumps(counts, separators=(",", ":")))
