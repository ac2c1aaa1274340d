"""The Q&A forum service: ask, vote, reply, moderate, answer; live and exactly once.

Questions and replies are cached in memory (an event has a few thousand at most) and
written through to the database. Each change is computed from the cache inside its
transaction and applied to the cache as it is written (see ``Committer.commit``), so changes
in one batch build on each other; screens hear of it only after COMMIT.

Exactly once: every question and reply carries a client-generated key; its hash is
unique in the database, so a retried submit returns the first result instead of
storing a second row. An anonymous question stores no author id, name or organisation:
only that hash, which the author's session can prove by holding the key.

Votes are committed one by one (each vote is acknowledged only once durable) but
announced in batches: a flusher publishes the changed counts at most every
``VOTE_FLUSH_SECONDS``, so a burst of votes is a few events, not one per vote.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from webinar.domain import audiences, qa
from webinar.domain import events as payloads
from webinar.domain.agenda import Agenda
from webinar.domain.qa import QAError, QASettings, Question, RateLimiter
from webinar.services.access import Participant
from webinar.services.agenda import AgendaService
from webinar.services.background import Background
from webinar.services.commit import Committer, Outgoing, iso
from webinar.storage import qa_repo, repo
from webinar.storage.db import Tx
from webinar.storage.qa_repo import Reply

log = logging.getLogger(__name__)

VOTE_FLUSH_SECONDS = 0.5
KEY_MIN, KEY_MAX = 16, 100


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY_MIN <= len(key) <= KEY_MAX:
        raise QAError(
            f"The request key must be {KEY_MIN} to {KEY_MAX} characters. Reload the page.",
            field="key",
        )
    return key


class QAService:
    def __init__(self, agenda: Agenda, committer: Committer, agenda_service: AgendaService) -> None:
        self.agenda = agenda
        self.committer = committer
        self.agenda_service = agenda_service
        self.settings = QASettings(
            moderation=agenda.moderation,
            max_length=agenda.qa_max_length,
            word_filter=agenda.qa_word_filter,
        )
        self.questions: dict[int, Question] = {}
        self.replies: dict[int, list[Reply]] = {}
        self.counters = {"received": 0, "published": 0, "answered": 0}
        self.limits = {
            "question": RateLimiter(5, timedelta(minutes=1)),
            "reply": RateLimiter(10, timedelta(minutes=1)),
            "vote": RateLimiter(120, timedelta(minutes=1)),
        }
        self._dirty_votes: set[int] = set()
        self._flusher = Background("qa-vote-flusher", self._run_flusher)
        self._wake = asyncio.Event()
        #: Called with (participant id, question id) when someone becomes an owner, so
        #: their open screens also receive the question's private updates.
        self.on_owner: list[Callable[[str, int], None]] = []

    # -- loading and views ---------------------------------------------------------------

    async def load(self) -> None:
        stored = await qa_repo.settings(self.committer.db)
        self.settings = replace(
            self.settings,
            open=stored.get("qa.open", "1") == "1",
            moderation=stored.get("qa.moderation", "1" if self.agenda.moderation else "0") == "1",
        )
        self.questions = {q.id: q for q in await qa_repo.all_questions(self.committer.db)}
        self.replies = {}
        for reply in await qa_repo.all_replies(self.committer.db):
            self.replies.setdefault(reply.question_id, []).append(reply)
        self.counters = _count(self.questions.values())
        self._forget_unwritten_questions()

    def _forget_unwritten_questions(self) -> None:
        """After a failed COMMIT: an author's screens may have been given the audience of
        a question that was never written, whose id the next question will take."""
        hub = self.committer.hub
        for owner in hub.owners():
            held = {a for c in hub.screens_of(owner) for a in c.audiences}
            for audience in held:
                question = audiences.question_of(audience)
                if question is not None and question not in self.questions:
                    hub.remove_audience_for(owner, audience)

    def public(self) -> list[Question]:
        return [q for q in self.questions.values() if q.public]

    def highlighted(self) -> Question | None:
        return next((q for q in self.questions.values() if q.highlighted), None)

    def snapshot(self, role: str, own: list[int]) -> dict[str, Any]:
        """The forum as one participant may see it (JSON-safe)."""
        staff = audiences.is_staff(role)
        questions = self.questions.values() if staff else self.public()
        data: dict[str, Any] = {
            "settings": self.settings_data(),
            "counters": dict(self.counters),
            "questions": [
                self.question_data(q, staff=staff) for q in qa.ordered(list(questions), "votes")
            ],
            "highlighted": self._highlight_data(),
            "mine": [self.owner_data(self.questions[qid]) for qid in own if qid in self.questions],
        }
        return data

    def settings_data(self, settings: QASettings | None = None) -> dict[str, Any]:
        """The forum's settings (by default, as they are now) as screens get them."""
        settings = settings or self.settings
        return payloads.QASettings(
            open=settings.open, moderation=settings.moderation, max_length=settings.max_length
        ).model_dump()

    def question_data(self, q: Question, *, staff: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": q.id,
            "item_id": q.item_id,
            "text": q.text,
            "author": "" if q.anonymous else q.author_name,
            "organisation": "" if q.anonymous else q.author_organisation,
            "anonymous": q.anonymous,
            "state": q.state,
            "votes": q.votes,
            "answered": q.answered,
            "highlighted": q.highlighted,
            "pinned": q.pinned,
            "edited_by_host": q.edited_by_host,
            "created_at": iso(q.created_at),
            "replies": _replies_data(self.replies.get(q.id, []), staff=staff),
        }
        if staff:
            data["held_by_filter"] = q.held_by_filter
            data["reject_reason"] = q.reject_reason
            data["merged_into"] = q.merged_into
        return data

    def owner_data(self, q: Question) -> dict[str, Any]:
        return {
            "id": q.id,
            "item_id": q.item_id,
            "text": q.text,
            "state": q.state,
            "anonymous": q.anonymous,
            "answered": q.answered,
            "reject_reason": q.reject_reason,
            "reject_text": qa.REJECT_REASONS.get(q.reject_reason, ""),
            "merged_into": q.merged_into,
        }

    def _highlight_data(self) -> dict[str, Any] | None:
        q = self.highlighted()
        return self.question_data(q, staff=False) if q else None

    async def owned(self, participant: Participant, keys: list[str]) -> list[int]:
        return await qa_repo.owned_question_ids(
            self.committer.db, participant.id, [key_hash(k) for k in keys[-50:]]
        )

    async def my_votes(self, participant: Participant) -> set[int]:
        return await qa_repo.votes_of(self.committer.db, participant.id)

    # -- attendees -------------------------------------------------------------------------

    def _limit(self, kind: str, participant: Participant) -> None:
        if participant.is_staff:
            return
        now = self.committer.clock()
        limiter = self.limits[kind]
        if not limiter.allow(participant.id, now):
            wait = limiter.retry_after(participant.id, now)
            what = {"question": "questions", "reply": "replies", "vote": "votes"}[kind]
            raise QAError(
                f"You have sent a lot of {what} in the last minute. "
                f"Please wait {wait} seconds and try again.",
                "conflict",
            )

    async def ask(
        self,
        participant: Participant,
        text: str,
        key: str,
        *,
        anonymous: bool = False,
        item_id: str | None = None,
    ) -> tuple[Question, bool]:
        """Submit a question; returns (question, created). A repeated key returns the first."""
        check_key(key)
        hashed = key_hash(key)
        existing = await qa_repo.question_by_key(self.committer.db, hashed)
        if existing is not None:
            return existing, False
        if not self.settings.open and not participant.is_staff:
            raise QAError("The Q&A forum is closed at the moment.", "conflict")
        clean = qa.clean_text(text, limit=self.settings.max_length)
        self._limit("question", participant)
        status = self.agenda_service.status()
        finished = {e.item.id for e in status.schedule if e.state in ("done", "skipped", "not_run")}
        target = qa.route_question(
            self.agenda, status.current.id if status.current else None, finished, item_id
        )
        state, held = qa.initial_state(clean, self.settings)

        async def work(tx: Tx, now: datetime) -> tuple[tuple[Question, bool], list[Outgoing]]:
            again = await qa_repo.find_by_key(tx, hashed)
            if again is not None:  # a retry raced the first attempt
                return (again, False), []
            draft = Question(
                id=0,
                item_id=target,
                text=clean,
                state=state,
                created_at=now,
                author_name="" if anonymous else participant.name,
                author_organisation="" if anonymous else participant.organisation,
                anonymous=anonymous,
                held_by_filter=held,
            )
            qid = await qa_repo.insert_question(
                tx, draft, author_id=None if anonymous else participant.id, key_hash=hashed
            )
            question = replace(draft, id=qid)
            counters = await qa_repo.counters(tx)
            return (question, True), self._events(None, question, counters)

        def adopt(result: tuple[Question, bool]) -> None:
            self._adopt_question(result)
            question, created = result
            if created:  # before publishing, so the author's screens get the first event
                for listener in self.on_owner:
                    listener(participant.id, question.id)

        return await self.committer.commit(work, adopt)

    async def edit_own(
        self, participant: Participant, keys: list[str], question_id: int, text: str
    ) -> Question:
        own = await self.owned(participant, keys)
        if question_id not in own:
            raise QAError("You can only edit your own questions.", "forbidden")
        return await self._change(question_id, lambda q: qa.edit_by_author(q, text, self.settings))

    async def vote(self, participant: Participant, question_id: int, on: bool) -> int:
        """Set this participant's vote on a question; idempotent; returns the count."""
        question = self.questions.get(question_id)
        if question is None or question.state != "published":
            raise QAError("You can only vote on questions that are shown.", "not_found")
        self._limit("vote", participant)

        async def work(tx: Tx, now: datetime) -> tuple[int, list[Outgoing]]:
            return await qa_repo.set_vote(tx, question_id, participant.id, on, iso(now)), []

        def adopt(count: int) -> None:
            current = self.questions.get(question_id)
            if current is not None and current.votes != count:
                self.questions[question_id] = replace(current, votes=count)
                self._dirty_votes.add(question_id)
                self._wake.set()

        return await self.committer.commit(work, adopt)

    async def reply(
        self,
        participant: Participant,
        question_id: int,
        text: str,
        key: str,
        *,
        anonymous: bool = False,
        is_answer: bool = False,
    ) -> Reply:
        """Add a reply (or, for staff, the written answer). A repeated key returns the first."""
        check_key(key)
        hashed = key_hash(key)
        if is_answer and not participant.is_staff:
            raise QAError("Only the host or panel can give the answer.", "forbidden")
        question = self.questions.get(question_id)
        visible = question is not None and (
            question.state == "published"
            or (participant.is_staff and question.state in ("pending", "hidden"))
        )
        if question is None or not visible:
            raise QAError("That question is not open for replies.", "not_found")
        clean = qa.clean_text(text, limit=qa.REPLY_MAX, what="reply")
        self._limit("reply", participant)
        if is_answer:  # refuse at once if it cannot be answered
            qa.mark_answered(
                qa.approve(question) if question.state == "pending" else question, "written"
            )
        anonymous = anonymous and not participant.is_staff
        name = None if anonymous else (participant.name if participant.is_attendee else "Panel")

        async def work(
            tx: Tx, now: datetime
        ) -> tuple[tuple[Reply, Question | None], list[Outgoing]]:
            existing = await qa_repo.reply_by_key(tx, hashed)
            if existing is not None:
                return (existing, None), []
            rid = await qa_repo.insert_reply(
                tx,
                question_id=question_id,
                author_id=None if anonymous else participant.id,
                author_name=name,
                role=participant.role,
                text=clean,
                is_answer=is_answer,
                key_hash=hashed,
                at=iso(now),
            )
            reply = Reply(rid, question_id, name or "", participant.role, clean, is_answer, now)
            before = self.questions[question_id]  # as it is now, within the batch
            after = before
            if is_answer:
                after = qa.mark_answered(
                    qa.approve(before) if before.state == "pending" else before, "written"
                )
                await qa_repo.update_question(tx, after, iso(now))
            counters = await qa_repo.counters(tx)
            return (reply, after), self._events(before, after, counters, reply)

        def adopt(result: tuple[Reply, Question | None]) -> None:
            reply, changed = result
            if changed is None:
                return
            self.replies.setdefault(question_id, []).append(reply)
            self._adopt_question((changed, True))

        reply, _ = await self.committer.commit(work, adopt)
        return reply

    # -- hosts --------------------------------------------------------------------------------

    async def moderate(self, question_id: int, op: str, **args: Any) -> Question:
        """approve, reject(reason), hide, unhide, edit(text), highlight(on), pin(on),
        answered_live(on)."""
        limit = self.settings.max_length
        operations: dict[str, Callable[[Question], Question]] = {
            "approve": qa.approve,
            "reject": lambda q: qa.reject(q, args.get("reason", "")),
            "hide": qa.hide,
            "unhide": qa.unhide,
            "edit": lambda q: qa.edit_by_host(q, args.get("text", ""), limit),
            "highlight": lambda q: qa.set_highlight(q, bool(args.get("on", True))),
            "pin": lambda q: qa.set_pin(q, bool(args.get("on", True))),
            "answered_live": lambda q: qa.mark_answered(q, "live" if args.get("on", True) else ""),
        }
        if op not in operations:
            raise QAError(f"Unknown moderation '{op}'.")
        return await self._change(question_id, operations[op])

    async def hide_reply(self, question_id: int, reply_id: int, hidden: bool) -> Reply:
        """Hide a reply from every attendee (or show it again); it stays for the record."""
        self._get(question_id)
        if not any(r.id == reply_id for r in self.replies.get(question_id, [])):
            raise QAError("That question has no such reply.", "not_found", "reply_id")

        async def work(tx: Tx, now: datetime) -> tuple[tuple[list[Reply], int], list[Outgoing]]:
            current = self._get(question_id)  # as it is now, within the batch
            await qa_repo.set_reply_hidden(tx, reply_id, hidden)
            # Earlier events carry the reply: a screen must not be replayed them.
            floor = await repo.raise_replay_floor(tx) if hidden else 0
            replies = [
                replace(r, hidden=hidden) if r.id == reply_id else r
                for r in self.replies.get(question_id, [])
            ]
            counters = await qa_repo.counters(tx)
            return (replies, floor), self._events(current, current, counters, replies=replies)

        def adopt(result: tuple[list[Reply], int]) -> None:
            self.replies[question_id] = result[0]
            self.committer.take_back(result[1])

        replies, _ = await self.committer.commit(work, adopt)
        return next(r for r in replies if r.id == reply_id)

    async def merge(self, duplicate_id: int, into_id: int) -> Question:
        qa.merge(self._get(duplicate_id), self._get(into_id, field="into"))  # refuse at once

        async def work(tx: Tx, now: datetime) -> tuple[list[tuple[Question, bool]], list[Outgoing]]:
            duplicate = self._get(duplicate_id)  # as it is now, within the batch
            merged = qa.merge(duplicate, self._get(into_id, field="into"))
            await qa_repo.update_question(tx, merged, iso(now))
            voters = await qa_repo.voters_of(tx, duplicate_id)
            count = await qa_repo.move_votes(tx, duplicate_id, into_id)
            target = replace(self.questions[into_id], votes=count)
            counters = await qa_repo.counters(tx)
            events = self._events(duplicate, replace(merged, votes=0), counters)
            events += self._events(self.questions[into_id], target, counters)
            # Each voter's own screens learn that their vote now counts for the target;
            # nobody else learns who voted.
            moved = payloads.MyVote.model_validate(
                {"question_id": into_id, "from": duplicate_id, "voted": True}
            ).model_dump(by_alias=True)
            events += [
                Outgoing("qa.my_vote", audiences.participant(voter), moved) for voter in voters
            ]
            return [(replace(merged, votes=0), True), (target, True)], events

        def adopt(changes: list[tuple[Question, bool]]) -> None:
            for change in changes:
                self._adopt_question(change)

        await self.committer.commit(work, adopt)
        return self.questions[into_id]

    async def carry_over(self, from_item: str, to_item: str) -> int:
        """Move the unanswered questions of a Q&A item to a later one; returns how many."""
        slots = qa.qa_items(self.agenda)
        if from_item not in slots or to_item not in slots:
            raise QAError("Both must be Q&A items of this agenda.", "not_found")
        if self.agenda.index_of(to_item) <= self.agenda.index_of(from_item):
            raise QAError("Questions can only be carried over to a later Q&A item.")

        async def work(tx: Tx, now: datetime) -> tuple[list[tuple[Question, bool]], list[Outgoing]]:
            moving = [
                replace(q, item_id=to_item)
                for q in qa.carry_over(self.questions.values(), from_item)
            ]
            events: list[Outgoing] = []
            counters = await qa_repo.counters(tx)
            for q in moving:
                await qa_repo.update_question(tx, q, iso(now))
                events += self._events(self.questions[q.id], q, counters)
            return [(q, True) for q in moving], events

        def adopt(changes: list[tuple[Question, bool]]) -> None:
            for change in changes:
                self._adopt_question(change)

        moved: list[tuple[Question, bool]] = await self.committer.commit(work, adopt)
        return len(moved)

    async def configure(self, *, open: bool | None = None, moderation: bool | None = None) -> None:
        new = replace(
            self.settings,
            open=self.settings.open if open is None else open,
            moderation=self.settings.moderation if moderation is None else moderation,
        )

        async def work(tx: Tx, now: datetime) -> tuple[None, list[Outgoing]]:
            await qa_repo.put_setting(tx, "qa.open", "1" if new.open else "0")
            await qa_repo.put_setting(tx, "qa.moderation", "1" if new.moderation else "0")
            data = self.settings_data(new)
            return None, [Outgoing("qa.settings", audiences.EVERYONE, data)]

        def adopt(_: None) -> None:
            self.settings = new

        await self.committer.commit(work, adopt)

    # -- internals ----------------------------------------------------------------------------

    def _get(self, question_id: int, field: str = "question_id") -> Question:
        question = self.questions.get(question_id)
        if question is None:
            raise QAError("There is no such question.", "not_found", field)
        return question

    async def _change(self, question_id: int, change: Callable[[Question], Question]) -> Question:
        change(self._get(question_id))  # refuse at once, with the reason, if it cannot apply

        async def work(
            tx: Tx, now: datetime
        ) -> tuple[tuple[list[tuple[Question, bool]], Question], list[Outgoing]]:
            # Computed again from the state as it is now: an earlier change in the same
            # batch (a vote, another moderation) has been applied already.
            before = self._get(question_id)
            after = change(before)
            unhighlight: list[Question] = []
            if after.highlighted and not before.highlighted:
                unhighlight = [
                    replace(q, highlighted=False)
                    for q in self.questions.values()
                    if q.highlighted and q.id != question_id
                ]
            for q in unhighlight:
                await qa_repo.update_question(tx, q, iso(now))
            await qa_repo.update_question(tx, after, iso(now))
            counters = await qa_repo.counters(tx)
            events: list[Outgoing] = []
            for q in unhighlight:
                events += self._events(self.questions[q.id], q, counters)
            events += self._events(before, after, counters)
            return ([(q, True) for q in [*unhighlight, after]], after), events

        def adopt(result: tuple[list[tuple[Question, bool]], Question]) -> None:
            for item in result[0]:
                self._adopt_question(item)

        _, after = await self.committer.commit(work, adopt)
        return after

    def _adopt_question(self, result: tuple[Question, bool]) -> None:
        question, changed = result
        if not changed:
            return
        self.questions[question.id] = question
        self.counters = _count(self.questions.values())

    def _events(
        self,
        before: Question | None,
        after: Question,
        counters: dict[str, int],
        reply: Reply | None = None,
        *,
        replies: list[Reply] | None = None,
    ) -> list[Outgoing]:
        """The events one question change produces, for each audience that may see it.
        ``reply``: one just added; ``replies``: the question's replies as they now are."""
        if replies is None:
            replies = list(self.replies.get(after.id, []))
        if reply is not None:
            replies = [*replies, reply]
        data = self.question_data(after, staff=False)
        data["replies"] = _replies_data(replies, staff=False)
        staff = self.question_data(after, staff=True)
        staff["replies"] = _replies_data(replies, staff=True)
        events = [
            Outgoing("qa.question", audiences.STAFF, {"question": staff, "counters": counters})
        ]
        was_public = before is not None and before.public
        if after.public or was_public:
            events.append(
                Outgoing(
                    "qa.question",
                    audiences.EVERYONE,
                    {
                        "question": data if after.public else {"id": after.id},
                        "removed": not after.public,
                        "new": not was_public,
                        "counters": counters,
                    },
                )
            )
        if before is None or _owner_visible(before) != _owner_visible(after):
            events.append(
                Outgoing(
                    "qa.mine",
                    audiences.question_owner(after.id),
                    {"question": self.owner_data(after)},
                )
            )
        if (before is not None and before.highlighted) != after.highlighted:
            highlight = data if after.highlighted else None
            events.append(Outgoing("qa.highlight", audiences.EVERYONE, {"question": highlight}))
        return events

    # -- vote flushing -------------------------------------------------------------------------

    def start(self) -> None:
        self._flusher.start()

    @property
    def flusher_running(self) -> bool:
        return self._flusher.running

    async def stop(self) -> None:
        await self._flusher.stop()

    async def flush_votes(self) -> bool:
        """Publish the counts that changed since the last flush; True if any did."""
        if not self._dirty_votes:
            return False
        ids, self._dirty_votes = sorted(self._dirty_votes), set()
        counts = {str(i): self.questions[i].votes for i in ids if i in self.questions}

        async def work(tx: Tx, now: datetime) -> tuple[None, list[Outgoing]]:
            return None, [
                Outgoing("qa.votes", audiences.EVERYONE, {"votes": counts}),
            ]

        try:
            await self.committer.commit(work)
        except Exception:  # not published: the next flush sends these counts too
            self._dirty_votes.update(ids)
            raise
        return True

    async def _run_flusher(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush_votes()
            except Exception:
                log.exception("vote flush failed")
            await asyncio.sleep(VOTE_FLUSH_SECONDS)


def _owner_visible(q: Question) -> tuple[str, str, str, str]:
    return (q.state, q.text, q.answered, q.item_id)


def _replies_data(replies: list[Reply], *, staff: bool) -> list[dict[str, Any]]:
    """Replies as a screen shows them: attendees never get a hidden one; staff see it,
    marked."""
    return [
        {
            "id": r.id,
            "author": r.author_name,
            "role": r.role,
            "text": r.text,
            "is_answer": r.is_answer,
            "created_at": iso(r.created_at),
            **({"hidden": r.hidden} if staff else {}),
        }
        for r in replies
        if staff or not r.hidden
    ]


def _count(questions: Any) -> dict[str, int]:
    qs = list(questions)
    return {
        "received": sum(1 for q in qs if q.state != "merged"),
        "published": sum(1 for q in qs if q.state == "published"),
        "answered": sum(1 for q in qs if q.answered and q.state in ("published", "hidden")),
    }
