"""Render a Report as static HTML files that open from disk, offline, with no external assets.

The pages come from the monitor's Jinja2 environment (monitor.templating), which escapes every
value, so text from crawled pages (titles, bodies, captions) can never become markup; only the
chart is inserted as markup, and ElementTree built it with every text and attribute escaped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from markupsafe import Markup

from coopspider.files import write_whole
from coopspider.monitor import templating
from coopspider.monitor.counter_chart import counter_chart_svg
from coopspider.monitor.feed import FEED_FILE, Feed, build_feed, render_feed
from coopspider.monitor.report_data import Report, ReportSource
from coopspider.progress import Progress
from coopspider.text import strip_controls
from storage import UTC_PLUS_7

INDEX = "index.html"


def report_feed(source: ReportSource) -> Feed:
    """The feed the report writes beside its index: the changes of the report's own events,
    linking the index as their HTML page."""
    return build_feed(
        source.events, now=source.now, days=source.days, site=source.site, alternate=INDEX
    )


def render_pages(report: Report, feed: Feed | None = None) -> Iterator[tuple[str, str]]:
    """(relative path, document) of each file: one page per article first, then the Atom feed
    (when given; the index links it), the index last; no control character of an archive written
    before normalisation dropped them reaches a page."""
    environment = templating.environment()
    article_template = environment.get_template("article.html")
    for article_pk, history in report.articles.items():
        page = article_template.render(article=history)
        yield f"articles/{article_pk}.html", strip_controls(page)
    charts = {
        series.site: Markup(counter_chart_svg(series.days, site=series.site))
        for series in report.counters
    }
    if feed is not None:
        yield FEED_FILE, render_feed(feed)
    index = environment.get_template("index.html").render(
        report=report, charts=charts, feed_file=FEED_FILE if feed is not None else None
    )
    yield INDEX, strip_controls(index)


def write_report(report: Report, out_dir: Path, feed: Feed | None = None) -> Path:
    """Write the report's pages (and `feed` as feed.atom) under `out_dir` and return the
    index's path.

    Each file is written whole (temporary file, then rename) and the index last, so an
    interrupted run never leaves a page cut short or an index linking to missing pages.
    """
    (out_dir / "articles").mkdir(parents=True, exist_ok=True)
    files = len(report.articles) + 1 + (feed is not None)
    with Progress("report pages", total=files) as progress:
        for relative, html in render_pages(report, feed):
            write_whole(out_dir / relative, html)
            progress.advance()
    return out_dir / INDEX


def summary_line(report: Report) -> str:
    """What the report holds, in one line for the terminal."""
    moment: datetime = report.generated_at
    runs = f"{len(report.runs)} crawl run{'' if len(report.runs) == 1 else 's'}"
    return (
        f"{len(report.new)} new, {len(report.changed)} edited, {len(report.removed)} removed "
        f"articles and {runs} in the {report.days} days to "
        f"{moment.astimezone(UTC_PLUS_7):%Y-%m-%d %H:%M}"
    )
