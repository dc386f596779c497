"""The `coopspider` command: crawl, extract, export, the sample site. Thin: work is elsewhere."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILED = (
    1  # the work ran and failed: a crawl that did not finish, a page that could not be read
)
EXIT_USAGE = 2  # bad arguments or configuration; argparse uses 2 as well

SAMPLE_SITE_NAME = "sample"


class UserError(Exception):
    """A problem the user can fix; printed as one line, without a traceback."""


def _database_url(args: argparse.Namespace) -> str:
    from storage import resolve_database_url

    return resolve_database_url(args.database)


def _open(args: argparse.Namespace, *, read_only: bool = False) -> Any:
    from sqlalchemy.exc import SQLAlchemyError

    from storage import open_database

    url = _database_url(args)
    try:
        return open_database(url, read_only=read_only)
    except (SQLAlchemyError, OSError, ValueError) as error:
        raise UserError(f"cannot open the database {_redact(url)}: {error}") from error


def _redact(url: str) -> str:
    """The database URL with any password hidden, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(invalid URL)"


# -- crawl ----------------------------------------------------------------------------------------


def run_crawl(
    base_url: str | None,
    site: str | None,
    database_url: str,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the `lienminh` spider in this process and return its final stats."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "coopspider.settings")
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    settings.set("DATABASE_URL", database_url, priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    process = CrawlerProcess(settings)
    arguments = {key: value for key, value in (("base_url", base_url), ("site", site)) if value}
    crawler = process.create_crawler("lienminh")
    process.crawl(crawler, **arguments)
    process.start()
    return dict(crawler.stats.get_stats()) if crawler.stats else {}


def cmd_crawl(args: argparse.Namespace) -> int:
    from coopspider.sample_site import build_site, serve

    database_url = _database_url(args)
    overrides: dict[str, Any] = {"LOG_LEVEL": args.log_level}
    with ExitStack() as stack:
        base_url, site = args.base_url, args.site
        if args.sample:
            server = stack.enter_context(serve(build_site()))
            base_url, site = server.base_url, site or SAMPLE_SITE_NAME
            # Our own server on loopback: no need to be gentle with it.
            overrides.update(
                DOWNLOAD_DELAY=0, AUTOTHROTTLE_ENABLED=False, CONCURRENT_REQUESTS_PER_DOMAIN=8
            )
            print(f"Serving the sample site at {base_url}", flush=True)
        print(
            f"Crawling {base_url or 'the Thái Bình alliance site'} into {_redact(database_url)}",
            flush=True,
        )
        try:
            stats = run_crawl(base_url, site, database_url, overrides)
        except ValueError as error:
            raise UserError(str(error)) from error
    return _report_crawl(args, stats)


def _report_crawl(args: argparse.Namespace, stats: dict[str, Any]) -> int:
    from storage import VIETNAM_TZ, get_run, latest_versions

    reason = stats.get("finish_reason", "unknown")
    counts = {
        kind: stats.get(f"coopspider/articles/{kind}", 0)
        for kind in ("new", "changed", "unchanged")
    }
    print(
        f"Crawl {reason}: {stats.get('downloader/response_count', 0)} pages fetched, "
        f"{counts['new']} new, {counts['changed']} changed, {counts['unchanged']} unchanged "
        f"articles; {stats.get('coopspider/pages/unparsed', 0)} pages not parsed, "
        f"{stats.get('coopspider/date_unparsed', 0)} dates not understood."
    )
    run_id = stats.get("coopspider/run_id")
    if run_id is not None:
        factory = _open(args, read_only=True)
        with factory() as session:
            run = get_run(session, run_id)
            rows = list(latest_versions(session, site=run.site)) if run else []
        print(f"The archive holds {len(rows)} articles of site {run.site if run else '?'}:")
        for article, version in rows[: args.show]:
            published = version.published_at
            date = published.astimezone(VIETNAM_TZ).date().isoformat() if published else "-" * 10
            print(f"  {date}  {version.title}  <{article.url}>")
        if len(rows) > args.show:
            print(f"  ... and {len(rows) - args.show} more (coopspider export)")
    return EXIT_OK if reason == "finished" else EXIT_FAILED


# -- extract --------------------------------------------------------------------------------------


def _read_page(source: str, url: str | None, timeout: float) -> tuple[str, bytes, dict[str, str]]:
    """(url, body, headers) of a saved file or a live page."""
    path = Path(source)
    if path.is_file():
        return url or path.resolve().as_uri(), path.read_bytes(), {}
    if source.startswith(("http://", "https://")):
        from coopspider.settings import USER_AGENT

        request = urllib.request.Request(source, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                headers = {"Content-Type": response.headers.get("Content-Type", "")}
                return url or response.geturl(), response.read(), headers
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise UserError(f"cannot fetch {source}: {error}") from error
    raise UserError(f"{source}: no such file, and not an http(s) URL")


def cmd_extract(args: argparse.Namespace) -> int:
    from scrapy.http import HtmlResponse

    from coopspider.pages.article import ArticlePage
    from coopspider.pages.decoding import page_text
    from coopspider.urls import classify

    url, body, headers = _read_page(args.source, args.url, args.timeout)
    response = HtmlResponse(url=url, body=body, headers=headers)
    parsed = classify(url)
    text = page_text(response)
    fields = ArticlePage(response.url, text, date_order=args.date_order).fields()
    fields = {"url": url, "article_id": parsed.article_id, "category": parsed.category, **fields}
    json.dump(fields, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return EXIT_OK if fields["title"] and fields["body"] else EXIT_FAILED


# -- export ---------------------------------------------------------------------------------------

# Spreadsheets run a CSV cell that starts with one of these as a formula (CSV injection): page
# text is data, so such a cell gets a leading apostrophe, which they show as plain text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def cmd_export(args: argparse.Namespace) -> int:
    from storage import article_as_dict, latest_versions

    factory = _open(args, read_only=True)
    out = sys.stdout
    with factory() as session:
        rows = (article_as_dict(a, v) for a, v in latest_versions(session, site=args.site))
        if args.format == "jsonl":
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            return EXIT_OK
        writer: csv.DictWriter[str] | None = None
        for row in rows:
            row["images"] = json.dumps(row["images"], ensure_ascii=False)
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(row))
                writer.writeheader()
            writer.writerow({key: _spreadsheet_safe(value) for key, value in row.items()})
    return EXIT_OK


# -- sample site ----------------------------------------------------------------------------------


def cmd_sample_site(args: argparse.Namespace) -> int:
    from coopspider.sample_site import build_site, serve

    site = build_site(articles=args.articles, markup=args.markup)
    try:
        server = serve(site, host=args.host, port=args.port)
    except OSError as error:
        raise UserError(f"cannot listen on {args.host}:{args.port}: {error}") from error
    with server:
        print(server.base_url, flush=True)
        print(
            "Crawl it with: scrapy crawl lienminh -a base_url=" + server.base_url,
            file=sys.stderr,
            flush=True,
        )
        with suppress(KeyboardInterrupt):
            server.wait()
    return EXIT_OK


# -- the command line -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coopspider",
        description="Archive and monitor the news of Vietnam's provincial Cooperative Alliances.",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="SQLAlchemy database URL (default: $COOPSPIDER_DATABASE_URL, else "
        "sqlite:///data/coopspider.sqlite3)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    crawl = commands.add_parser(
        "crawl",
        help="crawl a site into the archive and list what it holds",
        description="Run the lienminh spider (like `scrapy crawl lienminh`) and summarise.",
    )
    crawl.add_argument("--base-url", help="site root (default: the Thái Bình alliance site)")
    crawl.add_argument("--site", help="name to file the articles under")
    crawl.add_argument(
        "--sample",
        action="store_true",
        help="serve the bundled sample site on 127.0.0.1 and crawl that",
    )
    crawl.add_argument(
        "--show",
        type=int,
        default=30,
        metavar="N",
        help="list at most N archived articles (default 30)",
    )
    crawl.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="Scrapy log level",
    )
    crawl.set_defaults(handler=cmd_crawl)

    extract = commands.add_parser(
        "extract",
        help="print the fields read from one article page as JSON",
        description="Read one saved file or live URL and print what the spider would store.",
    )
    extract.add_argument("source", metavar="PATH_OR_URL")
    extract.add_argument("--url", help="the URL a saved page came from (resolves links and ids)")
    extract.add_argument("--date-order", choices=["DMY", "MDY"], default="DMY")
    extract.add_argument("--timeout", type=float, default=30.0, help="seconds for a live fetch")
    extract.set_defaults(handler=cmd_extract)

    export = commands.add_parser(
        "export",
        help="print the latest version of every archived article",
        description="Write the archive's current articles to standard output.",
    )
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--site", help="only this site")
    export.set_defaults(handler=cmd_export)

    sample = commands.add_parser(
        "sample-site",
        help="serve the bundled sample site on 127.0.0.1",
        description="Serve realistic pages in the real URL grammar; prints the root URL.",
    )
    sample.add_argument("--host", default="127.0.0.1")
    sample.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    sample.add_argument("--markup", choices=["portal", "classic"], default="portal")
    sample.add_argument("--articles", type=int, default=24)
    sample.set_defaults(handler=cmd_sample_site)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except UserError as error:
        print(f"coopspider: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
