"""Characters per event on the wire: a storm question and a vote count, in each format.

Renders through the app's own encoder (``webinar.web.render.Encoder``) with the seed
agenda, as the hub does for every screen; no server. Run from the repository root::

    python bench/wire_sizes.py                  # this tree
    PYTHONPATH=DIR python bench/wire_sizes.py   # another tree (e.g. ``git archive``'d)
    python bench/wire_sizes.py --show           # and the wires themselves
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from webinar.realtime.hub import Event
from webinar.services.agenda_files import SEED_AGENDA, load_agenda
from webinar.web.render import Encoder, make_environment

AT = "2026-12-07T10:00:00.123+00:00"
#: As bench/load.py asks it: 160 characters.
TEXT = (
    "Load test question #1-abcdef12 sent at 1765100000.123456: "
    + "how should partnerships choose a proportionate review method? " * 3
)[:160].rstrip()


def events(counts: int) -> list[tuple[str, Event, tuple[str, ...]]]:
    question = {
        "id": 123,
        "item_id": "qa-1",
        "text": TEXT,
        "author": "Attendee 17",
        "organisation": "Org 3",
        "anonymous": False,
        "state": "published",
        "votes": 0,
        "answered": "",
        "highlighted": False,
        "pinned": False,
        "edited_by_host": False,
        "created_at": AT,
        "replies": [],
    }
    staff = {**question, "held_by_filter": False, "reject_reason": "", "merged_into": None}
    counters = {"received": 123, "published": 120, "answered": 4}
    public = {"question": question, "removed": False, "new": True, "counters": counters}
    votes = {"votes": {str(qid): qid % 40 for qid in range(100, 100 + counts)}}
    return [
        ("qa.question to all", Event(2, "qa.question", "all", public, AT), ("json", "html")),
        (
            "qa.question to staff",
            Event(1, "qa.question", "staff", {"question": staff, "counters": counters}, AT),
            ("json", "html-staff"),
        ),
        (
            f"qa.votes, {counts} counts",
            Event(3, "qa.votes", "all", votes, AT),
            ("json", "html", "html-staff"),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, default=10, help="Vote counts in qa.votes.")
    parser.add_argument("--show", action="store_true", help="Print the wires too.")
    args = parser.parse_args(argv)
    agenda = load_agenda(SEED_AGENDA, today=date.today())
    encode = Encoder(make_environment(agenda), agenda)
    for name, event, formats in events(args.counts):
        for fmt in formats:
            wire = encode(event, fmt)
            print(f"{name:24} {fmt:11} {len(wire) if wire else 0:6,}")
            if args.show and wire:
                print(wire, end="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
