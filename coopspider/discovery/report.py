"""What `coopspider discover` prints: the `[sites.NAME]` table, and a summary for people."""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import unquote, urlsplit

from coopspider.config import DISCOVERED_MARK
from coopspider.discovery.explore import Conclusion, site_table
from coopspider.profiles import builtin_profiles

# Comment lines name at most this many sampled articles and categories.
_SHOWN = 5


def site_toml(name: str, result: Conclusion, today: dt.date, base_url: str | None = None) -> str:
    """The site's table in the configuration file's format, with what was seen as comments;
    `base_url` in place of the one learned (the same with the login the user gave)."""
    table = site_table(result)
    if base_url is not None:
        table["base_url"] = base_url
    urls = table.pop("urls")
    assert isinstance(urls, dict)
    lines = [f"{DISCOVERED_MARK} on {today.isoformat()} from {result.start_url}"]
    lines += [f"# {line}" for line in _evidence(result)]
    lines.append(f"[sites.{name}]")
    lines += [f"{key} = {_value(value)}" for key, value in table.items()]
    shipped = builtin_profiles().get(name)
    if shipped is not None:
        # A shipped site that moved platform: its old platform's link and field selectors go.
        for key in ("article_links", "listing_links"):
            if getattr(shipped.grammar, key):
                urls[key] = ""
    lines += ["", f"[sites.{name}.urls]"]
    lines += [f"{key} = {_value(value)}" for key, value in urls.items()]
    if shipped is not None and shipped.selectors.items():
        lines += ["", f"[sites.{name}.selectors]  # the shipped profile's, for its old platform"]
        lines += [f'{field} = ""' for field, _ in shipped.selectors.items()]
    return "\n".join(lines) + "\n"


def _evidence(result: Conclusion) -> list[str]:
    read = [sample for sample in result.samples if sample.reads]
    lines = [
        f"{result.requests} requests. Articles: {len(read)} of {len(result.samples)} sampled "
        "pages read (title, date, text), e.g.:"
    ]
    for sample in read[:_SHOWN]:
        day = (sample.published_at or "")[:10]
        lines.append(f"  {day}  {_cut(sample.title or '', 60)}  <{_path(sample.url)}>")
    categories = ", ".join(result.categories[:_SHOWN])
    more = f" and {len(result.categories) - _SHOWN} more" if len(result.categories) > _SHOWN else ""
    lines.append(f"Categories read: {categories or '-'}{more}")
    offsets = f", offsets {result.items_per_page} apart" if result.items_per_page else ""
    for family in result.pagination:
        lines.append(f"Pagination: {family.template()}{offsets}")
    if result.pages_followed:
        lines.append(
            f"Followed {len(result.pages_followed)} listing pages deep: "
            + " > ".join(_path(url) for url in result.pages_followed)
        )
    if result.skip_categories:
        lines.append(f"Skipped (menu pages, not news): {', '.join(result.skip_categories)}")
    for url, why in result.not_news:
        lines.append(f"Not news: {_path(url)} ({why})")
    return lines


def summary(name: str, result: Conclusion, seconds: float) -> list[str]:
    """One screen for people: what was learned, what was left out, and what to do next."""
    lines = [f"{result.base_url}: {result.requests} requests in {seconds:.0f} s"]
    read = sum(sample.reads for sample in result.samples)
    for family in result.articles:
        lines.append(f"  articles    {family.template()}")
    if result.samples:
        lines.append(
            f"              {read} of {len(result.samples)} sampled pages read as articles"
        )
    for family in result.listings:
        lines.append(f"  listings    {family.template()}")
    if result.categories:
        lines.append(f"              categories read: {', '.join(result.categories[:_SHOWN])}")
    for family in result.pagination:
        lines.append(f"  pagination  {family.template()}")
    if result.pages_followed:
        lines.append(f"              followed {len(result.pages_followed)} pages deep")
    for url, why in result.not_news:
        lines.append(f"  not news    {_path(url)}: {why}")
    if result.skip_categories:
        lines.append(f"  skipped     categories {', '.join(result.skip_categories)}")
    if result.verified:
        return lines
    lines.append("  links seen that are not articles:")
    lines += [f"    {r.template} ({r.links} links): {r.why}" for r in result.rejected]
    failures = [sample for sample in result.samples if not sample.reads]
    if failures:
        lines.append("  sampled pages that did not read as articles:")
        lines += [f"    {_path(sample.url)}: {sample.why}" for sample in failures[:_SHOWN]]
    lines.append("Not learned:")
    lines += [f"  {problem}" for problem in result.problems]
    return lines


def default_name(url: str) -> str:
    """A site name from the host: `lmhtx.kontum.gov.vn` -> `lmhtx-kontum`."""
    host = (urlsplit(url).hostname or "site").lower().removeprefix("www.")
    generic = {"gov", "vn", "com", "org", "net", "edu", "info", "int"}
    labels = [label for label in host.split(".") if label not in generic] or [host]
    name = "-".join(labels).encode("ascii", "ignore").decode()
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in name).strip("-_") or "site"


def _value(value: object) -> str:
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + "".join(f"    {_string(item)},\n" for item in value) + "]"
    return str(value)


def _string(text: object) -> str:
    """A TOML string: literal (no escapes: patterns stay readable) where it can be."""
    text = str(text)
    if "'" not in text and all(ch >= " " and ch != "\x7f" for ch in text):
        return f"'{text}'"
    return json.dumps(text, ensure_ascii=False)


def _path(url: str) -> str:
    """The path (decoded, as people read it) and query of a URL."""
    parts = urlsplit(url)
    return unquote(parts.path) + (f"?{parts.query}" if parts.query else "")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
