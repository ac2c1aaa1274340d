"""Folding against the real server: questions asked within one window reach a screen in
one message, the asker hears back at once, and a resume from inside a fold gets each
event once, in order."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from helpers import PATIENCE, LiveServer, Person, Socket, attendee_of

pytestmark = pytest.mark.integration


async def live(person: Person) -> Socket:
    sock = await person.socket()
    await sock.wait_for(lambda m: m["type"] == "snapshot")
    return sock


def asked(text: str) -> Any:
    return lambda m: m["type"] == "qa.question" and m["data"]["question"].get("text") == text


async def ask(person: Person, text: str) -> float:
    """Ask; the seconds until the acknowledgement (sent after the COMMIT)."""
    start = time.monotonic()
    response = await person.act("qa.ask", text=text, key=uuid.uuid4().hex)
    assert response.status_code == 200, response.text
    return time.monotonic() - start


async def test_questions_within_a_window_arrive_as_one_message_and_acks_do_not_wait(
    server: LiveServer,
) -> None:
    hub = server.services.hub
    hub.fold_seconds = 3.0  # long enough that the asks below all fall in one window
    ann, bob = await attendee_of(server, "Ann"), await attendee_of(server, "Bob")
    screen = await live(bob)

    await ask(ann, "First of the afternoon?")  # after a quiet window: pushed at once
    await screen.wait_for(asked("First of the afternoon?"))
    messages_before = len(screen.batches)
    acks = [await ask(ann, f"Folded question {n}?") for n in range(4)]

    # Each acknowledgement came after its own COMMIT, not after the window's end.
    assert max(acks) < hub.fold_seconds / 2, acks
    await screen.wait_for(asked("Folded question 3?"), timeout=hub.fold_seconds + PATIENCE)
    # The four questions (and anything else committed meanwhile) came in one message.
    assert len(screen.batches) == messages_before + 1
    assert screen.batches[-1] >= 4
    texts = [e["data"]["question"]["text"] for e in screen.events if e["type"] == "qa.question"]
    assert texts[-4:] == [f"Folded question {n}?" for n in range(4)]
    for person in (ann, bob):
        await person.close()


async def test_a_resume_from_inside_a_fold_gets_each_later_event_once_in_order(
    server: LiveServer,
) -> None:
    hub = server.services.hub
    hub.fold_seconds = 2.0
    ann, bob = await attendee_of(server, "Ann"), await attendee_of(server, "Bob")
    cara = await attendee_of(server, "Cara")  # a person may ask only so many a minute
    first = await live(bob)
    await ask(ann, "Opening question?")
    await first.wait_for(asked("Opening question?"))
    for n in range(5):
        await ask((ann, cara)[n % 2], f"Batched {n}?")
    await first.wait_for(asked("Batched 4?"), timeout=hub.fold_seconds + PATIENCE)
    assert first.batches[-1] >= 5
    seqs = [e["seq"] for e in first.events]
    batch = seqs[-first.batches[-1] :]
    await first.close()

    # Bob's phone resumes from the second event of that message: it gets the rest once.
    cut = batch[1]
    second = await bob.socket(last_seq=cut)
    await ask(cara, "After the resume?")  # and live events carry on after the catch-up
    await second.wait_for(asked("After the resume?"), timeout=hub.fold_seconds + PATIENCE)
    again = [e["seq"] for e in second.events]
    assert again[: len(seqs) - seqs.index(cut) - 1] == seqs[seqs.index(cut) + 1 :]
    assert again == sorted(set(again))  # once each, in order
    assert all(e["type"] != "snapshot" for e in second.events)
    for person in (ann, bob, cara):
        await person.close()
