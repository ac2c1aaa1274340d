"""The action registry's parameter models: one strict base, unknown fields refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from webinar.web.actions import REGISTRY
from webinar.web.actions.core import ActionError, Strict, parse_params

pytestmark = pytest.mark.unit

#: Actions whose input has fields named by the agenda (a survey's question codes).
OPEN_ENDED = {"survey.save"}


def test_every_action_but_the_survey_save_takes_strict_parameters() -> None:
    loose = {name for name, action in REGISTRY.items() if not issubclass(action.params, Strict)}

    assert loose == OPEN_ENDED


@pytest.mark.parametrize("name", sorted(set(REGISTRY) - OPEN_ENDED))
def test_an_unknown_field_is_refused_with_its_name(name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        REGISTRY[name].params.model_validate({"surplus": 1})

    refused = [
        error["loc"] for error in caught.value.errors() if error["type"] == "extra_forbidden"
    ]
    assert refused == [("surplus",)]


def test_an_unknown_field_alone_is_named_in_a_plain_sentence() -> None:
    with pytest.raises(ActionError) as caught:
        parse_params(REGISTRY["agenda.next"], {"surplus": 1})

    assert (caught.value.status, caught.value.field) == (400, "surplus")
    assert caught.value.message == "'surplus' is not something this action takes."
