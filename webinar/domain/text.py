"""What typed text may hold (the one control-character check every input uses), and the
event's word filter (whole words or phrases, any case), which Q&A and polls share."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: What multi-line text may hold besides printable characters: line breaks (a browser's
#: form sends CR LF) and tabs.
LINE_BREAKS_AND_TABS = "\n\r\t"


def has_control_character(text: str, *, allow: str = "") -> bool:
    """Whether ``text`` holds a control character (Unicode category Cc) or a lone
    surrogate (Cs, which no UTF-8 page, file or database row can hold), apart from the
    characters in ``allow``. Single-line text allows none; multi-line text allows
    :data:`LINE_BREAKS_AND_TABS`."""
    return any(ch not in allow and unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def matches_filter(text: str, words: Iterable[str]) -> bool:
    """Whether ``text`` contains any filter word or phrase, as whole words, any case."""
    folded = " ".join(text.casefold().split())
    for word in words:
        word = " ".join(word.casefold().split())
        if word and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", folded):
            return True
    return False
