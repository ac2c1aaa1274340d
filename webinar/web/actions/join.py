"""``POST /api/join``'s parameters: checked by pydantic like every action's, though joining
is not an action (no one has joined yet, so it is not in the registry)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from webinar.services.access import NAME_MAX, ORGANISATION_MAX
from webinar.web.actions.core import ActionError, Strict


def _code_and_name_required(schema: dict[str, Any]) -> None:
    """The document says what joining needs: a code and a name."""
    schema["required"] = ["code", "name"]
    for field in schema["required"]:
        schema["properties"][field].pop("default", None)


class JoinParams(Strict):
    """The event code from the invitation, your name and, if you like, where you work."""

    # A missing text is empty, so its refusal is the service's sentence ("Please enter
    # your name."); lengths are checked there too, after spaces are tidied, and only
    # declared here.
    model_config = ConfigDict(json_schema_extra=_code_and_name_required)

    code: str = Field(default="", description="The event code from the invitation.")
    name: str = Field(
        default="",
        description="Your name, as others see it.",
        json_schema_extra={"maxLength": NAME_MAX},
    )
    organisation: str = Field(
        default="",
        description="Where you work (optional).",
        json_schema_extra={"maxLength": ORGANISATION_MAX},
    )


def join_params(raw: Mapping[str, Any], *, form: bool = False) -> JoinParams:
    """The parameters of a join; ``ActionError(400)`` naming the first field in error.

    JSON must give texts as texts; form fields are texts already (a repeated one is a list,
    and refused as a JSON number is).
    """
    try:
        return JoinParams.model_validate(dict(raw), strict=not form)
    except ValidationError as exc:
        message, field = _refusal(exc.errors())
        raise ActionError(400, message, field) from None


def _refusal(errors: Sequence[ErrorDetails]) -> tuple[str, str]:
    """A field that is not text comes first, in the model's order; else the unknown field
    first in alphabetical order."""
    wrong = [str(error["loc"][0]) for error in errors if error["type"] != "extra_forbidden"]
    if wrong:
        return f"'{wrong[0]}' must be text.", wrong[0]
    unknown = min(str(error["loc"][0]) for error in errors)
    return f"'{unknown}' is not something joining takes.", unknown
