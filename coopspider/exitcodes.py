"""Exit codes of the `coopspider` command, in one place so cron and systemd can act on them.

| code | name                 | meaning                                                           |
|------|----------------------|-------------------------------------------------------------------|
| 0    | EXIT_OK              | all went well                                                     |
| 1    | EXIT_FAILED          | the work ran and failed (a `crawl` that did not finish, a page    |
|      |                      | `extract` could not read, a step of `run` other than crawl/alert) |
| 2    | EXIT_USAGE           | bad arguments or configuration; nothing was done                  |
| 3    | EXIT_ALERTS_NOT_SENT | `run`: the alert e-mail could not be delivered; the changes stay  |
|      |                      | queued and go out with the next successful run                    |
| 4    | EXIT_CRAWL_FAILED    | `run`: the crawl of at least one site failed (the other sites     |
|      |                      | were still crawled; `run --scrapyd`: also when no node answers);  |
|      |                      | `crawl`: the site's home page could not be read (the site is      |
|      |                      | down), nothing was archived                                       |
| 75   | EXIT_LOCKED          | `run`: another run holds the lock (on PostgreSQL, a run on any    |
|      |                      | machine); `crawl`, `scrapy crawl`: another crawl of the same site |
|      |                      | is running; nothing was done (EX_TEMPFAIL from sysexits.h: try    |
|      |                      | again later)                                                      |
| 130  | EXIT_INTERRUPTED     | `crawl`, `run`, `scrapy crawl`: stopped by Ctrl-C (SIGINT); the   |
|      |                      | articles written so far are kept, the run is recorded as failed   |
|      |                      | with the reason "interrupted" (128 + SIGINT, as shells report it) |

When several steps of one `run` fail, the code is the first failing step's, in the order of the
cycle: crawl, diff, alert.
"""

from __future__ import annotations

import sys
from typing import NoReturn

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ALERTS_NOT_SENT = 3
EXIT_CRAWL_FAILED = 4
EXIT_LOCKED = 75
EXIT_INTERRUPTED = 130


def refuse_to_start(problem: str, code: int = EXIT_USAGE) -> NoReturn:
    """Stop a crawl that cannot start, before Scrapy turns the error into pages of tracebacks:
    one line on stderr, exit `code` (2; EXIT_LOCKED when another crawl of the site runs).
    SystemExit leaves Scrapy's event loop at once, quietly."""
    print(f"coopspider: error: {problem}", file=sys.stderr, flush=True)
    raise SystemExit(code)
