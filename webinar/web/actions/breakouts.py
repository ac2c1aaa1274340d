"""Breakout actions: members volunteer, add points and ask for help; facilitators capture;
hosts message, move people and (re)assign facilitators."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from webinar.domain import audiences
from webinar.web.actions.core import Context, NoParams, Strict, register

MEMBERS = (audiences.ATTENDEE,)
HOST = (audiences.HOST,)


class CaptureParams(Strict):
    group: int = Field(ge=1, description="Your group's number (checked against yours).")
    topic: int = Field(ge=0, description="The topic's index in the agenda, from 0.")
    text: str = Field(max_length=20_000, description="The whole response so far.")


class PointParams(Strict):
    group: int = Field(ge=1)
    topic: int = Field(ge=0)
    text: str = Field(max_length=2_000)
    key: str = Field(min_length=16, max_length=100)


class HelpParams(Strict):
    on: bool = True


class MessageParams(Strict):
    text: str = Field(max_length=2_000)


class MoveParams(Strict):
    participant_id: str = Field(min_length=1, max_length=100)
    group: int = Field(ge=1)


class FacilitatorParams(Strict):
    group: int = Field(ge=1)
    participant_id: str | None = Field(default=None, max_length=100)


class GroupParams(Strict):
    group: int = Field(ge=1)


@register("breakout.volunteer", MEMBERS, NoParams, "Become your group's facilitator.")
async def volunteer(ctx: Context, args: NoParams) -> dict[str, Any]:
    group = await ctx.services.breakouts.volunteer(ctx.actor)
    return {"group": group.number, "facilitator": group.facilitator_id}


@register("breakout.capture", MEMBERS, CaptureParams, "Save your group's response to a topic.")
async def capture(ctx: Context, args: CaptureParams) -> dict[str, Any]:
    version = await ctx.services.breakouts.capture(ctx.actor, args.group, args.topic, args.text)
    return {"group": args.group, "topic": args.topic, "version": version}


@register("breakout.point", MEMBERS, PointParams, "Add a point for your facilitator.")
async def point(ctx: Context, args: PointParams) -> dict[str, Any]:
    added = await ctx.services.breakouts.add_point(
        ctx.actor, args.group, args.topic, args.text, args.key
    )
    return {"added": added}


@register("breakout.help", MEMBERS, HelpParams, "Ask the host for help (or withdraw).")
async def ask_help(ctx: Context, args: HelpParams) -> dict[str, Any]:
    await ctx.services.breakouts.ask_help(ctx.actor, args.on)
    return {"help": args.on}


@register("breakout.message", HOST, MessageParams, "Send a message to every group.")
async def message(ctx: Context, args: MessageParams) -> dict[str, Any]:
    await ctx.services.breakouts.message_all(args.text)
    return {"sent": True}


@register("breakout.move", HOST, MoveParams, "Move a person to another group.")
async def move(ctx: Context, args: MoveParams) -> dict[str, Any]:
    await ctx.services.breakouts.move(args.participant_id, args.group)
    return {"moved": True}


@register("breakout.facilitator", HOST, FacilitatorParams, "Choose a group's facilitator.")
async def facilitator(ctx: Context, args: FacilitatorParams) -> dict[str, Any]:
    group = await ctx.services.breakouts.assign_facilitator(args.group, args.participant_id)
    return {"group": group.number, "facilitator": group.facilitator_id}


@register("breakout.clear_help", HOST, GroupParams, "Mark a group's help request as dealt with.")
async def clear_help(ctx: Context, args: GroupParams) -> dict[str, Any]:
    await ctx.services.breakouts.clear_help(args.group)
    return {"help": False}


class StarParams(Strict):
    group: int = Field(ge=1)
    topic: int = Field(ge=0)
    on: bool = True


class CorrectParams(Strict):
    group: int = Field(ge=1)
    topic: int = Field(ge=0)
    text: str = Field(max_length=20_000, description="The corrected response, whole.")
    version: int | None = Field(
        default=None, ge=0, description="The version corrected; 409 if the group saved since."
    )


class PresentParams(Strict):
    mode: Literal["topic", "group", "off"]
    index: int = Field(default=0, ge=0)


@register(
    "breakout.correct",
    HOST,
    CorrectParams,
    "Correct a group's response (e.g. take out a name), even after the breakout.",
)
async def correct(ctx: Context, args: CorrectParams) -> dict[str, Any]:
    version = await ctx.services.breakouts.correct(args.group, args.topic, args.text, args.version)
    return {"version": version}


@register("breakout.star", HOST, StarParams, "Star a group's response to discuss it.")
async def star(ctx: Context, args: StarParams) -> dict[str, Any]:
    await ctx.services.breakouts.star(args.group, args.topic, args.on)
    return {"starred": args.on}


@register("feedback.present", HOST, PresentParams, "Show a topic or a group on the projector.")
async def present(ctx: Context, args: PresentParams) -> dict[str, Any]:
    return {"present": await ctx.services.breakouts.present(args.mode, args.index)}
