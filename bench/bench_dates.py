"""Compare coopspider.dates.parse_date with plain dateparser on the labelled date corpus.

Run: .venv/bin/python bench/bench_dates.py [--rounds N]
Prints each parser's time per call and accuracy (correct/total), and the speed ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runnable from a checkout without installing the package

import dateparser  # noqa: E402

from coopspider.dates import VIETNAM_TZ, parse_date, to_iso  # noqa: E402

CORPUS_PATH = ROOT / "tests" / "data" / "dates_corpus.json"

Case = dict
Parser = Callable[[Case], datetime | None]


def _now(case: Case) -> datetime | None:
    return datetime.fromisoformat(case["now"]) if case.get("now") else None


def ours(case: Case) -> datetime | None:
    return parse_date(case["text"], now=_now(case), order=case.get("order", "DMY"))


def plain_dateparser(case: Case) -> datetime | None:
    # Plain call; relative cases get the same reference time as ours, as naive Vietnam time.
    now = _now(case)
    if now is None:
        return dateparser.parse(case["text"], languages=["vi"])
    base = now.astimezone(VIETNAM_TZ).replace(tzinfo=None)
    return dateparser.parse(case["text"], languages=["vi"], settings={"RELATIVE_BASE": base})


def _iso(result: datetime | None) -> str | None:
    # A naive answer is read as Vietnam time, the most favourable reading for dateparser.
    return None if result is None else to_iso(result)


def accuracy(parser: Parser, corpus: list[Case]) -> tuple[int, list[str]]:
    """Count the cases whose answer matches the expected ISO string (None included)."""
    correct, wrong = 0, []
    for case in corpus:
        if _iso(parser(case)) == case["expected"]:
            correct += 1
        else:
            wrong.append(case["text"])
    return correct, wrong


def per_call_seconds(parser: Parser, corpus: list[Case], rounds: int) -> float:
    """Mean wall time of one call over ``rounds`` passes of the corpus."""
    start = time.perf_counter()
    for _ in range(rounds):
        for case in corpus:
            parser(case)
    return (time.perf_counter() - start) / (rounds * len(corpus))


def main() -> None:
    """Run the comparison and print the figures."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rounds", type=int, default=5, help="passes of dateparser's timing")
    options.add_argument("--show-wrong", action="store_true", help="list the cases each misses")
    args = options.parse_args()

    corpus: list[Case] = json.loads(CORPUS_PATH.read_text(encoding="utf-8"))
    non_dates = [case for case in corpus if case["expected"] is None]
    for parser in (ours, plain_dateparser):  # warm up: imports, language data, regex caches
        accuracy(parser, corpus)

    ours_correct, ours_wrong = accuracy(ours, corpus)
    dp_correct, dp_wrong = accuracy(plain_dateparser, corpus)
    ours_time = per_call_seconds(ours, corpus, args.rounds * 50)
    dp_time = per_call_seconds(plain_dateparser, corpus, args.rounds)
    ours_none_time = per_call_seconds(ours, non_dates, args.rounds * 50)

    total = len(corpus)
    ratio = dp_time / ours_time
    print(f"corpus: {total} cases ({len(non_dates)} without a date) from {CORPUS_PATH.name}")
    print(f"{'parser':<36}{'per call':>12}{'correct':>12}{'accuracy':>10}")
    print(
        f"{'coopspider.dates.parse_date':<36}{ours_time * 1e6:>9.1f} us"
        f"{f'{ours_correct}/{total}':>12}{ours_correct / total:>10.1%}"
    )
    print(
        f"{'dateparser.parse(languages=[vi])':<36}{dp_time * 1e6:>9.1f} us"
        f"{f'{dp_correct}/{total}':>12}{dp_correct / total:>10.1%}"
    )
    print(
        f"parse_date on the {len(non_dates)} non-date cases: {ours_none_time * 1e6:.1f} us per call"
    )
    print(f"speed ratio (dateparser / parse_date): {ratio:.0f}x")
    met = ratio >= 50 and ours_correct > dp_correct
    print(f"target (>= 50x faster and more correct cases): {'met' if met else 'NOT met'}")
    if args.show_wrong:
        for name, wrong in (("parse_date", ours_wrong), ("dateparser", dp_wrong)):
            print(f"\n{name} misses {len(wrong)}:")
            for text in wrong:
                print(f"  {text!r}")


if __name__ == "__main__":
    main()
