"""Site profiles: where a site lives, its URL grammar, optional field selectors, its politeness.

Built-in profiles ship as data in `coopspider/profiles.toml`. A user's configuration adds or
changes sites through `load_profiles(overrides)`, where `overrides` are the `[sites.NAME]` tables
of the config file. Every value is validated; a mistake is reported as a `ProfileError` naming
the site, the key and what was expected.

Keys of a built-in profile table:
  title, base_url, platform (text); date_order ("DMY" or "MDY"); download_delay (seconds >= 0);
  concurrency (requests at once, >= 1); categories / skip_categories (lists of category names as
  the URL grammar reads them, no category in both; empty categories means all); revisit_days /
  revisit_old_days (whole days >= 0, used by incremental crawls: 0 revisits nothing recent, or
  old articles on every crawl);
  [NAME.urls]: article, listing, pagination (lists of regular expressions; see UrlGrammar),
  article_links, listing_links (optional selectors), items_per_page (for `offset` pagination);
  [NAME.selectors]: title, date, author, body, images, counter (optional selectors).
Keys of a `[sites.NAME]` override: the same (all optional; `urls` and `selectors` change only
the keys they give, "" removes a selector), and `profile`: the built-in profile a new site starts
from, or the platform a built-in site moved to.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cache, partial
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import regex

from coopspider.config import key_line, masked_url
from coopspider.pages.selectors import SelectorSyntaxError, compile_selector
from coopspider.urls import ParsedUrl, UrlGrammar, catastrophic_repetition, host_of

DEFAULT_PROFILE = "thaibinh"
SITE_TABLES_ENV = "COOPSPIDER_SITE_TABLES"
BUILTIN_SOURCE = "coopspider/profiles.toml"
DATE_ORDERS = ("DMY", "MDY")
SITE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")  # how site names are written


class ProfileError(ValueError):
    """Site profiles or overrides that cannot be used, with the site and key at fault.

    `problems` holds every (key, message) found, not only the first: the key is relative to the
    profile's table ("urls.article[0]") from `profile_from_table`, a key path of the
    configuration file ("sites.hungyen.urls.article[0]") from `load_profiles`.
    """

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems if problems is not None else [("", message)]


@dataclass(frozen=True)
class FieldSelectors:
    """Optional selectors for article fields, tried before any generic evidence."""

    title: str | None = None
    date: str | None = None
    author: str | None = None
    body: str | None = None  # the element holding the article's text (the lead may sit before it)
    images: str | None = None  # the <img> elements of the article
    counter: str | None = None  # the visitor counter widget

    def items(self) -> list[tuple[str, str]]:
        """(field, selector) for the selectors that are set."""
        return [(f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name)]


@dataclass(frozen=True)
class SiteProfile:
    """Everything the crawl and the extraction need to know about one site."""

    name: str  # the name the archive files the site's articles under, e.g. "thaibinh"
    title: str  # the alliance's name, for people
    base_url: str  # site root, ending in "/"
    platform: str  # the platform and its article URL form, for people
    grammar: UrlGrammar
    selectors: FieldSelectors = field(default_factory=FieldSelectors)
    date_order: str = "DMY"
    download_delay: float = 2.0
    concurrency: int = 1
    categories: tuple[str, ...] = ()  # only these categories (empty: all)
    skip_categories: tuple[str, ...] = ()
    revisit_days: int | None = None
    revisit_old_days: int | None = None

    def classify(self, url: str) -> ParsedUrl:
        """The URL classified by this site's grammar."""
        return self.grammar.classify(url)

    def follows_category(self, category: str | None) -> bool:
        """Whether the crawl goes into listings and articles of this category."""
        if category is None:
            return True  # the grammar does not say: the URL cannot be filtered by category
        folded = category.lower()
        if folded in (c.lower() for c in self.skip_categories):
            return False
        return not self.categories or folded in (c.lower() for c in self.categories)

    def settings(self) -> dict[str, Any]:
        """The Scrapy settings this profile sets (a -s on the command line still wins)."""
        revisits = {
            setting: days
            for setting, days in (
                ("REVISIT_DAYS", self.revisit_days),
                ("REVISIT_OLD_DAYS", self.revisit_old_days),
            )
            if days is not None
        }
        return {
            "DOWNLOAD_DELAY": self.download_delay,
            "CONCURRENT_REQUESTS_PER_DOMAIN": self.concurrency,
            "DATE_ORDER": self.date_order,
            **revisits,
        }


# -- reading and checking -----------------------------------------------------------------------

_PROFILE_KEYS = {
    "title", "base_url", "platform", "date_order", "download_delay", "concurrency", "urls",
    "selectors", "categories", "skip_categories", "revisit_days", "revisit_old_days",
}  # fmt: skip
_URL_KEYS = {
    "article", "listing", "pagination", "article_links", "listing_links", "items_per_page",
}  # fmt: skip
_OVERRIDE_KEYS = {*_PROFILE_KEYS, "profile"}
# Each kind of pattern needs one of these named groups.
_REQUIRED_GROUPS = {"article": ("id",), "pagination": ("page", "offset")}
_INVALID = object()  # what _Checker.collect returns for a value with a problem


class _Checker:
    """Reads values out of one TOML table; a bad value is a ProfileError with `where` in front.

    `collect` runs one check and keeps its problems instead of stopping, so that every problem of
    a table is found in one pass; `error` is all of them as one ProfileError.
    """

    def __init__(self, where: str) -> None:
        self.where = where
        self.found: list[tuple[str, str]] = []

    def fail(self, key: str, message: str) -> ProfileError:
        return ProfileError(f"{self.where} {key}: {message}", [(key, message)])

    def collect(self, check: Callable[[], Any]) -> Any:
        """The value `check` returns, or _INVALID once its problems are kept."""
        try:
            return check()
        except ProfileError as error:
            self.found.extend(error.problems)
            return _INVALID

    def error(self, problems: list[tuple[str, str]] | None = None) -> ProfileError:
        """`problems` (default: those collected so far) as one ProfileError, a line each."""
        problems = list(self.found if problems is None else problems)
        lines = "\n".join(f"{self.where} {key}: {message}" for key, message in problems)
        return ProfileError(lines, problems)

    def unknown_keys(
        self, table: Mapping[str, Any], allowed: set[str] | tuple[str, ...], prefix: str = ""
    ) -> None:
        unknown = [key for key in table if key not in allowed]
        expected = ", ".join(sorted(allowed))
        self.found.extend(
            (prefix + key, f"unknown key; expected one of {expected}") for key in unknown
        )

    def text(self, table: Mapping[str, Any], key: str, default: str | None = None) -> str:
        value = table.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def base_url(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self.fail("base_url", f"must be a string, got {value!r}")
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            shown = masked_url(value)  # it may hold a login
            raise self.fail("base_url", f"must be an http:// or https:// URL, got {shown!r}")
        return value.strip().rstrip("/") + "/"

    def date_order(self, value: Any) -> str:
        if not isinstance(value, str) or value.upper() not in DATE_ORDERS:
            raise self.fail("date_order", f"must be one of {', '.join(DATE_ORDERS)}, got {value!r}")
        return value.upper()

    def categories(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(key, f"must be a list of non-empty strings, got {value!r}")
        names = tuple(v.strip() for v in value)
        # As the URL grammar reads them: any text of a path segment or query value, Vietnamese
        # letters included (DotNetNuke paths such as "Tin-hoạt-động").
        if bad := [name for name in names if not re.fullmatch(r"[^/?&#\s]+", name)]:
            raise self.fail(
                key,
                "must be categories as they appear in URLs (no spaces, '/', '?', '&' or '#'), "
                f"got {bad[0]!r}",
            )
        return names

    def days(self, value: Any, key: str) -> int:
        return self.whole(value, key, "a whole number of days >= 0", minimum=0)

    def whole(
        self, value: Any, key: str, expected: str = "a whole number >= 1", minimum: int = 1
    ) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"must be {expected}, got {value!r}")
        return value

    def number(self, value: Any, key: str, minimum: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise self.fail(key, f"must be a number >= {minimum:g}, got {value!r}")
        return value

    def patterns(self, value: Any, key: str) -> tuple[regex.Pattern[str], ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, f"must be a list of regular expressions, got {value!r}")
        compiled: list[regex.Pattern[str]] = []
        problems: list[tuple[str, str]] = []
        for number, text in enumerate(value):
            try:
                compiled.append(self.pattern(text, key))
            except ProfileError as error:
                problems.extend((f"{key}[{number}]", message) for _, message in error.problems)
        if problems:
            raise self.error(problems)
        return tuple(compiled)

    def pattern(self, text: str, key: str) -> regex.Pattern[str]:
        """One URL pattern of `key`, compiled, with the named group its kind needs."""
        try:
            pattern = regex.compile(text)
            catastrophic = catastrophic_repetition(text)
        except (re.error, regex.error) as error:
            raise self.fail(key, f"{text!r} is not a regex: {error}") from error
        if catastrophic:
            raise self.fail(
                key,
                f"{text!r} repeats a group whose own repetition has no separator, like "
                "([a-z]+-?)+: some URLs would take it minutes to reject; write the group "
                "without nested repetition, e.g. [a-z-]+",
            )
        groups = _REQUIRED_GROUPS.get(key.rsplit(".", 1)[-1], ())
        if groups and not any(group in pattern.groupindex for group in groups):
            wanted = " or ".join(f"(?P<{group}>...)" for group in groups)
            raise self.fail(key, f"{text!r} has no {wanted} group")
        return pattern

    def selector(self, value: Any, key: str) -> str | None:
        if value is None or value == "":
            return None  # "" in an override removes a built-in selector
        if not isinstance(value, str):
            raise self.fail(key, f"must be a CSS or XPath selector string, got {value!r}")
        try:
            compile_selector(value)
        except SelectorSyntaxError as error:
            raise self.fail(key, str(error)) from error
        return value.strip()


def _table(value: Any, check: _Checker, key: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise check.fail(key, f"must be a table, got {value!r}")
    return value


def profile_from_table(name: str, table: Mapping[str, Any], source: str) -> SiteProfile:
    """A checked profile from one TOML table (`source` names the file in error messages)."""
    check = _Checker(f"profile {name!r} ({source}):")
    if not SITE_NAME.fullmatch(name):
        raise check.fail("name", "use lower-case letters, digits, '-' and '_'")
    check.unknown_keys(table, _PROFILE_KEYS)
    missing = [key for key in ("title", "base_url", "platform", "urls") if key not in table]
    check.found.extend((key, "is required") for key in missing)
    urls = table.get("urls", {})
    if isinstance(urls, Mapping) and "urls" in table and "article" not in urls:
        check.found.append(("urls.article", "is required: the patterns of article URLs"))
    blank = SiteProfile(name, "", "", "", UrlGrammar(article=()))
    return _apply(blank, table, check)


def _apply(profile: SiteProfile, table: Mapping[str, Any], check: _Checker) -> SiteProfile:
    """The profile with the keys of `table` applied (shared by built-ins and overrides).

    Every key is checked, whatever the others hold; any problem raises them all together."""
    changes: dict[str, Any] = {}

    def take(into: dict[str, Any], key: str, value: Callable[[], Any]) -> None:
        if (checked := check.collect(value)) is not _INVALID:
            into[key] = checked

    for key in ("title", "platform"):
        if key in table:
            take(changes, key, partial(check.text, table, key))
    if "base_url" in table:
        take(changes, "base_url", lambda: check.base_url(table["base_url"]))
    if "date_order" in table:
        take(changes, "date_order", lambda: check.date_order(table["date_order"]))
    if "download_delay" in table:
        delay = table["download_delay"]
        take(changes, "download_delay", lambda: check.number(delay, "download_delay", 0))
    if "concurrency" in table:
        concurrency = table["concurrency"]
        take(changes, "concurrency", lambda: int(check.number(concurrency, "concurrency", 1)))
    for key in ("categories", "skip_categories"):
        if key in table:
            take(changes, key, partial(check.categories, table[key], key))
    followed = {name.lower() for name in changes.get("categories", ())}
    if overlap := [name for name in changes.get("skip_categories", ()) if name.lower() in followed]:
        check.found.append(
            (
                "skip_categories",
                f"{', '.join(overlap)} also listed in categories; a category is either followed "
                "or skipped",
            )
        )
    for key in ("revisit_days", "revisit_old_days"):
        if key in table:
            take(changes, key, partial(check.days, table[key], key))
    urls = check.collect(lambda: _table(table["urls"], check, "urls")) if "urls" in table else {}
    if urls is not _INVALID and urls:
        check.unknown_keys(urls, _URL_KEYS, "urls.")
        grammar: dict[str, Any] = {}
        for key in ("article", "listing", "pagination"):
            if key in urls:
                take(grammar, key, partial(check.patterns, urls[key], f"urls.{key}"))
        for key in ("article_links", "listing_links"):
            if key in urls:
                take(grammar, key, partial(check.selector, urls[key], f"urls.{key}"))
        if "items_per_page" in urls:
            per_page = urls["items_per_page"]
            take(grammar, "items_per_page", lambda: check.whole(per_page, "urls.items_per_page"))
        changed = replace(profile.grammar, **grammar)
        if changed.items_per_page is None and any(
            "offset" in pattern.groupindex for pattern in changed.pagination
        ):
            check.found.append(
                (
                    "urls.items_per_page",
                    "is required when a pagination pattern has an (?P<offset>...) group",
                )
            )
        changes["grammar"] = changed
    selectors = table.get("selectors", {})
    selectors = check.collect(lambda: _table(selectors, check, "selectors"))
    if selectors is not _INVALID and selectors:
        names = {f.name for f in fields(FieldSelectors)}
        check.unknown_keys(selectors, names, "selectors.")
        chosen: dict[str, Any] = {}
        for key in (key for key in selectors if key in names):
            take(chosen, key, partial(check.selector, selectors[key], f"selectors.{key}"))
        changes["selectors"] = replace(profile.selectors, **chosen)
    if check.found:
        raise check.error()
    return replace(profile, **changes)


@cache
def _builtin_text() -> str:
    return resources.files("coopspider").joinpath("profiles.toml").read_text("utf-8")


@cache
def builtin_profiles() -> dict[str, SiteProfile]:
    """The profiles shipped in coopspider/profiles.toml, by name."""
    try:
        data = tomllib.loads(_builtin_text())
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{BUILTIN_SOURCE} is not valid TOML: {error}") from error
    return {
        name: profile_from_table(
            name, _table(table, _Checker(BUILTIN_SOURCE), name), BUILTIN_SOURCE
        )
        for name, table in data.items()
    }


def builtin_source(key_path: str) -> str | None:
    """Where the built-in profiles set `key_path` ("kontum.date_order"): coopspider/profiles.toml
    and its line; None when they leave it to the default."""
    line = key_line(_builtin_text(), key_path)
    return f"{BUILTIN_SOURCE}:{line}" if line else None


def classify(url: str, grammar: UrlGrammar | None = None) -> ParsedUrl:
    """Classify a URL by `grammar`, by default the default profile's (the Thái Bình alliance's
    platform)."""
    return (grammar or builtin_profiles()[DEFAULT_PROFILE].grammar).classify(url)


def site_tables(setting: Mapping[str, Any]) -> Mapping[str, Any]:
    """The user's [sites.NAME] tables: the SITE_PROFILES setting, else the JSON object in
    $COOPSPIDER_SITE_TABLES (how `coopspider run` hands them to its crawls, off the command line:
    a base URL in them may hold a login)."""
    if setting:
        return setting
    text = os.environ.get(SITE_TABLES_ENV, "").strip()
    if not text:
        return {}
    try:
        tables = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProfileError(f"{SITE_TABLES_ENV}: not a JSON object ({error})") from None
    if not isinstance(tables, dict):
        raise ProfileError(f"{SITE_TABLES_ENV}: not a JSON object")
    return tables


def with_site_table(
    tables: Mapping[str, Any], site: str | None, table_json: str | None
) -> Mapping[str, Any]:
    """`tables` with site `site`'s [sites.NAME] table replaced by `table_json` (the spider's
    `site_table` argument: how `run --scrapyd` hands a site's table to a node, which has no
    configuration file). Raises ProfileError."""
    if table_json is None:
        return tables
    if not site:
        raise ProfileError("the site_table argument needs the site argument (its name)")
    try:
        table = json.loads(table_json)
    except json.JSONDecodeError as error:
        raise ProfileError(f"site_table: not a JSON object ({error})") from None
    if not isinstance(table, dict):
        raise ProfileError("site_table: not a JSON object")
    return {**tables, site: table}


def load_profiles(
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, SiteProfile]:
    """The built-in profiles with the user's `[sites.NAME]` tables applied, by name.

    A table named after a built-in profile changes it (with `profile`, it moves the site to that
    profile's platform); any other name adds a site, which must say where it lives (`base_url`)
    and may say which profile it starts from (`profile = "caobang"`; default thaibinh).
    """
    profiles = dict(builtin_profiles())
    problems: list[tuple[str, str]] = []
    lines: list[str] = []
    for name, table in (overrides or {}).items():
        check = _Checker(f"[sites.{name}]")
        try:
            profiles[name] = _override(profiles, name, table, check)
        except ProfileError as error:
            lines.append(str(error))
            problems.extend((f"sites.{name}.{key}", message) for key, message in error.problems)
    if problems:
        raise ProfileError("\n".join(lines), problems)
    return profiles


def _override(
    profiles: Mapping[str, SiteProfile], name: str, table: Any, check: _Checker
) -> SiteProfile:
    """The profile of one `[sites.NAME]` table; raises every problem of the table at once."""
    if not isinstance(name, str) or not SITE_NAME.fullmatch(name):
        raise check.fail("name", "use lower-case letters, digits, '-' and '_'")
    table = _table(table, check, "table")
    check.unknown_keys(table, _OVERRIDE_KEYS)
    # A new site without `profile` uses the Thái Bình grammar, as `scrapy crawl` does.
    start_name = table.get("profile", name if name in profiles else DEFAULT_PROFILE)
    if start_name not in builtin_profiles():
        check.found.append(
            ("profile", f"unknown profile {start_name!r}; known: {known_names(builtin_profiles())}")
        )
        start_name = DEFAULT_PROFILE  # the rest of the table is still checked
    if name not in builtin_profiles() and "base_url" not in table:
        check.found.append(("base_url", f"is required for the new site {name!r}"))
    start = replace(builtin_profiles()[start_name], name=name)
    if name in builtin_profiles() and start_name != name:
        # A known site that moved to another platform keeps its own name, title and root.
        own = builtin_profiles()[name]
        start = replace(start, title=own.title, base_url=own.base_url)
    return _apply(start, table, check)


def whole_days(value: Any, key: str, where: str = "crawl argument") -> int:
    """`value` as a revisit window (revisit_days, revisit_old_days): the rule of the site tables
    and profiles, a whole number of days >= 0, for callers outside them (the spider's
    arguments). Raises ProfileError naming `where` and `key`."""
    return _Checker(where).days(value, key)


def known_names(profiles: Mapping[str, object]) -> str:
    """The profile names, comma-separated, for messages."""
    return ", ".join(sorted(profiles))


def resolve_site(
    profiles: Mapping[str, SiteProfile],
    site: str | None = None,
    base_url: str | None = None,
    profile: str | None = None,
) -> SiteProfile:
    """The profile a crawl uses, from the spider's `site`, `base_url` and `profile` arguments.

    `site` alone picks a profile; `base_url` moves it to another root (a mirror, the sample site).
    A `site` no profile has needs a `base_url`: it is a new site on the grammar of `profile`
    (default thaibinh), filed under that name. Without `site`, `base_url` alone names the site by
    its host.
    """
    check = _Checker("crawl argument")
    url = check.base_url(base_url) if base_url is not None else None
    if profile is not None and profile not in profiles:
        raise ProfileError(f"unknown profile {profile!r}; known profiles: {known_names(profiles)}")
    if site is not None and site in profiles and profile is None:
        chosen = profiles[site]
        return replace(chosen, base_url=url) if url else chosen
    if site is not None and site not in profiles and url is None:
        raise ProfileError(
            f"unknown site {site!r}; known sites: {known_names(profiles)} "
            "(or give a base_url to crawl a new site under this name)"
        )
    start = profiles[profile or DEFAULT_PROFILE]
    if site is None and url is None:
        return start
    return replace(start, name=site or host_of(url or ""), base_url=url or start.base_url)
