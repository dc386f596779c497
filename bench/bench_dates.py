"""Compare coopspider.dates.parse_date with dateparser on the labelled date corpus.

Run: .venv/bin/python bench/bench_dates.py [--rounds N]
Three parsers on every string of the corpus, in one run: parse_date; dateparser with its default
settings (the baseline); and dateparser with our tuned settings, the DateDataParser parse_date
falls back to (languages vi and en, the case's day/month order, day, month and year required,
strict, absolute dates only, Vietnam time), here called on every string. Prints each one's time
per call and accuracy (correct/total), and its speed against the baseline.
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

from coopspider.dates import VIETNAM_TZ, _fallback_parser, parse_date, to_iso  # noqa: E402

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


def tuned_dateparser(case: Case) -> datetime | None:
    # The very parser object parse_date uses as its fallback, with the settings tuned for it.
    return _fallback_parser(case.get("order", "DMY")).get_date_data(case["text"]).date_obj


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
    parsers: list[tuple[str, Parser, int]] = [  # label, parser, timing passes
        ("coopspider.dates.parse_date", ours, args.rounds * 50),
        ("dateparser, default settings", plain_dateparser, args.rounds),
        ("dateparser, our tuned settings", tuned_dateparser, args.rounds),
    ]
    for _, parser, _ in parsers:  # warm up: imports, language data, regex caches
        accuracy(parser, corpus)
    results = {}
    for label, parser, passes in parsers:
        correct, wrong = accuracy(parser, corpus)
        results[label] = (per_call_seconds(parser, corpus, passes), correct, wrong)
    ours_none_time = per_call_seconds(ours, non_dates, args.rounds * 50)

    total = len(corpus)
    baseline = results["dateparser, default settings"][0]
    print(f"corpus: {total} cases ({len(non_dates)} without a date) from {CORPUS_PATH.name}")
    print("dateparser default settings: dateparser.parse(text, languages=[vi]) (baseline)")
    print("dateparser tuned settings: parse_date's fallback DateDataParser, on every string")
    print(f"{'parser':<32}{'per call':>12}{'correct':>10}{'accuracy':>10}{'speed vs baseline':>19}")
    for label, (seconds, correct, _) in results.items():
        print(
            f"{label:<32}{seconds * 1e6:>9.1f} us{f'{correct}/{total}':>10}{correct / total:>10.1%}"
            f"{baseline / seconds:>18.1f}x"
        )
    print(
        f"parse_date on the {len(non_dates)} non-date cases: {ours_none_time * 1e6:.1f} us per call"
    )
    ours_time, ours_correct, _ = results["coopspider.dates.parse_date"]
    _, dp_correct, _ = results["dateparser, default settings"]
    ratio = baseline / ours_time
    print(f"speed ratio (dateparser default / parse_date): {ratio:.0f}x")
    met = ratio >= 50 and ours_correct > dp_correct
    print(f"target (>= 50x faster and more correct cases): {'met' if met else 'NOT met'}")
    if args.show_wrong:
        for name, (_, _, wrong) in results.items():
            print(f"\n{name} misses {len(wrong)}:")
            for text in wrong:
                print(f"  {text!r}")


if __name__ == "__main__":
    main()
