"""Requests and bytes of a first crawl and of a repeat crawl of the same, unchanged site.

Serves a generated 2,000-article sample site on 127.0.0.1 whose 14 newest articles came out in
the last two weeks (inside the default revisit window), crawls it into a fresh SQLite file, then
crawls it again, and prints what each crawl cost the site side by side: requests, bytes received
and sent, 304 answers, and the ratio of repeat to first. A full crawl (-a full=1) is printed
after them for reference.

    .venv/bin/python bench/bench_incremental.py [--articles 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coopspider.sample_site import build_site, serve  # noqa: E402
from storage import open_database  # noqa: E402
from storage.models import CrawlRun  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"]
FAST += ["-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16"]
FAST += ["-s", "LOG_LEVEL=WARNING"]


def crawl(base_url: str, database_url: str, *extra: str) -> dict[str, Any]:
    """Crawl once; the stats the run recorded."""
    command = [sys.executable, "-m", "scrapy", "crawl", "lienminh", "-a", f"base_url={base_url}"]
    command += ["-a", "site=bench", "-s", f"DATABASE_URL={database_url}", *FAST, *extra]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    database = open_database(database_url)
    with database.session() as session:
        run = session.query(CrawlRun).order_by(CrawlRun.id.desc()).limit(1).one()
        stats = dict(run.stats or {})
    database.close()
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    args = parser.parse_args()
    site = build_site(articles=args.articles)
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    for days_ago, article in enumerate(site.latest()[:14]):
        article.date = today - dt.timedelta(days=days_ago)
    rows = []
    with tempfile.TemporaryDirectory() as directory, serve(site) as server:
        database_url = f"sqlite:///{Path(directory) / 'archive.sqlite3'}"
        for label, extra in [("first", ()), ("repeat", ()), ("full", ("-a", "full=1"))]:
            stats = crawl(server.base_url, database_url, *extra)
            rows.append(
                (
                    label,
                    stats.get("downloader/request_count", 0),
                    stats.get("downloader/response_bytes", 0),
                    stats.get("downloader/request_bytes", 0),
                    stats.get("downloader/response_status_count/304", 0),
                )
            )
    print(f"{args.articles:,}-article site, unchanged between crawls:")
    print(f"{'crawl':<8}{'requests':>10}{'bytes in':>14}{'bytes out':>12}{'304s':>7}")
    for label, requests, received, sent, not_modified in rows:
        print(f"{label:<8}{requests:>10,}{received:>14,}{sent:>12,}{not_modified:>7,}")
    first, repeat = rows[0], rows[1]
    print(
        f"repeat / first: x{repeat[1] / first[1]:.3f} requests, "
        f"x{repeat[2] / first[2]:.3f} bytes received"
    )


if __name__ == "__main__":
    main()
