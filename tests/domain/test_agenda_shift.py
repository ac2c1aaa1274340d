"""Moving an agenda in time for a rehearsal."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from webinar.domain.agenda import shifted
from webinar.services.agenda_files import SEED_AGENDA, load_agenda

pytestmark = pytest.mark.unit


def test_shifted_agenda_keeps_lengths_gaps_and_ids() -> None:
    agenda = load_agenda(SEED_AGENDA, today=date(2026, 3, 4))
    start = agenda.planned_start + timedelta(hours=4, minutes=7)

    moved = shifted(agenda, start)

    assert moved.planned_start == start
    assert [i.duration for i in moved.items] == [i.duration for i in agenda.items]
    assert [i.id for i in moved.items] == [i.id for i in agenda.items]
    assert moved.index_of("lcspr-breakout") == agenda.index_of("lcspr-breakout")
    assert moved.planned_end - moved.planned_start == agenda.planned_end - agenda.planned_start
    assert agenda.planned_start.hour == 10  # the original is unchanged
