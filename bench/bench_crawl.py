"""Crawl speed and memory of `scrapy crawl lienminh` against a bare link-following spider.

Serves a generated 2,000-article sample site on 127.0.0.1 (in its own process), then crawls it with
politeness off, first with the bare spider of bare_spider.py, then with the real spider storing into
a fresh SQLite file, and prints pages per second, peak memory and the ratio of the two.

    .venv/bin/python bench/bench_crawl.py [--articles 2000] [--rounds 1]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAST = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=0",
    "-s",
    "CONCURRENT_REQUESTS=16",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s",
    "LOG_LEVEL=INFO",
    "-s",
    "STATS_DUMP=1",
]


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (the archive writer included)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+)", status)
        total += int(match.group(1)) if match else 0
        pending.extend(int(child) for child in children)
    return total


def crawl(command: list[str]) -> tuple[int, float, float]:
    """(pages, seconds by Scrapy's own clock, peak resident MB of the whole process tree)."""
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    peak_kb = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_kb
        while not done.wait(0.05):
            peak_kb = max(peak_kb, _tree_rss_kb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    log = process.stderr.read()
    process.wait()
    done.set()
    sampler.join()
    if process.returncode != 0:
        sys.exit(f"crawl failed: {' '.join(command)}\n{log[-2000:]}")
    pages = int(re.search(r"'downloader/response_count': (\d+)", log).group(1))
    seconds = float(re.search(r"'elapsed_time_seconds': ([\d.]+)", log).group(1))
    return pages, seconds, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=1, help="crawls of each spider; best kept")
    args = parser.parse_args()

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "coopspider.cli",
            "sample-site",
            "--port",
            "0",
            "--articles",
            str(args.articles),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        base_url = server.stdout.readline().strip()
        print(f"sample site of {args.articles} articles at {base_url}")
        results: dict[str, list[tuple[int, float, float]]] = {"bare": [], "lienminh": []}
        for _ in range(args.rounds):
            bare = [
                sys.executable,
                "-m",
                "scrapy",
                "runspider",
                "bench/bare_spider.py",
                "-a",
                f"base_url={base_url}",
                "-s",
                "ITEM_PIPELINES={}",
                *FAST,
            ]
            results["bare"].append(crawl(bare))
            with tempfile.TemporaryDirectory() as folder:
                ours = [
                    sys.executable,
                    "-m",
                    "scrapy",
                    "crawl",
                    "lienminh",
                    "-a",
                    f"base_url={base_url}",
                    "-s",
                    f"DATABASE_URL=sqlite:///{folder}/bench.sqlite3",
                    *FAST,
                ]
                results["lienminh"].append(crawl(ours))
    finally:
        server.terminate()
        server.wait()

    print(f"{'spider':<10} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'peak MB':>8}")
    speed = {}
    for name, runs in results.items():
        pages, seconds, peak = max(runs, key=lambda run: run[0] / run[1])
        speed[name] = pages / seconds
        print(f"{name:<10} {pages:>6} {seconds:>8.1f} {speed[name]:>8.1f} {peak:>8.0f}")
    ratio = speed["lienminh"] / speed["bare"]
    peak_ours = max(run[2] for run in results["lienminh"])
    print(
        f"speed ratio lienminh/bare: {ratio:.2f} (target >= 0.70: "
        f"{'met' if ratio >= 0.70 else 'NOT met'}); peak memory {peak_ours:.0f} MB "
        f"(target < 300 MB: {'met' if peak_ours < 300 else 'NOT met'})"
    )


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"benchmark took {time.perf_counter() - started:.0f} s")
