"""``POST /api/join``'s parameters go through pydantic (JoinParams) with the sentences
joining always gave."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webinar.web.actions.core import ActionError
from webinar.web.actions.join import JoinParams, join_params
from webinar.web.openapi import openapi_document

pytestmark = pytest.mark.unit

FIELDS = ("code", "name", "organisation")


def refusal_before(raw: dict[str, Any]) -> tuple[str, str] | None:
    """What ``/api/join`` answered before pydantic read its parameters (issue 12, item 8)."""
    fields = {k: raw.get(k, "") for k in FIELDS}
    bad = [k for k, v in fields.items() if not isinstance(v, str)]
    if bad:
        return f"'{bad[0]}' must be text.", bad[0]
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        return f"'{unknown[0]}' is not something joining takes.", unknown[0]
    return None


def refusal_now(raw: dict[str, Any], *, form: bool = False) -> tuple[str, str] | None:
    try:
        join_params(raw, form=form)
    except ActionError as exc:
        assert exc.status == 400 and exc.field is not None
        return exc.message, exc.field
    return None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
KEYS = st.sampled_from([*FIELDS, "role", "Name", "aaa", "zz", "csrf", ""]) | st.text(max_size=6)


@settings(max_examples=500, deadline=None)
@given(raw=st.dictionaries(KEYS, JSON_VALUES, max_size=6))
def test_json_input_is_refused_as_before(raw: dict[str, Any]) -> None:
    assert refusal_now(raw) == refusal_before(raw)


@settings(max_examples=300, deadline=None)
@given(
    raw=st.dictionaries(
        KEYS, st.text(max_size=10) | st.lists(st.text(max_size=5), min_size=2, max_size=3)
    )
)
def test_form_input_is_refused_as_before(raw: dict[str, Any]) -> None:
    # A form's fields are texts; a repeated field arrives as a list of them.
    assert refusal_now(raw, form=True) == refusal_before(raw)


def test_a_field_that_is_not_text_comes_before_an_unknown_one() -> None:
    assert refusal_now({"role": "host", "organisation": 5, "name": ["A"]}) == (
        "'name' must be text.",
        "name",
    )


def test_missing_texts_are_empty_for_the_service_to_ask_for() -> None:
    assert join_params({}) == JoinParams(code="", name="", organisation="")
    assert join_params({"code": "AB12", "name": "Ann"}).organisation == ""


def test_the_document_declares_the_model() -> None:
    body = openapi_document()["paths"]["/api/join"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]

    assert schema == JoinParams.model_json_schema()
    assert (schema["required"], schema["additionalProperties"]) == (["code", "name"], False)
    assert [schema["properties"][f]["maxLength"] for f in ("name", "organisation")] == [80, 120]
