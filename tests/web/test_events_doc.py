"""docs/events.md shows the event reference generated from the event models."""

from __future__ import annotations

from pathlib import Path

import pytest

from webinar.domain.events import EVENTS
from webinar.web import events_doc
from webinar.web.actions.core import TRIGGERS

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def test_the_event_reference_in_the_docs_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")

    assert events_doc.updated(text) == text, (
        "docs/events.md is stale: run python -m webinar.web.events_doc docs/events.md"
    )


def test_the_reference_lists_every_event_type_and_its_audiences() -> None:
    reference = events_doc.reference()

    for event in EVENTS:
        audiences = ", ".join(events_doc.AUDIENCES[kind] for kind in event.audiences)
        assert f"| `{event.name}` | {audiences} |" in reference


def test_every_payload_model_has_its_section() -> None:
    reference = events_doc.reference()

    for event in EVENTS:
        assert f"\n#### {event.model.__name__}\n" in reference
    assert "| `edited_by_host` | boolean |" in reference.split("#### Response\n")[1]


def test_the_reference_lists_every_named_trigger() -> None:
    reference = events_doc.triggers_reference()

    for name in TRIGGERS:
        assert f"| `{name}` |" in reference


def test_a_document_without_the_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="substring not found"):
        events_doc.updated("# Events\n")


def test_main_rewrites_a_stale_file_and_leaves_a_current_one(tmp_path: Path) -> None:
    stale = tmp_path / "events.md"
    stale.write_text(
        f"Before.\n\n{events_doc.BEGIN}\nold\n{events_doc.END}\n\nBetween.\n\n"
        f"{events_doc.TRIGGERS_BEGIN}\nold\n{events_doc.TRIGGERS_END}\n\nAfter.\n"
    )

    events_doc.main([str(stale)])
    first = stale.read_text()
    events_doc.main([str(stale)])

    assert first == (
        f"Before.\n\n{events_doc.reference()}\n\nBetween.\n\n"
        f"{events_doc.triggers_reference()}\n\nAfter.\n"
    )
    assert stale.read_text() == first
