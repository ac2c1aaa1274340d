"""The post-event survey: opening and closing, one response each, results.

Anonymous by default: a response is stored under the hash of a key that only the
respondent's browser holds (it makes the key and sends it with every save; the session
cookie keeps a copy), with no participant id, group, time or row id; a flag on the
participant records just *that* they have responded, so nobody answers twice. Partial
answers are saved as people go; a response stays editable until the survey closes.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from webinar.domain import audiences
from webinar.domain import survey as rules
from webinar.domain.agenda import Agenda, Survey
from webinar.domain.survey import SurveyError
from webinar.services.access import Participant
from webinar.services.agenda import AgendaService
from webinar.services.breakouts import BreakoutService
from webinar.services.commit import Committer, Outgoing, iso
from webinar.services.qa import QAService
from webinar.storage import qa_repo, survey_repo
from webinar.storage.db import Tx
from webinar.storage.survey_repo import ResponseRow

OVERRIDES = ("auto", "open", "closed")
KEY_MIN, KEY_MAX = 16, 100


class SurveyStateError(SurveyError):
    """A refusal because of the survey's state or the respondent, not an answer's value."""

    def __init__(self, message: str, kind: str = "conflict") -> None:
        super().__init__(message)
        self.kind = kind


def key_hash(key: str) -> str:
    return hashlib.sha256(("survey:" + key).encode()).hexdigest()


def new_key() -> str:
    return secrets.token_urlsafe(24)


def check_key(key: str) -> str:
    """``key`` if it is a plausible client-made response key, else ``SurveyError``."""
    if not isinstance(key, str) or not KEY_MIN <= len(key) <= KEY_MAX:
        raise SurveyError(
            f"The survey key must be {KEY_MIN} to {KEY_MAX} characters. Reload the page.",
            field="key",
        )
    return key


class SurveyService:
    def __init__(
        self,
        agenda: Agenda,
        committer: Committer,
        agenda_service: AgendaService,
        qa: QAService,
        breakouts: BreakoutService,
    ) -> None:
        self.agenda = agenda
        self.committer = committer
        self.agenda_service = agenda_service
        self.qa = qa
        self.breakouts = breakouts
        self.override = "auto"
        #: Bumped by every saved answer; keys the cached results.
        self._version = 0
        self._results: tuple[int, dict[str, Any]] | None = None

    @property
    def survey(self) -> Survey | None:
        return self.agenda.survey

    async def load(self) -> None:
        stored = await qa_repo.settings(self.committer.db)
        self.override = stored.get("survey.override", "auto")

    # -- open or closed --------------------------------------------------------------------

    def state(self, now: datetime | None = None, override: str | None = None) -> dict[str, Any]:
        """{"state": "none"|"not_yet"|"open"|"closed", "closes_at": iso or None}.

        ``override``: the host's choice to show, when it is not yet the stored one.
        """
        override = override or self.override
        survey = self.survey
        if survey is None:
            return {"state": "none", "closes_at": None, "override": override}
        now = now or self.committer.clock()
        status = self.agenda_service.status(now)
        ended_at = self.agenda_service.state.ended_at
        closes_at = ended_at + timedelta(days=survey.open_days) if ended_at else None
        opening = survey.opens_at_item
        started = status.phase == "finished" or any(
            entry.item.id == opening and entry.state in ("current", "done")
            for entry in status.schedule
        )
        if override == "open":
            state = "open"
        elif override == "closed" or (closes_at is not None and now >= closes_at):
            state = "closed"
        else:
            state = "open" if started else "not_yet"
        return {
            "state": state,
            "closes_at": iso(closes_at) if closes_at else None,
            "override": override,
        }

    async def set_override(self, value: str) -> dict[str, Any]:
        if value not in OVERRIDES:
            raise SurveyError(f"Choose one of: {', '.join(OVERRIDES)}.", "state")

        async def work(tx: Tx, now: datetime) -> tuple[str, list[Outgoing]]:
            await qa_repo.put_setting(tx, "survey.override", value)
            return value, [Outgoing("survey.state", audiences.EVERYONE, self.state(now, value))]

        def apply(override: str) -> None:
            self.override = override

        await self.committer.commit(work, apply)
        return self.state()

    # -- responding ---------------------------------------------------------------------------

    async def asked_question(self, participant: Participant, own_keys: list[str]) -> bool:
        return bool(await self.qa.owned(participant, own_keys))

    async def mine(self, key: str | None) -> ResponseRow | None:
        if not key:
            return None
        return await survey_repo.response_by_key(self.committer.db, key_hash(key))

    async def save(
        self,
        participant: Participant,
        key: str | None,
        raw: dict[str, Any],
        *,
        final: bool,
        asked_question: bool,
        session_key: str | None = None,
    ) -> tuple[str, ResponseRow]:
        """Save answers (a partial save merges); returns (the response's key, response).

        ``key`` is the one the respondent's browser made for its response and sends with
        every save, so a save retried after its reply was lost continues the same
        response; ``session_key`` is the one the session cookie holds (from an earlier
        reply). The response under either is continued; with neither, a new one is made
        under ``key`` (or a server-made key when the caller sent none).

        ``SurveyError`` when the survey is not open, a key or an answer is invalid, a
        required answer is missing on the final submit, or this attendee already
        responded under a key this browser does not hold.
        """
        survey = self._open_to(participant)
        if key is not None:
            check_key(key)
        answers = rules.clean_answers(survey, raw, asked_question=asked_question, final=False)
        emptied = {code for code, value in raw.items() if value in ("", None, [])}
        candidates = [k for k in dict.fromkeys((key, session_key)) if k]

        # Read and write in one transaction, so concurrent saves of one response merge.
        async def work(tx: Tx, now: datetime) -> tuple[tuple[str, ResponseRow], list[Outgoing]]:
            found = await _found(tx, candidates)
            merged = {**(found[1].answers if found else {}), **answers}
            for code in emptied:  # an emptied answer is removed
                merged.pop(code, None)
            if final:
                rules.clean_answers(survey, merged, asked_question=asked_question, final=True)
            if found is not None:
                return await _continued(tx, found, merged, final), []
            # No event: the event log's times would say when each response was begun.
            return await self._begun(tx, participant, key or new_key(), merged, final), []

        result = await self.committer.commit(work)
        self._version += 1
        return result

    def _open_to(self, participant: Participant) -> Survey:
        """The survey, if ``participant`` may answer it now; ``SurveyError`` saying why not."""
        survey = self.survey
        if survey is None:
            raise SurveyStateError("This event has no survey.", "not_found")
        state = self.state()["state"]
        if state == "not_yet":
            raise SurveyStateError("The survey is not open yet.")
        if state == "closed":
            raise SurveyStateError("The survey has closed; answers can no longer change.")
        if not participant.is_attendee:
            raise SurveyStateError("Only attendees answer the survey.", "forbidden")
        return survey

    async def _begun(
        self,
        tx: Tx,
        participant: Participant,
        used: str,
        merged: dict[str, Any],
        final: bool,
    ) -> tuple[str, ResponseRow]:
        """A new response under the key ``used``, unless this attendee already has one."""
        survey = self.survey
        assert survey is not None
        if await survey_repo.has_responded(tx, participant.id):
            raise SurveyStateError(
                "You have already started the survey in another browser. Your answers "
                "are anonymous, so they can only be changed there."
            )
        # The group only for named responses: with the group's member list, an anonymous
        # response's group would name the few who answered from it.
        group = None if survey.anonymous else self._group_of(participant)
        await survey_repo.insert_response(
            tx,
            key_hash=key_hash(used),
            participant_id=None if survey.anonymous else participant.id,
            respondent_id=participant.id,
            breakout_group=group,
            answers=merged,
            submitted=final,
        )
        return used, ResponseRow(group, merged, final)

    def _group_of(self, participant: Participant) -> int | None:
        rnd = self.breakouts.current
        if rnd is None:
            return None
        group = self.breakouts.group_of(rnd, participant.id)
        return group.number if group else None

    # -- results --------------------------------------------------------------------------------

    async def counts(self) -> tuple[int, int]:
        """(submitted, started but not submitted): the host's figures, without reading
        the answers."""
        return await survey_repo.counts(self.committer.db)

    async def responses(self) -> list[ResponseRow]:
        return await survey_repo.all_responses(self.committer.db)

    async def results(self) -> dict[str, Any]:
        """Summaries of every question and, per breakout group, with small groups suppressed.

        Computed once per change: organisers reloading the results page during a busy
        survey do not recompute 10,000 responses each time.
        """
        survey = self.survey
        if survey is None:
            return {"survey": None, "respondents": 0, "questions": [], "groups": []}
        version = self._version
        cached = self._results
        if cached is not None and cached[0] == version:
            return cached[1]
        rows = await self.responses()
        answers = [r.answers for r in rows]
        results = {
            "survey": survey,
            "respondents": len(rows),
            "submitted": sum(1 for r in rows if r.submitted),
            "questions": rules.summarise(survey, answers),
            # Anonymous responses carry no group (see save), so they are not split by one.
            "groups": []
            if survey.anonymous
            else rules.split_by_group(survey, [(r.breakout_group, r.answers) for r in rows]),
        }
        if self._version == version:  # no save landed while computing
            self._results = (version, results)
        return results


async def _found(tx: Tx, candidates: list[str]) -> tuple[str, ResponseRow] | None:
    """The response stored under the first of ``candidates`` that has one, with its key."""
    for candidate in candidates:
        existing = await survey_repo.response_by_key_tx(tx, key_hash(candidate))
        if existing is not None:
            return candidate, existing
    return None


async def _continued(
    tx: Tx,
    found: tuple[str, ResponseRow],
    merged: dict[str, Any],
    final: bool,
) -> tuple[str, ResponseRow]:
    """The response ``found`` with the answers ``merged``; once submitted, it stays so."""
    used, existing = found
    submitted = final or existing.submitted
    await survey_repo.update_response(tx, key_hash(used), merged, submitted)
    return used, ResponseRow(existing.breakout_group, merged, submitted)
