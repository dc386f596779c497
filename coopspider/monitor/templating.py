"""The Jinja2 environment every HTML and XML document the monitor writes is rendered with: the
report's pages, the e-mail's HTML part and the Atom feed.

Autoescape is on for every template (HTML and XML alike: markupsafe's escapes of &, <, >, " and '
are valid in both), so text from crawled pages (titles, bodies, captions) can never become markup;
links are made only from http(s) URLs (the `link` macro). Values are written by the vocabulary.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from coopspider.monitor.vocabulary import (
    baseline_sentence,
    date_text,
    field_label,
    image_text,
    moment_text,
    number_text,
    published_text,
    removal_reason,
)

_LINE_BREAKS = re.compile(r"\n+")


@cache
def environment() -> Environment:
    """The environment, built once per process."""
    env = Environment(
        loader=PackageLoader("coopspider.monitor", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        vn_datetime=moment_text,
        vn_date=date_text,
        vn_published=published_text,
        number=number_text,
        field_label=field_label,
        image_text=image_text,
        web_url=lambda url: bool(url) and urlsplit(str(url)).scheme in ("http", "https"),
        line_breaks=line_breaks,
        atom_time=atom_time,
    )
    env.globals.update(baseline_sentence=baseline_sentence, removal_reason=removal_reason)
    return env


def line_breaks(text: str) -> Markup:
    """`text` escaped, each run of line breaks shown as one <br> (HTML folds them into a space)."""
    return Markup(_LINE_BREAKS.sub("<br>", str(escape(text))))


def atom_time(moment: datetime) -> str:
    """A time as Atom writes it (RFC 3339, in UTC): 2025-01-09T01:30:00Z."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
