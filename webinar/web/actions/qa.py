"""Q&A forum actions: attendees ask, vote, reply, edit their own; hosts moderate."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from webinar.domain import audiences
from webinar.web.actions.core import Context, Strict, register

ATTENDEES = (audiences.ATTENDEE, audiences.HOST)
HOST = (audiences.HOST,)

Key = Field(
    min_length=16,
    max_length=100,
    description="A random key the client makes for this submit; a retry sends the same key.",
)


class AskParams(Strict):
    text: str = Field(max_length=20_000, description="The question (the forum's limit applies).")
    key: str = Key
    anonymous: bool = Field(default=False, description="Store no name with the question.")
    item_id: str | None = Field(default=None, max_length=100, description="A Q&A item id.")


class QuestionParams(Strict):
    question_id: int = Field(ge=1)


class EditParams(QuestionParams):
    text: str = Field(max_length=20_000)


class VoteParams(QuestionParams):
    on: bool = Field(default=True, description="True to vote, false to withdraw the vote.")


class ReplyParams(QuestionParams):
    text: str = Field(max_length=20_000)
    key: str = Key
    anonymous: bool = False


class ReplyRefParams(QuestionParams):
    reply_id: int = Field(ge=1, description="One of the question's replies.")


class ToggleParams(QuestionParams):
    on: bool = True


class RejectParams(QuestionParams):
    reason: Literal["duplicate", "off_topic", "identifying", "inappropriate", "other"]


class MergeParams(QuestionParams):
    into: int = Field(ge=1, description="The question that keeps the combined votes.")


class CarryParams(Strict):
    from_item: str = Field(min_length=1, max_length=100)
    to_item: str = Field(min_length=1, max_length=100)


class ConfigureParams(Strict):
    open: bool | None = None
    moderation: bool | None = None


@register("qa.ask", ATTENDEES, AskParams, "Ask a question (exactly once per key).")
async def ask(ctx: Context, args: AskParams) -> dict[str, Any]:
    qa = ctx.services.qa
    question, created = await qa.ask(
        ctx.actor, args.text, args.key, anonymous=args.anonymous, item_id=args.item_id
    )
    ctx.new_keys.append(args.key)
    ctx.announce("webinar:asked", {"state": question.state})
    return {"question": qa.owner_data(question), "created": created}


@register("qa.edit", ATTENDEES, EditParams, "Edit your own question before it is answered.")
async def edit(ctx: Context, args: EditParams) -> dict[str, Any]:
    qa = ctx.services.qa
    question = await qa.edit_own(ctx.actor, ctx.own_keys, args.question_id, args.text)
    return {"question": qa.owner_data(question)}


@register("qa.vote", ATTENDEES, VoteParams, "Vote for a question, or withdraw your vote.")
async def vote(ctx: Context, args: VoteParams) -> dict[str, Any]:
    count = await ctx.services.qa.vote(ctx.actor, args.question_id, args.on)
    result = {"question_id": args.question_id, "voted": args.on, "votes": count}
    ctx.announce("webinar:voted", result)
    return result


@register("qa.reply", ATTENDEES, ReplyParams, "Reply under a question.")
async def reply(ctx: Context, args: ReplyParams) -> dict[str, Any]:
    done = await ctx.services.qa.reply(
        ctx.actor, args.question_id, args.text, args.key, anonymous=args.anonymous
    )
    return {"reply": {"id": done.id, "question_id": done.question_id, "text": done.text}}


@register("qa.answer", HOST, ReplyParams, "Give the written answer to a question.")
async def answer(ctx: Context, args: ReplyParams) -> dict[str, Any]:
    qa = ctx.services.qa
    await qa.reply(ctx.actor, args.question_id, args.text, args.key, is_answer=True)
    return {"question": qa.question_data(qa.questions[args.question_id], staff=True)}


def _moderation(name: str, params: type[BaseModel], summary: str) -> None:
    @register(f"qa.{name}", HOST, params, summary)
    async def handler(ctx: Context, args: Any) -> dict[str, Any]:
        extra = args.model_dump(exclude={"question_id"})
        op = "edit" if name == "correct" else name
        question = await ctx.services.qa.moderate(args.question_id, op, **extra)
        return {"question": ctx.services.qa.question_data(question, staff=True)}


_moderation("approve", QuestionParams, "Publish a pending question.")
_moderation("reject", RejectParams, "Decline a question, with a reason the author sees.")
_moderation("hide", QuestionParams, "Hide a published question from attendees.")
_moderation("unhide", QuestionParams, "Show a hidden question again.")
_moderation("correct", EditParams, "Correct a question's wording (shown as edited by host).")
_moderation("highlight", ToggleParams, "Highlight the question being answered now.")
_moderation("pin", ToggleParams, "Pin a question to the top of the list.")
_moderation("answered_live", ToggleParams, "Mark a question as answered live.")


def _reply_visibility(name: str, hidden: bool, summary: str) -> None:
    @register(f"qa.{name}", HOST, ReplyRefParams, summary)
    async def handler(ctx: Context, args: ReplyRefParams) -> dict[str, Any]:
        qa = ctx.services.qa
        await qa.hide_reply(args.question_id, args.reply_id, hidden)
        return {"question": qa.question_data(qa.questions[args.question_id], staff=True)}


_reply_visibility("hide_reply", True, "Hide a reply from attendees (it may name someone).")
_reply_visibility("unhide_reply", False, "Show a hidden reply again.")


@register("qa.merge", HOST, MergeParams, "Merge a duplicate into another question.")
async def merge(ctx: Context, args: MergeParams) -> dict[str, Any]:
    question = await ctx.services.qa.merge(args.question_id, args.into)
    return {"question": ctx.services.qa.question_data(question, staff=True)}


@register("qa.carry_over", HOST, CarryParams, "Move unanswered questions to a later Q&A item.")
async def carry_over(ctx: Context, args: CarryParams) -> dict[str, Any]:
    moved = await ctx.services.qa.carry_over(args.from_item, args.to_item)
    return {"moved": moved}


@register("qa.configure", HOST, ConfigureParams, "Open or close the forum; turn moderation on.")
async def configure(ctx: Context, args: ConfigureParams) -> dict[str, Any]:
    await ctx.services.qa.configure(open=args.open, moderation=args.moderation)
    return {"settings": ctx.services.qa.settings_data()}
