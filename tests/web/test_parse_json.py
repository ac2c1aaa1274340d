"""JSON input: too deep a nesting is invalid input on every Python version."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from webinar.web.api import MAX_DEPTH, parse_json

pytestmark = pytest.mark.unit


def nested_objects(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def nested_arrays(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("make", [nested_objects, nested_arrays], ids=["objects", "arrays"])
def test_nesting_up_to_the_limit_is_read(make: Callable[[int], str]) -> None:
    data = parse_json(make(MAX_DEPTH))

    assert isinstance(data, dict | list)


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 9_000])
def test_deeper_objects_are_invalid_json_whatever_the_python(levels: int) -> None:
    # 9,000 levels of objects: CPython 3.13's parser takes them, 3.11's and 3.12's give up.
    with pytest.raises(ValueError):
        parse_json(nested_objects(levels))


def test_deeper_arrays_beside_shallow_values_are_invalid_json() -> None:
    text = '{"type": "action", "params": {"x": ' + nested_arrays(MAX_DEPTH) + "}}"

    with pytest.raises(ValueError):
        parse_json(text)


def test_a_message_as_screens_send_it_is_read() -> None:
    text = '{"type": "action", "id": "r1", "name": "qa.vote", "params": {"question_id": 4}}'

    assert parse_json(text) == {
        "type": "action",
        "id": "r1",
        "name": "qa.vote",
        "params": {"question_id": 4},
    }
