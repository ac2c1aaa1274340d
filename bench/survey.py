"""Benchmark of the survey's exports and results page at 10,000 responses.

Run from the repository root, for example::

    python bench/survey.py --responses 10000 --repeat 5

The survey is the seed agenda's 8 questions plus 4 more, 12 in all: 5 ratings, 2 single
choices, 2 multiple choices, 1 "was your question answered" and 2 free texts, so an export
row has 15 cells (response, breakout_group, submitted and one per question). The responses
are made up deterministically from ``--seed``: realistic answers, optional questions
sometimes skipped, free texts of about 100 characters (a few starting with "-" or "=",
as people write them), about 5% not submitted, spread over ``--groups`` breakout groups
(5% in none). Every made-up response is checked with the real
:func:`webinar.domain.survey.clean_answers`, so it is one the server could have stored.

Cases, each run ``--repeat`` times, in turn so that machine noise hits them alike:

* ``csv export``: :func:`webinar.services.exports.survey_export` with ``"csv"``, the code the
  export endpoint runs (rows built from the responses, then ``to_csv``);
* ``xlsx export``: the same with ``"xlsx"`` (responses sheet and codebook, ``to_xlsx``);
* ``results page``: :meth:`SurveyService.results` (``summarise`` and ``split_by_group``)
  plus rendering ``templates/results.html`` through the app's Jinja environment
  (:func:`webinar.web.render.make_environment`): the page's server-side time without HTTP;
* ``baseline csv``: plain ``csv.writer`` writing the same cells to a ``StringIO``;
* ``baseline xlsx``: openpyxl's write-only mode writing the same cells, no styling.

The exports get the responses from a stand-in with the parts of the services they use
(``.agenda.survey`` and an async ``.survey.responses()`` returning
:class:`webinar.storage.survey_repo.ResponseRow`), so no database read is timed there.

Then, unless ``--no-http``, ``GET /results`` end to end: the real app under uvicorn on a
loopback port (``tests/helpers.py``'s ``LiveServer``) on a temporary database, the
responses inserted with :func:`webinar.storage.survey_repo.insert_response` in one
transaction, fetched ``--http-repeat`` times by an organiser (after one untimed first
request, reported on its own); this includes reading and decoding the responses from
SQLite and the client's share of the one CPU.

Prints median and 95th percentile wall-clock time per case in milliseconds, ours over each
baseline, and each target (XLSX < 5 s, CSV < 1 s, results page < 300 ms) as met or missed.
``--profile`` runs each case that missed its target once under cProfile and prints its
heaviest functions. Repetitions stop early once ``--max-seconds`` have been spent (every
case still runs at least once), so a slow machine or a slow case cannot drag the run on.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import csv
import io
import math
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from openpyxl import Workbook

from webinar.domain.agenda import Agenda, Survey, SurveyQuestion
from webinar.domain.survey import QUESTION_ANSWERED_OPTIONS, clean_answers
from webinar.services.access import Participant
from webinar.services.agenda_files import SEED_AGENDA, load_agenda
from webinar.services.exports import survey_export
from webinar.services.survey import SurveyService, key_hash
from webinar.storage.survey_repo import ResponseRow
from webinar.web.render import make_environment

ROOT = Path(__file__).resolve().parents[1]

#: Targets in milliseconds.
TARGETS = {"csv export": 1_000.0, "xlsx export": 5_000.0, "results page": 300.0}
TARGETS["GET /results"] = TARGETS["results page"]

#: Added to the seed survey's 8 questions: 2 ratings, 1 single and 1 multiple choice.
EXTRA_QUESTIONS = (
    SurveyQuestion(
        code="pace",
        text="How was the pace of the webinar?",
        kind="rating",
        scale_min_label="Far too slow",
        scale_max_label="Far too fast",
    ),
    SurveyQuestion(
        code="platform_ease",
        text="How easy was the webinar platform to use?",
        kind="rating",
        scale_min_label="Very hard",
        scale_max_label="Very easy",
    ),
    SurveyQuestion(
        code="attended_before",
        text="Have you attended a Panel webinar before?",
        kind="single",
        options=("Yes, several", "Yes, once", "No, this was my first"),
    ),
    SurveyQuestion(
        code="next_formats",
        text="Which formats would you like next time?",
        kind="multiple",
        options=(
            "Longer breakouts",
            "Case study walk-throughs",
            "Panel discussion",
            "Shorter talks",
            "Recorded sessions to watch first",
        ),
    ),
)

_PHRASES = (
    "the review findings were clear and practical for our partnership "
    "more time for questions would help multi-agency working information sharing "
    "neglect adolescents exploitation SUDI domestic abuse thresholds supervision "
    "learning from local reviews briefing schools health visitors police social care "
    "please share the slides and the links to the published reports thank you "
    "the breakout group was useful but too short for a real discussion of the case"
)
WORDS = tuple(_PHRASES.split())


def bench_agenda() -> Agenda:
    """The seed agenda with its survey extended to 12 questions, and named (not anonymous)
    so that the results are split by breakout group as a named survey's are."""
    seed = load_agenda(SEED_AGENDA, today=date.today())
    assert seed.survey is not None
    questions = seed.survey.questions
    # Ratings first, then choices, then the texts, as a survey is usually laid out.
    ordered = (
        *[q for q in questions if q.kind == "rating"],
        *[q for q in EXTRA_QUESTIONS if q.kind == "rating"],
        *[q for q in questions if q.kind in ("single", "multiple")],
        *[q for q in EXTRA_QUESTIONS if q.kind in ("single", "multiple")],
        *[q for q in questions if q.kind in ("question_answered", "text")],
    )
    survey: Survey = replace(seed.survey, questions=tuple(ordered), anonymous=False)
    return replace(seed, survey=survey)


def text_answer(rng: random.Random) -> str:
    """About 100 characters of plausible free text; a few start like a formula would."""
    target = rng.randint(60, 140)
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < target:
        words.append(rng.choice(WORDS))
    text = " ".join(words)
    text = text[0].upper() + text[1:] + "."
    roll = rng.random()
    if roll < 0.01:
        return "- " + text
    if roll < 0.015:
        return "=" + text
    return text


def make_responses(survey: Survey, count: int, groups: int, seed: int) -> list[ResponseRow]:
    """``count`` responses as the database would hold them, made up from ``seed``."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        submitted = rng.random() < 0.95
        asked = rng.random() < 0.2
        answers: dict[str, Any] = {}
        for q in survey.questions:
            answer = _MAKERS.get(q.kind, _text)(q, rng, submitted, asked)
            if answer is not None:
                answers[q.code] = answer
        cleaned = clean_answers(survey, answers, asked_question=asked, final=submitted)
        assert cleaned == answers, (cleaned, answers)
        group = None if rng.random() < 0.05 else rng.randint(1, groups)
        rows.append(ResponseRow(group, answers, submitted))
    return rows


# Made-up answers, one maker per kind of question: the answer, or None for none.


def _rating(q: SurveyQuestion, rng: random.Random, submitted: bool, asked: bool) -> Any:
    if (q.required and submitted) or rng.random() < 0.9:
        points = list(range(q.scale_min, q.scale_max + 1))
        weights = [1, 2, 4, 8, 6] if len(points) == 5 else [1] * len(points)
        return rng.choices(points, weights)[0]
    return None


def _single(q: SurveyQuestion, rng: random.Random, submitted: bool, asked: bool) -> Any:
    return rng.choice(q.options) if rng.random() < 0.85 else None


def _multiple(q: SurveyQuestion, rng: random.Random, submitted: bool, asked: bool) -> Any:
    if rng.random() < 0.8:
        ticked = set(rng.sample(q.options, rng.randint(1, min(3, len(q.options)))))
        return [o for o in q.options if o in ticked]
    return None


def _question_answered(q: SurveyQuestion, rng: random.Random, submitted: bool, asked: bool) -> Any:
    if asked and rng.random() < 0.9:
        return rng.choices(QUESTION_ANSWERED_OPTIONS, [6, 3, 1])[0]
    return None


def _text(q: SurveyQuestion, rng: random.Random, submitted: bool, asked: bool) -> Any:
    return text_answer(rng) if rng.random() < 0.5 else None


_MAKERS: dict[str, Callable[[SurveyQuestion, random.Random, bool, bool], Any]] = {
    "rating": _rating,
    "single": _single,
    "multiple": _multiple,
    "question_answered": _question_answered,
}


class SurveyStandIn:
    """What the exports and :meth:`SurveyService.results` use of the real survey service."""

    def __init__(self, survey: Survey, rows: list[ResponseRow]) -> None:
        self.survey = survey
        self.rows = rows
        self._version = 0

    # The real service caches results until the next saved answer; the bench measures the
    # computation itself, so this stand-in never keeps a cached copy.
    @property
    def _results(self) -> None:
        return None

    @_results.setter
    def _results(self, value: Any) -> None:
        pass

    async def responses(self) -> list[ResponseRow]:
        return self.rows


def baseline_csv(cells: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(cells)
    return out.getvalue()


def baseline_xlsx(cells: list[list[Any]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Responses")
    for row in cells:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def percentile(samples: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def http_results(
    agenda: Agenda, rows: list[ResponseRow], repeat: int, max_seconds: float
) -> tuple[float, list[float], int]:
    """(first request ms, timed requests ms, page bytes) of GET /results on a real server."""
    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import LiveServer, Person
    from webinar.storage import repo, survey_repo

    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(os.path.join(tmp, "bench.db"), agenda=agenda)
        await server.start()
        organiser = Person(server.base)
        try:

            async def work(tx: Any, now: Any) -> tuple[None, list[Any]]:
                for number, row in enumerate(rows, start=1):
                    pid = f"bench-{number:06d}"
                    person = repo.ParticipantRow(pid, "attendee", None, None, now.isoformat())
                    await repo.create_participant(tx, person, f"session-{pid}")
                    await survey_repo.insert_response(
                        tx,
                        key_hash=key_hash(pid),
                        participant_id=pid,
                        respondent_id=pid,
                        breakout_group=row.breakout_group,
                        answers=row.answers,
                        submitted=row.submitted,
                    )
                return None, []

            await server.services.committer.commit(work)
            await organiser.enter("organiser", server.secrets["organiser_token"])
            begin = time.perf_counter()
            first = await organiser.http.get("/results", timeout=60)
            first_ms = (time.perf_counter() - begin) * 1000
            assert first.status_code == 200, first.status_code
            assert f"{len(rows)} responses" in first.text
            timings = []
            started = time.perf_counter()
            for _ in range(repeat):
                begin = time.perf_counter()
                response = await organiser.http.get("/results", timeout=60)
                timings.append((time.perf_counter() - begin) * 1000)
                assert response.status_code == 200
                if time.perf_counter() - started > max_seconds:
                    break
            return first_ms, timings, len(first.content)
        finally:
            await organiser.close()
            await server.stop()


def profile(name: str, case: Callable[[], object], lines: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    case()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(lines)
    print(f"\n--- cProfile of {name!r}, by own time (tottime) ---")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])


def bounded(value: str, low: int, high: int) -> int:
    number = int(value)
    if not low <= number <= high:
        raise argparse.ArgumentTypeError(f"must be from {low} to {high}")
    return number


def time_cases(
    cases: dict[str, Callable[[], object]], repeat: int, max_seconds: float
) -> dict[str, list[float]]:
    """Milliseconds of each run of each case: ``repeat`` rounds, fewer past ``max_seconds``."""
    timings: dict[str, list[float]] = {name: [] for name in cases}
    started = time.perf_counter()
    for _ in range(repeat):
        for name, case in cases.items():
            begin = time.perf_counter()
            case()
            timings[name].append((time.perf_counter() - begin) * 1000)
        if time.perf_counter() - started > max_seconds:
            break
    return timings


def print_table(timings: dict[str, list[float]], medians: dict[str, float]) -> list[str]:
    """Print each case's median and p95 against its target; the cases that missed it."""
    print(f"{'case':<15} {'median ms':>10} {'p95 ms':>10} {'target ms':>10}  result")
    missed = []
    for name, samples in timings.items():
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            verdict = "met" if medians[name] < target else "MISSED"
            if medians[name] >= target:
                missed.append(name)
        shown_target = f"{target:>10.0f}" if target is not None else f"{'':>10}"
        print(
            f"{name:<15} {medians[name]:>10.1f} {percentile(samples, 0.95):>10.1f} "
            f"{shown_target}  {verdict}"
        )
    return missed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--responses", type=lambda v: bounded(v, 1, 100_000), default=10_000, help="responses"
    )
    parser.add_argument(
        "--groups", type=lambda v: bounded(v, 1, 10_000), default=300, help="breakout groups"
    )
    parser.add_argument(
        "--repeat", type=lambda v: bounded(v, 1, 100), default=5, help="timed runs per case"
    )
    parser.add_argument(
        "--http-repeat",
        type=lambda v: bounded(v, 1, 100),
        default=5,
        help="timed GET /results requests",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the made-up responses")
    parser.add_argument(
        "--max-seconds", type=float, default=120.0, help="stop repeating after this long"
    )
    parser.add_argument("--no-http", action="store_true", help="skip GET /results over HTTP")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile each case that missed its target"
    )
    args = parser.parse_args(argv)

    made = time.perf_counter()
    agenda = bench_agenda()
    survey = agenda.survey
    assert survey is not None
    rows = make_responses(survey, args.responses, args.groups, args.seed)
    stand_in = SurveyStandIn(survey, rows)
    services = SimpleNamespace(agenda=agenda, survey=stand_in)
    env = make_environment(agenda)
    template = env.get_template("results.html")  # compiled once, as in the running app
    organiser = Participant("organiser-1", "organiser", "Olu Organiser", "The Panel")
    state = {"state": "open", "closes_at": None, "override": "open"}
    loop = asyncio.new_event_loop()

    def export(fmt: str) -> bytes:
        body, _ = loop.run_until_complete(survey_export(services, fmt))
        return body

    def results_page() -> str:
        results = loop.run_until_complete(SurveyService.results(stand_in))  # type: ignore[arg-type]
        return template.render(
            request=None,
            csrf_token="x" * 43,
            participant=organiser,
            results=results,
            state=state,
        )

    # The baselines write exactly the cells of our CSV export (numbers back as numbers).
    ours_csv = export("csv")
    cells = [
        [int(value) if value.isdigit() else value for value in line]
        for line in csv.reader(io.StringIO(ours_csv.decode("utf-8-sig")))
    ]
    assert len(cells) == args.responses + 1 and all(len(line) == 15 for line in cells)
    page = results_page()
    print(
        f"{args.responses} responses x {len(survey.questions)} questions "
        f"({len(cells[0])} cells a row), {args.groups} groups, made in "
        f"{time.perf_counter() - made:.1f} s; CSV {len(ours_csv) / 1e6:.1f} MB, "
        f"results page {len(page) / 1e6:.1f} MB"
    )

    cases: dict[str, Callable[[], object]] = {
        "csv export": lambda: export("csv"),
        "baseline csv": lambda: baseline_csv(cells),
        "xlsx export": lambda: export("xlsx"),
        "baseline xlsx": lambda: baseline_xlsx(cells),
        "results page": results_page,
    }
    timings = time_cases(cases, args.repeat, args.max_seconds)

    first_ms = None
    if not args.no_http:
        first_ms, timings["GET /results"], size = asyncio.run(
            http_results(agenda, rows, args.http_repeat, args.max_seconds)
        )

    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
        f"{len(timings['csv export'])} runs per case"
        + (f", {len(timings['GET /results'])} HTTP requests" if first_ms is not None else "")
    )
    medians = {name: statistics.median(samples) for name, samples in timings.items()}
    missed = print_table(timings, medians)
    if first_ms is not None:
        print(f"GET /results first request (templates compiled): {first_ms:.1f} ms, {size:,} B")
    print(
        f"csv export / baseline csv: {medians['csv export'] / medians['baseline csv']:.1f}x; "
        f"xlsx export / baseline xlsx: {medians['xlsx export'] / medians['baseline xlsx']:.1f}x"
    )
    if args.profile:
        for name in missed:
            if name in cases:
                profile(name, cases[name], 15)
            else:
                print(f"\n(no in-process profile for {name!r}: profile 'results page')")
    loop.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
