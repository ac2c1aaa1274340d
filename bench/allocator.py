"""Benchmark of the breakout allocator against a plain shuffled round-robin split.

Run from the repository root, for example::

    python bench/allocator.py --people 10000 --size 6 --repeat 30

Cases, timed in turn on every repetition so that machine noise hits them alike:

* ``baseline``: shuffle the people and deal them round robin into the same number of
  groups, nothing else (no sorting, no organisation spreading, no topics);
* ``allocate``: :func:`webinar.domain.allocator.allocate`, no pairing avoidance;
* ``allocate+avoid``: the same with ``avoid_pairs`` from a previous round made with
  another seed (the usual case);
* ``allocate+avoid worst``: ``avoid_pairs`` from a previous round made with the same
  seed, so before the local search every earlier pair sits together again.

Prints the median and 95th percentile wall-clock time per call in milliseconds, the
ratio of each median to the baseline's, and the median CPU time of this process (steadier
than wall-clock time on a busy machine). Repetitions stop early once ``--max-seconds``
have been spent, so a slow machine cannot make the run drag on.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from webinar.domain.allocator import Person, allocate, pairs_of, repeated_pairs

ORGANISATIONS = 300


def make_people(count: int, seed: int) -> list[Person]:
    """``count`` people from ~300 organisations of Zipf-like sizes, 5% of unknown one."""
    rng = random.Random(seed)
    names = [f"Organisation {number:03d}" for number in range(ORGANISATIONS)]
    weights = [1 / (rank + 1) ** 0.8 for rank in range(ORGANISATIONS)]
    people = []
    for number in range(count):
        organisation = "" if rng.random() < 0.05 else rng.choices(names, weights)[0]
        people.append(Person(f"person-{number:06d}", organisation))
    rng.shuffle(people)
    return people


def baseline(people: Sequence[Person], count: int, seed: int) -> list[list[str]]:
    """A plain shuffled round-robin split of ``people`` into ``count`` groups."""
    ids = [person.id for person in people]
    random.Random(seed).shuffle(ids)
    return [ids[group::count] for group in range(count)]


def percentile(samples: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=10_000, help="people present")
    parser.add_argument("--size", type=int, default=6, help="target group size")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per case")
    parser.add_argument("--topics", type=int, default=5, help="topics offered")
    parser.add_argument("--min-topics", type=int, default=2, help="topics per group")
    parser.add_argument("--seed", type=int, default=1, help="seed of the people and runs")
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, help="stop repeating after this long"
    )
    args = parser.parse_args(argv)

    people = make_people(args.people, args.seed)
    settings = {"topics": args.topics, "min_topics": args.min_topics, "group_size": args.size}
    first = allocate(people, seed=args.seed, **settings)
    count = len(first.groups)
    earlier = pairs_of(allocate(people, seed=args.seed + 1_000_000, **settings))
    same = pairs_of(first)

    cases: dict[str, Callable[[int], object]] = {
        "baseline": lambda seed: baseline(people, count, seed),
        "allocate": lambda seed: allocate(people, seed=seed, **settings),
        "allocate+avoid": lambda seed: allocate(people, seed=seed, avoid_pairs=earlier, **settings),
        "allocate+avoid worst": lambda seed: allocate(
            people, seed=args.seed, avoid_pairs=same, **settings
        ),
    }
    timings: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    started = time.perf_counter()
    for run in range(args.repeat):
        for name, case in cases.items():
            begin, begin_cpu = time.perf_counter(), time.process_time()
            case(args.seed + run)
            cpu[name].append((time.process_time() - begin_cpu) * 1000)
            timings[name].append((time.perf_counter() - begin) * 1000)
        if time.perf_counter() - started > args.max_seconds:
            break

    organisations = len({person.organisation for person in people if person.organisation})
    print(
        f"{args.people} people, {organisations} organisations, group size {args.size} "
        f"-> {count} groups, {args.topics} topics (min {args.min_topics}), "
        f"{len(timings['baseline'])} runs per case, Python {sys.version.split()[0]}"
    )
    base = statistics.median(timings["baseline"])
    print(f"{'case':<22} {'median ms':>10} {'p95 ms':>10} {'x baseline':>11} {'cpu ms':>8}")
    for name, samples in timings.items():
        median = statistics.median(samples)
        print(
            f"{name:<22} {median:>10.2f} {percentile(samples, 0.95):>10.2f} "
            f"{median / base:>11.1f} {statistics.median(cpu[name]):>8.2f}"
        )
    avoided = allocate(people, seed=args.seed, avoid_pairs=earlier, **settings)
    worst = allocate(people, seed=args.seed, avoid_pairs=same, **settings)
    print(
        f"repeated pairs, usual case: {repeated_pairs(first, earlier)} without avoidance, "
        f"{repeated_pairs(avoided, earlier)} with (of {len(earlier)} earlier pairs)"
    )
    print(
        f"repeated pairs, worst case: {len(same)} without avoidance, "
        f"{repeated_pairs(worst, same)} with"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
