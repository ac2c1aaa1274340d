"""Live polls: the host writes, opens, closes, reveals and projects them; attendees answer.

Polls and their answers are cached in memory (a few dozen polls, a few thousand answers)
and written through to the database in the answer's own transaction, so every answer
acknowledged is durable and counted. Answers are announced in batches as Q&A votes are:
a flusher publishes the changed results at most every ``RESULTS_FLUSH_SECONDS`` (the
hub then pushes to each screen at most twice a second: see ``FOLD_SECONDS`` in
``webinar.services``), to staff always and to everyone only while the poll's
results are public (revealed, or live): an attendee's screen receives no count before.

Anonymous by default: an answer is stored under the hash of the poll id and a key only
the respondent's session holds (``poll_key``), with no participant id; a separate table
records only *that* someone answered the poll, so nobody answers twice. A named poll also
stores who answered (shown in the exports only).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from webinar.domain import audiences
from webinar.domain import polls as domain
from webinar.domain.agenda import Agenda
from webinar.domain.clock import RunState
from webinar.domain.polls import Answer, Poll, PollError, PollSpec, Tally
from webinar.domain.ratelimit import RateLimiter
from webinar.services.access import Participant
from webinar.services.agenda import AgendaService
from webinar.services.commit import Committer, Outgoing, iso
from webinar.storage import poll_repo
from webinar.storage.db import Tx

log = logging.getLogger(__name__)

RESULTS_FLUSH_SECONDS = 0.25
KEY_MIN, KEY_MAX = 16, 100
#: Open-text answers carried live (the exports have them all).
LIVE_TEXTS = 100
#: Where a session keeps its poll key.
SESSION_KEY = "poll_key"
ADHOC_POSITION = 1_000_000


def new_key() -> str:
    return secrets.token_urlsafe(24)


def key_hash(poll_id: int, key: str) -> str:
    return hashlib.sha256(f"poll:{poll_id}:{key}".encode()).hexdigest()


def check_key(key: str | None) -> str:
    if not isinstance(key, str) or not KEY_MIN <= len(key) <= KEY_MAX:
        raise PollError(
            f"The answer key must be {KEY_MIN} to {KEY_MAX} characters. Reload the page.",
            field="key",
        )
    return key


def agenda_specs(agenda: Agenda) -> list[tuple[str, str, int, PollSpec]]:
    """(agenda key, item id, position, spec) of every poll the agenda file declares."""
    out = []
    for index, item in enumerate(agenda.items):
        for number, spec in enumerate(item.polls):
            out.append((f"{item.id}#{number + 1}", item.id, index * 100 + number, spec))
    return out


class PollService:
    def __init__(self, agenda: Agenda, committer: Committer, agenda_service: AgendaService) -> None:
        self.agenda = agenda
        self.committer = committer
        self.agenda_service = agenda_service
        self.word_filter = agenda.qa_word_filter
        self.polls: dict[int, Poll] = {}
        #: poll id -> key hash -> answer.
        self.answers: dict[int, dict[str, Answer]] = {}
        #: poll id -> ids of those who answered (to refuse a second answer at once).
        self.respondents: dict[int, set[str]] = {}
        self.limiter = RateLimiter(60, timedelta(minutes=1))
        self._dirty: set[int] = set()
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._openers: set[asyncio.Task[list[Poll]]] = set()
        agenda_service.listeners.append(self._on_agenda)

    # -- loading and views -----------------------------------------------------------------

    async def load(self) -> None:
        known = await poll_repo.agenda_keys(self.committer.db)
        missing = [spec for spec in agenda_specs(self.agenda) if spec[0] not in known]
        if missing:
            async with self.committer.db.transaction() as tx:
                for key, item_id, position, spec in missing:
                    await poll_repo.insert_poll(tx, spec, item_id, position, key)
        self.polls = {p.id: p for p in await poll_repo.all_polls(self.committer.db)}
        self.answers = {pid: {} for pid in self.polls}
        for row in await poll_repo.all_answers(self.committer.db):
            self.answers.setdefault(row.poll_id, {})[row.key_hash] = row.answer
        self.respondents = await poll_repo.respondents(self.committer.db)

    def ordered(self) -> list[Poll]:
        return domain.sequence(self.polls.values())

    def tally(self, poll: Poll) -> Tally:
        return domain.tally(poll, self.answers.get(poll.id, {}).values(), self.word_filter)

    def results_data(self, poll: Poll) -> dict[str, Any]:
        t = self.tally(poll)
        return {
            "poll_id": poll.id,
            "kind": poll.spec.kind,
            "question": poll.spec.question,
            "public": poll.results_public,
            "respondents": t.respondents,
            "rows": [
                {"label": r.label, "count": r.count, "percent": r.percent, "correct": r.correct}
                for r in t.rows
            ],
            "texts": list(t.texts[:LIVE_TEXTS]),
            "more_texts": max(0, len(t.texts) - LIVE_TEXTS),
            "held": t.held,
            "mean": t.mean,
        }

    def poll_data(self, poll: Poll, *, staff: bool) -> dict[str, Any]:
        """A poll as one audience may see it: counts only for staff or once public."""
        spec = poll.spec
        item = next((i for i in self.agenda.items if i.id == poll.item_id), None)
        data: dict[str, Any] = {
            "id": poll.id,
            "item_id": poll.item_id,
            "item_title": item.title if item else "",
            "kind": spec.kind,
            "kind_label": domain.KIND_LABELS[spec.kind],
            "question": spec.question,
            "options": list(spec.options),
            "max_choices": spec.max_choices,
            "scale_min": spec.scale_min,
            "scale_max": spec.scale_max,
            "anonymous": spec.anonymous,
            "opens": spec.opens,
            "results_mode": spec.results,
            "state": poll.state,
            "revealed": poll.revealed,
            "results_public": poll.results_public,
            "on_projector": poll.on_projector,
            "opened_at": iso(poll.opened_at) if poll.opened_at else None,
            "closed_at": iso(poll.closed_at) if poll.closed_at else None,
            "results": self.results_data(poll) if staff or poll.results_public else None,
        }
        if staff:
            data["correct"] = spec.correct
            data["place"] = self._place(poll)
        return data

    def _place(self, poll: Poll) -> str:
        """Where the poll stands in its item's sequence: "2 of 3" ("" when alone)."""
        siblings = [p.id for p in self.ordered() if p.item_id == poll.item_id]
        if len(siblings) < 2 or poll.id not in siblings:
            return ""
        return f"{siblings.index(poll.id) + 1} of {len(siblings)}"

    def snapshot(self, role: str) -> list[dict[str, Any]]:
        """Every poll as this role sees it (attendees: the ones opened so far)."""
        staff = audiences.is_staff(role)
        return [
            self.poll_data(p, staff=staff) for p in self.ordered() if staff or p.state != "ready"
        ]

    def mine(self, key: str | None) -> dict[int, list[Any]]:
        """This session's answers, by poll id (from the key its cookie holds)."""
        if not key:
            return {}
        out: dict[int, list[Any]] = {}
        for pid, answers in self.answers.items():
            answer = answers.get(key_hash(pid, key))
            if answer is not None:
                out[pid] = list(answer)
        return out

    # -- the host ------------------------------------------------------------------------------

    async def create(self, spec: PollSpec, item_id: str | None) -> Poll:
        """An ad hoc poll, ready to open; ``PollError`` naming what is wrong."""
        checked = domain.check_spec(spec)
        if item_id is not None and item_id not in {i.id for i in self.agenda.items}:
            raise PollError("There is no agenda item with that id.", "not_found", "item_id")
        position = ADHOC_POSITION + len(self.polls)
        if item_id is not None:
            position = self.agenda.index_of(item_id) * 100 + 99

        async def work(tx: Tx, now: datetime) -> tuple[Poll, list[Outgoing]]:
            pid = await poll_repo.insert_poll(tx, checked, item_id, position, None)
            poll = Poll(pid, checked, item_id, position)
            return poll, self._events(poll)

        def adopt(poll: Poll) -> None:
            self.polls[poll.id] = poll
            self.answers[poll.id] = {}
            self.respondents[poll.id] = set()

        return await self.committer.commit(work, adopt)

    async def control(self, poll_id: int, op: str, on: bool = True) -> Poll:
        """open, close, reveal(on), project(on), reset; ``PollError`` when it cannot apply."""
        operations: dict[str, Callable[[Poll, datetime], Poll]] = {
            "open": domain.open_poll,
            "close": domain.close_poll,
            "reveal": lambda p, _: domain.reveal(p, on),
            "project": lambda p, _: domain.project(p, on),
            "reset": lambda p, _: domain.reset(p),
        }
        change = operations[op]
        change(self._get(poll_id), self.committer.clock())  # refuse at once, with the reason

        async def work(tx: Tx, now: datetime) -> tuple[list[Poll], list[Outgoing]]:
            after = change(self._get(poll_id), now)  # as it is now, within the batch
            others: list[Poll] = []
            if after.on_projector and op == "project":
                others = [
                    domain.project(p, False)
                    for p in self.polls.values()
                    if p.on_projector and p.id != poll_id
                ]
            if op == "reset":
                await poll_repo.delete_answers(tx, poll_id)
            events: list[Outgoing] = []
            for poll in [*others, after]:
                await poll_repo.update_poll(tx, poll)
                events += self._events(poll, cleared=op == "reset" and poll is after)
            return [*others, after], events

        def adopt(changed: list[Poll]) -> None:
            for poll in changed:
                self.polls[poll.id] = poll
            if op == "reset":
                self.answers[poll_id] = {}
                self.respondents[poll_id] = set()
                self._dirty.discard(poll_id)

        changed = await self.committer.commit(work, adopt)
        return changed[-1]

    async def open_at_start(self, item_id: str) -> list[Poll]:
        """Open the polls of ``item_id`` that open when it starts (the agenda calls it)."""
        opened = []
        for poll in domain.to_open_at_start(self.polls.values(), item_id):
            with contextlib.suppress(PollError):  # the host opened it meanwhile
                opened.append(await self.control(poll.id, "open"))
        return opened

    def _on_agenda(self, old: RunState, new: RunState, now: datetime) -> None:
        if new.current_id is None or new.current_id == old.current_id:
            return
        task = asyncio.get_running_loop().create_task(self.open_at_start(new.current_id))
        self._openers.add(task)
        task.add_done_callback(self._openers.discard)

    # -- attendees -------------------------------------------------------------------------------

    async def answer(
        self,
        participant: Participant,
        poll_id: int,
        key: str | None,
        choices: Sequence[int] = (),
        words: Sequence[str] = (),
    ) -> tuple[Poll, Answer]:
        """Answer a poll, or change one's answer while it is open; returns (poll, answer).

        ``PollError``: the poll does not exist or is not open, the answer does not fit it,
        or this person answered already under a key this session does not hold.
        """
        check_key(key)
        assert key is not None
        poll = self._get(poll_id)
        raw = self._raw(poll, choices, words)
        domain.check_answer(poll, raw)  # refuse at once, with the reason
        self._limit(participant)
        hashed = key_hash(poll_id, key)
        named = None if poll.spec.anonymous else participant.name or "(no name)"

        async def work(tx: Tx, now: datetime) -> tuple[tuple[str, Answer], list[Outgoing]]:
            answer = domain.check_answer(self._get(poll_id), raw)  # as it is now
            if hashed in self.answers[poll_id]:
                await poll_repo.change_answer(tx, poll_id, hashed, answer)
            elif participant.id in self.respondents[poll_id]:
                raise PollError(
                    "You have answered this poll already, in another browser or an earlier "
                    "session; change your answer there.",
                    "conflict",
                )
            else:
                await poll_repo.add_answer(tx, poll_id, participant.id, hashed, answer, named=named)
            return (hashed, answer), []

        def adopt(result: tuple[str, Answer]) -> None:
            self.answers[poll_id][result[0]] = result[1]
            self.respondents[poll_id].add(participant.id)
            self._dirty.add(poll_id)
            self._wake.set()

        _, answer = await self.committer.commit(work, adopt)
        return self.polls[poll_id], answer

    def _raw(self, poll: Poll, choices: Sequence[int], words: Sequence[str]) -> list[object]:
        if poll.spec.kind in ("words", "text"):
            if choices:
                raise PollError("This poll takes words, not choices.", field="choices")
            return list(words)
        if any(w.strip() for w in words):
            raise PollError("This poll takes a choice, not words.", field="words")
        return list(choices)

    def _limit(self, participant: Participant) -> None:
        now = self.committer.clock()
        if not self.limiter.allow(participant.id, now):
            wait = self.limiter.retry_after(participant.id, now)
            raise PollError(
                f"You have answered a lot in the last minute. Please wait {wait} seconds.",
                "conflict",
            )

    def _get(self, poll_id: int) -> Poll:
        poll = self.polls.get(poll_id)
        if poll is None:
            raise PollError("There is no such poll.", "not_found", "poll_id")
        return poll

    def _events(self, poll: Poll, *, cleared: bool = False) -> list[Outgoing]:
        """The events one poll change produces: staff see everything; attendees see a poll
        once it has opened (a reset one goes away), and its counts only once public."""
        staff = self.poll_data(poll, staff=True)
        if cleared:
            staff["results"] = self._empty_results(poll)
        events = [Outgoing("polls.poll", audiences.STAFF, {"poll": staff})]
        if poll.state == "ready":
            # Not asked yet: attendees learn only that it is not (or no longer) open, so
            # an upcoming question (a quiz's) is not on their screens early.
            public: dict[str, Any] = {"id": poll.id, "state": "ready", "results": None}
        else:
            public = self.poll_data(poll, staff=False)
        events.append(Outgoing("polls.poll", audiences.EVERYONE, {"poll": public}))
        return events

    def _empty_results(self, poll: Poll) -> dict[str, Any]:
        data = self.results_data(poll)
        data.update(respondents=0, texts=[], more_texts=0, held=0, mean=None)
        data["rows"] = (
            []
            if poll.spec.kind in ("words", "text")
            else [{**row, "count": 0, "percent": 0.0} for row in data["rows"]]
        )
        return data

    # -- results flushing ----------------------------------------------------------------------

    def start(self) -> None:
        self._flusher = asyncio.create_task(self._run_flusher(), name="poll-results-flusher")

    @property
    def flusher_running(self) -> bool:
        return self._flusher is not None and not self._flusher.done()

    async def stop(self) -> None:
        tasks: list[asyncio.Task[Any] | None] = [self._flusher, *self._openers]
        for task in tasks:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._flusher = None

    async def flush_results(self) -> bool:
        """Publish the results that changed since the last flush; True if any did."""
        if not self._dirty:
            return False
        ids, self._dirty = sorted(self._dirty), set()

        async def work(tx: Tx, now: datetime) -> tuple[None, list[Outgoing]]:
            events = []
            for pid in ids:
                poll = self.polls.get(pid)
                if poll is None:
                    continue
                data = self.results_data(poll)
                events.append(Outgoing("polls.results", audiences.STAFF, {"results": data}))
                if poll.results_public:
                    events.append(Outgoing("polls.results", audiences.EVERYONE, {"results": data}))
            return None, events

        await self.committer.commit(work)
        return True

    async def _run_flusher(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush_results()
            except Exception:
                log.exception("poll results flush failed")
            await asyncio.sleep(RESULTS_FLUSH_SECONDS)


def spec_from(args: dict[str, Any]) -> PollSpec:
    """A spec from the host's form fields (options as 1-based ``correct``)."""
    correct = args.get("correct")
    return PollSpec(
        question=args["question"],
        kind=args["kind"],
        options=tuple(o for o in args.get("options", ()) if o.strip()),
        max_choices=args.get("max_choices") or 0,
        scale_min=args.get("scale_min", 1),
        scale_max=args.get("scale_max", 5),
        correct=None if correct is None else correct - 1,
        anonymous=args.get("anonymous", True),
        results=args.get("results", "hidden"),
    )
