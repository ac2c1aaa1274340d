"""Live poll actions: hosts write and run polls; attendees (and hosts, to try) answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from webinar.domain import audiences
from webinar.services.polls import SESSION_KEY, new_key, spec_from
from webinar.web.actions.core import Context, Strict, register

ANSWERING = (audiences.ATTENDEE, audiences.HOST)
HOST = (audiences.HOST,)


def _as_list(value: Any) -> Any:
    """A form sends one ticked box as a single value, several as a list."""
    return [] if value == "" else value if isinstance(value, list) else [value]


class PollRef(Strict):
    poll_id: int = Field(ge=1, le=2**53)


class ToggleParams(PollRef):
    on: bool = Field(default=True, description="True to turn it on, false to turn it off.")


class AnswerParams(PollRef):
    choices: list[int] = Field(
        default=[],
        max_length=12,
        description="Choice polls: the indexes of the options chosen (from 0); rating: the value.",
    )
    words: list[str] = Field(
        default=[],
        max_length=3,
        description="Word cloud: one to three words; open text: the answer.",
    )
    key: str | None = Field(
        default=None,
        min_length=16,
        max_length=100,
        description="This browser's poll key (the session's own is used when absent).",
    )

    _lists = field_validator("choices", "words", mode="before")(_as_list)

    @field_validator("words")
    @classmethod
    def _short(cls, words: list[str]) -> list[str]:
        if any(len(w) > 2000 for w in words):
            raise ValueError("each entry must be at most 2000 characters")
        return words


class CreateParams(Strict):
    question: str = Field(max_length=2000, description="What the poll asks.")
    kind: Literal["single", "multiple", "rating", "words", "text", "quiz"]
    options: list[str] = Field(default=[], max_length=12, description="Choice polls' options.")
    options_text: str = Field(
        default="", max_length=20_000, description="The options one per line (the host's form)."
    )
    max_choices: int | None = Field(default=None, ge=1, le=12)
    scale_min: int = Field(default=1, ge=0, le=10)
    scale_max: int = Field(default=5, ge=0, le=10)
    correct: int | None = Field(default=None, ge=1, le=12, description="Quiz: 1 = first option.")
    anonymous: bool = True
    results: Literal["hidden", "live"] = "hidden"
    item_id: str | None = Field(default=None, max_length=100, description="An agenda item id.")

    _lists = field_validator("options", mode="before")(_as_list)

    @field_validator("options")
    @classmethod
    def _short(cls, options: list[str]) -> list[str]:
        if any(len(o) > 2000 for o in options):
            raise ValueError("each option must be at most 2000 characters")
        return options

    @field_validator("item_id", "max_choices", "correct", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if value == "" else value


@register("polls.answer", ANSWERING, AnswerParams, "Answer a poll, or change your answer.")
async def answer(ctx: Context, args: AnswerParams) -> dict[str, Any]:
    stored = ctx.session.get(SESSION_KEY)
    key = args.key or (stored if isinstance(stored, str) else None) or new_key()
    poll, given = await ctx.services.polls.answer(
        ctx.actor, args.poll_id, key, choices=args.choices, words=args.words
    )
    if stored != key:
        ctx.session_updates[SESSION_KEY] = key
    return {"poll_id": poll.id, "answer": list(given), "saved": True}


@register("polls.create", HOST, CreateParams, "Write an ad hoc poll (ready to open).")
async def create(ctx: Context, args: CreateParams) -> dict[str, Any]:
    polls = ctx.services.polls
    fields = args.model_dump()
    if not args.options:
        fields["options"] = args.options_text.splitlines()
    poll = await polls.create(spec_from(fields), args.item_id)
    return {"poll": polls.poll_data(poll, staff=True)}


def _control(name: str, params: type[BaseModel], summary: str) -> None:
    @register(f"polls.{name}", HOST, params, summary)
    async def handler(ctx: Context, args: Any) -> dict[str, Any]:
        polls = ctx.services.polls
        poll = await polls.control(args.poll_id, name, getattr(args, "on", True))
        return {"poll": polls.poll_data(poll, staff=True)}


_control("open", PollRef, "Open a poll for answers (or re-open it, keeping its answers).")
_control("close", PollRef, "Close a poll: no more answers or changes.")
_control("reveal", ToggleParams, "Show the results to attendees (or hide them again).")
_control("project", ToggleParams, "Show a poll on the projector (or take it off).")
_control("reset", PollRef, "Delete a poll's answers and make it ready to run again.")
