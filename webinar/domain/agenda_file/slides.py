"""An item's ``[[items.slides]]``: each slide's title and body."""

from __future__ import annotations

from webinar.domain.agenda import Slide
from webinar.domain.agenda_file.keys import ITEM_KEYS, SLIDE_KEYS
from webinar.domain.agenda_file.reader import Reader

_ELSEWHERE = {
    key: "it belongs to the item, so move it above the item's first [[items.slides]] line"
    for key in ITEM_KEYS
    if key not in SLIDE_KEYS
}


def read_slides(reader: Reader, label: str, value: object) -> tuple[Slide, ...]:
    """The slides of the item ``label``; a slide without a usable title is left out."""
    entries = reader.table_list(value, label, "slides", "[[items.slides]]")
    slides: list[Slide] = []
    for number, entry in entries or ():
        if entry is None:
            continue
        prefix = f"slides[{number}]."
        reader.check_keys(entry, SLIDE_KEYS, label, prefix, elsewhere=_ELSEWHERE)
        title = reader.text(
            entry, "title", label, prefix + "title", required=True, hint="; give the slide a title"
        )
        body = reader.text(entry, "body", label, prefix + "body")
        if title is not None:
            slides.append(Slide(title=title.strip(), body=body or ""))
    return tuple(slides)
