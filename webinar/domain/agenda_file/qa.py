"""The optional ``[qa]`` table: the longest question and the words the forum holds back."""

from __future__ import annotations

from collections.abc import Mapping

from webinar.domain.agenda_file.keys import QA_KEYS
from webinar.domain.agenda_file.reader import MISSING, Missing, Reader

#: The longest question when the file does not say.
DEFAULT_MAX_LENGTH = 500


def read_qa(reader: Reader, document: Mapping[str, object]) -> tuple[int, tuple[str, ...]]:
    """The Q&A forum's longest question and word filter (defaults when ``[qa]`` is absent)."""
    qa_value = document.get("qa", MISSING)
    if isinstance(qa_value, Missing):
        return DEFAULT_MAX_LENGTH, ()
    qa_table = reader.table(qa_value, None, "qa", "[qa]")
    if qa_table is None:
        return DEFAULT_MAX_LENGTH, ()
    reader.check_keys(qa_table, QA_KEYS, None, "qa.")
    max_length = reader.whole(
        qa_table,
        "max_length",
        None,
        "qa.max_length",
        low=20,
        high=5000,
        example="max_length = 500",
    )
    word_filter = reader.text_list(
        qa_table,
        "word_filter",
        None,
        "qa.word_filter",
        example='word_filter = ["word", "a phrase"]',
        entry_word="word",
    )
    return max_length or DEFAULT_MAX_LENGTH, tuple(word_filter or ())
