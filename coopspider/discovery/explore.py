"""Learning a site's URL grammar from its own links: what to fetch next, and what it proves.

Pure: `Discovery` is told each page fetched (`record`) and says which page to fetch next
(`next_request`); the `discover` spider does the fetching. After the last page, `conclusion()`
says what was learned and whether it was verified:

- links of the site are grouped by shape (coopspider.discovery.shapes);
- a family of links is articles when its pages read as articles (title, date, text) with the
  page object the crawl uses, and listing pages link to them;
- a page is a listing when it links to articles beyond the links every page carries;
- pagination is a listing's numbered (or "next") links of one shape, followed page by page;
- the article id is the number that tells the family's links apart, else the slug.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

from coopspider.discovery.shapes import (
    NUMBER,
    ONE_TEXT,
    TEXT,
    Cluster,
    Shape,
    Slot,
    SlotPattern,
    UrlParts,
    cluster,
    join_plain_slugs,
    pattern,
    read_as,
    template,
    url_parts,
)
from coopspider.discovery.vocabulary import (
    DEFAULT_SETTINGS,
    FILE_EXTENSIONS,
    MORE_WORDS,
    NEWS_WORDS,
    NEXT_PAGE_WORDS,
    NOT_NEWS_WORDS,
    OTHER_PAGER_WORDS,
    DiscoverySettings,
)
from coopspider.pages.article import ArticlePage
from coopspider.pages.listing import Anchor, page_anchors
from coopspider.text import clean_line, fold_keeping_offsets
from coopspider.urls import on_site

HOME, LISTING, ARTICLE, PAGE = "home", "listing", "article", "page"
_TITLE_PARTS = re.compile(r"\s+[-|–—:»]+\s+")
_T = TypeVar("_T")


# -- what a fetched page gave ----------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """What the article page object read on a page."""

    title: str | None
    published_at: str | None
    body_chars: int

    def reads(self, settings: DiscoverySettings) -> bool:
        """Whether the page reads as an article: a title, a date and enough text."""
        return bool(self.title and self.published_at and self.body_chars >= settings.min_body_chars)

    def missing(self, settings: DiscoverySettings) -> str:
        """What the page lacks to read as an article, for people."""
        lacks = [
            name
            for name, present in (
                ("title", self.title),
                ("date", self.published_at),
                ("text", self.body_chars >= settings.min_body_chars),
            )
            if not present
        ]
        return "no " + " or ".join(lacks) if lacks else "reads as an article"


@dataclass(frozen=True)
class Visit:
    """One request of the discovery and what came back."""

    url: str  # as requested
    purpose: str  # HOME, LISTING, ARTICLE or PAGE: why it was fetched
    final_url: str = ""  # after redirects
    anchors: tuple[Anchor, ...] = ()
    reading: Reading | None = None
    site_title: str | None = None  # og:site_name, else the page's <title>
    failure: str | None = None  # why there is no page ("HTTP 404", "robots.txt", "not HTML")

    @property
    def is_page(self) -> bool:
        return self.failure is None


def read_page(url: str, purpose: str, final_url: str, html_text: str) -> Visit:
    """A fetched HTML page: its links, and what the article page object reads on it."""
    page = ArticlePage(final_url, html_text)
    reading = Reading(page.title(), page.published_at(), len(page.body()))
    title_element = page.root.find(".//title")
    page_title = clean_line(title_element.text or "") if title_element is not None else ""
    # A home page's <title> often repeats the name or adds "Trang chủ": its longest part.
    parts = dict.fromkeys(_TITLE_PARTS.split(page_title))
    site_title = page.meta.get("og:site_name") or max(parts, key=len, default="") or None
    anchors = tuple(page_anchors(final_url, html_text))
    return Visit(url, purpose, final_url, anchors, reading, site_title)


def failed(url: str, purpose: str, why: str) -> Visit:
    """A request that gave no page."""
    return Visit(url, purpose, failure=why)


# -- what the discovery learned --------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """Links of one shape with one role; `keys` are its members (path?query)."""

    cluster: Cluster
    keys: tuple[str, ...]
    slots: dict[Slot, SlotPattern] = field(default_factory=dict)

    def pattern(self) -> str:
        return pattern(self.cluster, self.slots, self.keys)

    def template(self) -> str:
        names = {slot: how.group for slot, how in self.slots.items() if how.group}
        return template(self.cluster, names, self.keys)


@dataclass(frozen=True)
class Sample:
    """An article page read during the discovery."""

    url: str
    title: str | None
    published_at: str | None
    reads: bool
    why: str


@dataclass(frozen=True)
class Rejected:
    """A family of links that is not articles, and why."""

    template: str
    links: int
    why: str


@dataclass
class Conclusion:
    """What the discovery learned, and whether it verified it."""

    start_url: str
    base_url: str
    site_title: str | None
    requests: int
    articles: list[Family] = field(default_factory=list)
    listings: list[Family] = field(default_factory=list)
    pagination: list[Family] = field(default_factory=list)  # one per form of listing
    items_per_page: int | None = None  # offset pagination: how far apart two pages' offsets are
    samples: list[Sample] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    skip_categories: list[str] = field(default_factory=list)
    pages_followed: list[str] = field(default_factory=list)  # the longest walk: pages 1, 2, 3 ...
    not_news: list[tuple[str, str]] = field(default_factory=list)  # (url, why) menu pages
    rejected: list[Rejected] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # why it is not verified

    @property
    def verified(self) -> bool:
        return not self.problems

    def urls_table(self) -> dict[str, object]:
        """The `[sites.NAME.urls]` table."""
        table: dict[str, object] = {
            "article": [family.pattern() for family in self.articles],
            "listing": [family.pattern() for family in self.listings],
            "pagination": [family.pattern() for family in self.pagination],
        }
        if self.items_per_page:
            table["items_per_page"] = self.items_per_page
        return table


# -- the links seen so far -------------------------------------------------------------------------


@dataclass
class _Link:
    url: str  # absolute, on the site, in the base URL's scheme
    parts: UrlParts
    texts: list[str] = field(default_factory=list)
    pages: set[int] = field(default_factory=set)  # indexes of the visits linking to it

    @property
    def words(self) -> int:
        """Words of its longest link text."""
        return max((len(text.split()) for text in self.texts), default=0)


@dataclass(frozen=True)
class _Pager:
    """A listing page's links to its other pages, all of one shape."""

    cluster: Cluster
    slot: Slot  # where the page number (or offset) sits
    numbered: dict[int, str]  # page number -> key, from numbered links
    next_key: str | None  # the "next" link, when there is one


class Discovery:
    """Decides what to fetch and learns from what was fetched; see the module docstring."""

    def __init__(self, start_url: str, settings: DiscoverySettings = DEFAULT_SETTINGS) -> None:
        self.start_url = start_url
        self.base_url = _root(start_url)
        self.settings = settings
        self.visits: list[Visit] = []
        self._by_key: dict[str, int] = {}
        # Each name's value has the type its compute function gives (see _remembered).
        self._memo: dict[str, tuple[int, Any]] = {}

    # -- recording --

    def record(self, visit: Visit) -> None:
        """One fetched page (or failed request), in fetch order."""
        if visit.purpose == HOME and visit.is_page and visit.final_url:
            # The site may have moved (a redirect to its new host): the new host is the site.
            self.base_url = _root(visit.final_url)
        index = len(self.visits)
        # A page with tens of thousands of links is a trap: its first links are enough.
        self.visits.append(replace(visit, anchors=visit.anchors[: self.settings.links_per_page]))
        for url in (visit.url, visit.final_url):
            if url and (local := on_site(url, self.base_url)):
                self._by_key.setdefault(url_parts(local).key, index)

    # -- what the pages say --

    def _remembered(self, name: str, compute: Callable[[], _T]) -> _T:
        """`compute()`, computed again only once another page has been recorded."""
        known = self._memo.get(name)
        if known is None or known[0] != len(self.visits):
            known = (len(self.visits), compute())
            self._memo[name] = known
        return known[1]

    def _links(self) -> dict[str, _Link]:
        """Every link of the site on the pages read, by key."""
        return self._remembered("links", self._read_links)

    def _read_links(self) -> dict[str, _Link]:
        links: dict[str, _Link] = {}
        for index, visit in enumerate(self.visits):
            for anchor in visit.anchors:
                local = on_site(anchor.url, self.base_url)
                if local is None or _is_file(local):
                    continue
                parts = url_parts(local)
                if parts.key == "/":
                    continue
                link = links.setdefault(parts.key, _Link(local, parts))
                # A "Xem chi tiết" link may carry the headline in its title attribute.
                link.texts.extend(text for text in (anchor.text, anchor.label) if text)
                link.pages.add(index)
        return links

    def _pages(self) -> list[int]:
        return [i for i, visit in enumerate(self.visits) if visit.is_page]

    def _sitewide(self, links: dict[str, _Link]) -> set[str]:
        """Links most pages carry (menus, "latest news" boxes): they prove nothing of a page."""
        return self._remembered("sitewide", lambda: self._carried_by_most(links))

    def _carried_by_most(self, links: dict[str, _Link]) -> set[str]:
        inner = [i for i in self._pages() if self.visits[i].purpose != HOME]
        if len(inner) < 3:
            return set()
        least = max(3, self.settings.sitewide_share * len(inner))
        return {key for key, link in links.items() if len(link.pages & set(inner)) >= least}

    def _all_families(self, links: dict[str, _Link]) -> list[Cluster]:
        """Every link seen, in families by shape; slugs that end in a number joined to the plain
        slugs beside them where both are linked by headlines."""
        return self._remembered("families", lambda: self._group(links))

    def _group(self, links: dict[str, _Link]) -> list[Cluster]:

        def headlines(family: Cluster) -> bool:
            words = [links[key].words for key in family.members if key in links]
            return bool(words) and statistics.median(words) >= self.settings.min_headline_words

        sitewide = self._sitewide(links)

        def alike(plain: Cluster, numbered: Cluster) -> bool:
            # Both linked by headlines, and the plain slugs no menu: articles, both.
            menu = self._not_articles_because(plain, links, sitewide, least=1)
            return headlines(numbered) and menu is None

        families = cluster(link.url for link in links.values())
        return join_plain_slugs(families, alike)

    def _families(self, links: dict[str, _Link]) -> list[Cluster]:
        """Families of links that could be articles, most likely first: enough links, linked by
        headlines, and not a menu (short link texts on nearly every page)."""
        sitewide = self._sitewide(links)
        ranked = []
        for family in self._all_families(links):
            if self._not_articles_because(family, links, sitewide) is None:
                words = [links[key].words for key in family.members if key in links]
                median = statistics.median(words)
                ranked.append((len(family.members) * min(median, 10), family))
        ranked.sort(key=lambda scored: -scored[0])
        return [family for _, family in ranked]

    def _not_articles_because(
        self, family: Cluster, links: dict[str, _Link], sitewide: set[str], least: int = 0
    ) -> str | None:
        """Why a family cannot be the site's articles without reading any page; None if it can.
        A family needs `least` links (default: the settings' min_family_links)."""
        words = [links[key].words for key in family.members if key in links]
        median = statistics.median(words) if words else 0
        if len(family.members) < (least or self.settings.min_family_links):
            return f"{len(family.members)} link(s): too few to be the site's articles"
        if median < self.settings.min_headline_words:
            return f"link texts of {median:g} words: menu or pager links, not headlines"
        menu = len(family.members.keys() & sitewide) * 2 > len(family.members)
        if menu and median < self.settings.menu_words:
            return "short links on nearly every page: a menu, not news"
        return None

    def _samples(self, family: Cluster) -> list[int]:
        """Visits made to read members of the family as articles."""
        return [
            index
            for key in family.members
            if (index := self._by_key.get(key)) is not None
            and self.visits[index].purpose == ARTICLE
        ]

    def _verdict(self, family: Cluster) -> bool | None:
        """True: articles; False: not articles; None: not known yet."""
        samples = self._samples(family)
        passes = sum(self._reads(i) for i in samples)
        if len(samples) >= self.settings.samples_per_family and passes * 2 > len(samples):
            return True
        if len(samples) >= self.settings.samples_per_family and passes * 2 < len(samples):
            return False
        if len(samples) > self.settings.samples_per_family and passes * 2 == len(samples):
            return False
        return None

    def _reads(self, index: int) -> bool:
        reading = self.visits[index].reading
        return reading is not None and reading.reads(self.settings)

    def _listings(
        self, links: dict[str, _Link], articles: list[Cluster], sitewide: set[str]
    ) -> dict[int, set[str]]:
        """Listing pages (visit index -> the article keys they list beyond site-wide links)."""
        article_keys = {key for family in articles for key in family.members}
        found = {}
        for index in self._pages():
            visit = self.visits[index]
            if visit.purpose not in (LISTING, PAGE):
                continue
            own = self._key_of(visit)
            listed = {
                key
                for key in self._keys_on(visit)
                if key in article_keys and key not in sitewide and key != own
            }
            if len(listed) >= self.settings.listed_articles or (
                listed and self._pager(index, articles) is not None
            ):
                found[index] = listed
        return found

    def _key_of(self, visit: Visit) -> str | None:
        local = on_site(visit.final_url or visit.url, self.base_url)
        return url_parts(local).key if local else None

    def _keys_on(self, visit: Visit) -> list[str]:
        keys = []
        for anchor in visit.anchors:
            local = on_site(anchor.url, self.base_url)
            if local is not None:
                keys.append(url_parts(local).key)
        return keys

    # -- pagination --

    def _pager(self, index: int, articles: list[Cluster]) -> _Pager | None:
        """The listing page's links to its other pages, when it has some."""
        visit = self.visits[index]
        own = self._key_of(visit)
        own_parts = url_parts(on_site(visit.final_url, self.base_url) or visit.final_url)
        article_keys = {key for family in articles for key in family.members}
        numbered: list[tuple[int, UrlParts]] = []
        following: list[UrlParts] = []
        for anchor in visit.anchors:
            local = on_site(anchor.url, self.base_url)
            if local is None or _is_file(local):
                continue
            parts = url_parts(local)
            if parts.key in (own, "/") or parts.key in article_keys:
                continue
            text = anchor.text.strip()
            if text.isdigit() and len(text) <= 4:
                numbered.append((int(text), parts))
            elif _says_next(anchor):
                following.append(parts)
        candidates = [_url_of(parts) for _, parts in numbered] + [_url_of(p) for p in following]
        found = []
        for group in cluster(candidates):
            slot = _page_slot(group, numbered, own_parts)
            if slot is None:
                continue
            in_group = {n: parts.key for n, parts in numbered if parts.key in group.members}
            next_key = next((p.key for p in following if p.key in group.members), None)
            if not (in_group.keys() - {1}) and not next_key:
                continue
            # A calendar or a list of years is numbered too: a pager has a "next" link or
            # repeats values of the listing's own URL (its category).
            shared = bool(
                own_parts.values() & {v for m in group.members.values() for v in m.values()}
            )
            found.append(
                (bool(next_key) + shared, len(in_group), _Pager(group, slot, in_group, next_key))
            )
        if not found:
            return None
        return max(found, key=lambda scored: scored[:2])[2]

    def _chains(
        self, listings: dict[int, set[str]], articles: list[Cluster]
    ) -> dict[Shape, list[int]]:
        """Per form of listing URL, visits of one category's listing pages in page order: page 1,
        then each page reached from the one before by its pager. The longest such walk; of
        equals, one whose last page has a pager."""
        best: dict[Shape, tuple[int, bool, list[int]]] = {}
        for start in (i for i in listings if self.visits[i].purpose == LISTING):
            parts = self._parts_of(start)
            if parts is None:
                continue
            chain = [start]
            while len(chain) < self.settings.pages_deep:
                key = _next_page_key(self._pager(chain[-1], articles), len(chain) + 1)
                index = self._by_key.get(key) if key else None
                if index is None or not self.visits[index].is_page or index in chain:
                    break
                chain.append(index)
            score = (len(chain), self._pager(chain[-1], articles) is not None, chain)
            if parts.shape not in best or score[:2] > best[parts.shape][:2]:
                best[parts.shape] = score
        return {shape: chain for shape, (_, _, chain) in best.items()}

    # -- planning --

    def next_request(self) -> tuple[str, str, str] | None:
        """(url, purpose, why) of the next page to fetch, or None when done."""
        if not any(v.purpose == HOME and v.is_page for v in self.visits):
            return None
        links = self._links()
        sitewide = self._sitewide(links)
        families = self._families(links)
        tried = self.settings.article_families_tried
        articles = [f for f in families[: tried + 2] if self._verdict(f)]
        tried_listings = sum(1 for v in self.visits if v.purpose == LISTING)
        may_try_listing = tried_listings < self.settings.most_listings_tried
        if tried_listings < self.settings.first_listings and (plan := self._next_listing(links)):
            return plan
        for family in families[:tried]:
            if self._verdict(family) is None and (plan := self._sample(family, links, set())):
                return plan
        if not articles:
            for family in families[tried : tried + 2]:
                if self._verdict(family) is None and (plan := self._sample(family, links, set())):
                    return plan
            return None
        listings = self._listings(links, articles, sitewide)
        chains = self._chains(listings, articles)
        if not chains:
            return self._next_listing(links) if may_try_listing else None
        for chain in sorted(chains.values(), key=len):
            key = _next_page_key(self._pager(chain[-1], articles), len(chain) + 1)
            if len(chain) < self.settings.pages_deep and key in links and key not in self._by_key:
                return links[key].url, PAGE, f"listing page {len(chain) + 1}"
        one_page_each = max(map(len, chains.values())) < 2
        if one_page_each and may_try_listing and (plan := self._next_listing(links)):
            return plan  # these categories have one page each: another may have more
        verified = sum(self._reads(i) for f in articles for i in self._samples(f))
        if verified < self.settings.articles_to_verify:
            preferred = {k for chain in chains.values() for i in chain for k in listings.get(i, ())}
            for family in articles:
                if plan := self._sample(family, links, preferred):
                    return plan
        return None

    def _sample(
        self, family: Cluster, links: dict[str, _Link], preferred: set[str]
    ) -> tuple[str, str, str] | None:
        """A member of the family not read yet: one a followed listing page shows first, then
        one not on every page, one linked by a headline, one unlike those read (another
        category), the one with the longest link text."""
        sampled = {self._key_of(self.visits[i]) for i in self._samples(family)}
        seen_values = Counter(
            value
            for key in sampled
            if key in family.members
            for value in family.members[key].values()
        )
        options = [key for key in family.members if key not in self._by_key and key in links]
        if not options:
            return None

        sitewide = self._sitewide(links)

        def rank(key: str) -> tuple[bool, bool, bool, int, int]:
            # A headline, not a menu entry, first: a family may also hold the links of the
            # category menu (/tin/1/ beside /chuyen-muc/7/).
            headline = links[key].words >= self.settings.min_headline_words
            novelty = -sum(seen_values[v] for v in family.members[key].values())
            return (key in preferred, key not in sitewide, headline, novelty, links[key].words)

        key = max(options, key=rank)
        shape = template(family, {})
        return self._absolute(links[key].url), ARTICLE, f"an article? ({shape})"

    def _next_listing(self, links: dict[str, _Link]) -> tuple[str, str, str] | None:
        """A short link not read yet that may lead to a news listing; a form of URL not read
        yet first (categories one and two levels deep, say)."""
        read_shapes = {
            parts.shape
            for index, visit in enumerate(self.visits)
            if visit.purpose == LISTING and (parts := self._parts_of(index)) is not None
        }
        scored = []
        for key, link in links.items():
            if key in self._by_key or not link.texts:
                continue
            words = min(len(text.split()) for text in link.texts)
            if words > self.settings.menu_words or all(_is_pager_text(t) for t in link.texts):
                continue
            novel = link.parts.shape not in read_shapes
            scored.append((_menu_score(link) + novel, -words, key))
        if not scored:
            return None
        _, _, key = max(scored)
        return self._absolute(links[key].url), LISTING, f"a listing? ({links[key].texts[0]!r})"

    def _absolute(self, url: str) -> str:
        return on_site(url, self.base_url) or url

    # -- the conclusion --

    def conclusion(self, requests: int) -> Conclusion:
        """What was learned, checked against every page fetched."""
        home = next((v for v in self.visits if v.purpose == HOME), None)
        result = Conclusion(
            self.start_url,
            self.base_url,
            home.site_title if home else None,
            requests,
        )
        if home is None or not home.is_page:
            result.problems.append("the home page could not be read")
            return result
        links = self._links()
        sitewide = self._sitewide(links)
        families = self._families(links)
        articles = [f for f in families if self._verdict(f)]
        result.samples = [
            self._sample_of(index) for family in families for index in self._samples(family)
        ]
        listings = self._listings(links, articles, sitewide) if articles else {}
        chains = self._chains(listings, articles) if listings else {}
        result.rejected = self._rejections(articles, links)
        verified = sum(s.reads for s in result.samples if self._in(articles, s.url))
        if not articles:
            result.problems.append(
                "no family of links reads as articles (title, date and text on its pages)"
            )
        elif verified < self.settings.articles_to_verify:
            result.problems.append(
                f"only {verified} sampled articles read (title, date, text); "
                f"{self.settings.articles_to_verify} are needed"
            )
        if articles and not chains:
            result.problems.append("no category listing that links to the articles was found")
        elif chains and max(map(len, chains.values())) < 2:
            result.problems.append("no listing's pagination could be followed to page 2")
        for chain in chains.values():
            key = _next_page_key(self._pager(chain[-1], articles), len(chain) + 1)
            if (
                len(chain) < self.settings.pages_deep
                and key is not None
                and key not in self._by_key
            ):
                first = self.visits[chain[0]].final_url
                result.problems.append(
                    f"the pager of {first} was not followed (the request budget ran out)"
                )
        result.not_news = self._not_news(listings, articles)
        if result.problems:
            return result
        self._learn_grammar(result, links, articles, listings, chains)
        if not result.problems:
            result.problems.extend(self._self_check(result, listings, chains))
        return result

    def _in(self, families: list[Cluster], url: str) -> bool:
        local = on_site(url, self.base_url)
        return local is not None and any(url_parts(local).key in f.members for f in families)

    def _sample_of(self, index: int) -> Sample:
        visit = self.visits[index]
        if not visit.is_page or visit.reading is None:
            return Sample(visit.url, None, None, False, visit.failure or "not read")
        reading = visit.reading
        reads = reading.reads(self.settings)
        return Sample(
            visit.final_url,
            reading.title,
            reading.published_at,
            reads,
            reading.missing(self.settings),
        )

    def _rejections(self, articles: list[Cluster], links: dict[str, _Link]) -> list[Rejected]:
        """Every family of links seen that was not taken for articles, with why."""
        accepted = [a.members.keys() for a in articles]
        sitewide = self._sitewide(links)
        rejected = []
        for family in self._all_families(links):
            if family.members.keys() in accepted:
                continue
            why = self._not_articles_because(family, links, sitewide)
            if why is None and not (samples := [self._sample_of(i) for i in self._samples(family)]):
                why = "not sampled: the request budget went to likelier families"
            elif why is None:
                failures = Counter(sample.why for sample in samples if not sample.reads)
                detail = ", ".join(f"{count} {why}" for why, count in failures.items())
                passed = sum(sample.reads for sample in samples)
                why = f"{passed} of {len(samples)} sampled pages read as articles ({detail})"
            rejected.append(Rejected(template(family, {}), len(family.members), why))
        return rejected

    def _not_news(
        self, listings: dict[int, set[str]], articles: list[Cluster]
    ) -> list[tuple[str, str]]:
        """Menu pages read as possible listings that list no articles."""
        found = []
        for index, visit in enumerate(self.visits):
            if visit.purpose != LISTING or index in listings:
                continue
            if not visit.is_page:
                found.append((visit.url, visit.failure or "not read"))
            elif articles:
                found.append((visit.final_url, "lists no articles of its own"))
            else:
                found.append((visit.final_url, "read before any articles were found"))
        return found

    # -- the grammar --

    def _learn_grammar(
        self,
        result: Conclusion,
        links: dict[str, _Link],
        articles: list[Cluster],
        listings: dict[int, set[str]],
        chains: dict[Shape, list[int]],
    ) -> None:
        listing_keys = {key for i in listings if (key := self._key_of(self.visits[i]))}
        first_pages = [i for i in listings if self.visits[i].purpose == LISTING]

        # Article links: each family without the listing links that share its shape, told
        # apart by a value (a family of /tin/123/ beside listings /chuyen-muc/7/).
        read_keys = {
            key
            for i, visit in enumerate(self.visits)
            if self._reads(i) and (key := self._key_of(visit))
        }
        article_families = []
        for family in articles:
            others = [k for k in family.members if k in listing_keys]
            keys = tuple(k for k in family.members if k not in listing_keys)
            split = None
            if others:
                split = _separating_slot(family, [k for k in keys if k in read_keys], others)
                if split is None:
                    result.problems.append(
                        f"article and listing links share one form ({template(family, {})})"
                    )
                    return
                listed_values = set(family.values(split, others))
                keys = tuple(k for k in keys if family.members[k].value(split) not in listed_values)
            article_families.append((family, keys, split, others))
        article_keys = {key for _, keys, _, _ in article_families for key in keys}

        # Each form of listing URL: its category, and its pagination when it has one.
        category_of_page: dict[int, Slot] = {}
        steps = set()
        first_keys = [self._key_of(self.visits[i]) for i in first_pages]
        for family in _clusters_holding(links, first_keys):
            keys = tuple(k for k in family.members if k not in article_keys)
            firsts = [i for i in first_pages if self._key_of(self.visits[i]) in family.members]
            chain = next((c for c in chains.values() if c[0] in firsts and len(c) > 1), None)
            learned = self._listing_form(result, family, keys, firsts, chain, articles)
            if learned is None:
                return
            listing_slot, step = learned
            if listing_slot is not None:
                category_of_page.update(dict.fromkeys(firsts, listing_slot))
            if step is not None:
                steps.add(step)
        if len(steps) > 1:
            result.problems.append(f"listings page by offsets of different steps: {sorted(steps)}")
            return
        result.items_per_page = steps.pop() if steps else None
        longest = max(chains.values(), key=len)
        result.pages_followed = [self.visits[i].final_url for i in longest]
        result.categories = sorted(
            {
                value
                for index, slot in category_of_page.items()
                if (parts := self._parts_of(index)) and (value := parts.value(slot)) is not None
            }
        )

        article_slots = self._article_category_slots(category_of_page, articles)
        for family, keys, split, others in article_families:
            id_slot = _id_slot(family, keys)
            if id_slot is None:
                result.problems.append(
                    f"no number or slug tells the articles apart in {template(family, {})}"
                )
                return
            article_slot = article_slots.get(id(family))
            whole = _slug_as_id(family, id_slot)
            if whole is not None:
                family, id_slot = whole, Slot(id_slot.segment)
                twin = next((f for f in result.articles if f.cluster.shape == family.shape), None)
                if twin is not None:
                    # The slugs that end in a number, and the plain ones: one family, one id.
                    twin.cluster.members.update(family.members)
                    result.articles[result.articles.index(twin)] = Family(
                        twin.cluster, twin.keys + keys, twin.slots
                    )
                    continue
            slots = {id_slot: SlotPattern(group="id")}
            if article_slot is not None and article_slot != id_slot:
                slots[article_slot] = SlotPattern(group="category")
            if split is not None and len(set(family.values(split, keys))) > 1:
                excluded = tuple(sorted(set(family.values(split, others))))
                slots[split] = SlotPattern(
                    group=slots.get(split, SlotPattern()).group, excluded=excluded
                )
            result.articles.append(Family(family, keys, slots))
        result.skip_categories = self._menu_categories(result, listings, articles, links)

    def _listing_form(
        self,
        result: Conclusion,
        family: Cluster,
        keys: tuple[str, ...],
        firsts: list[int],
        chain: list[int] | None,
        articles: list[Cluster],
    ) -> tuple[Slot | None, int | None] | None:
        """Add one form of listing URL (and its pagination) to `result`: (its category slot,
        its offset step); None on a contradiction (written to the result's problems)."""
        pager = self._pager(chain[0], articles) if chain else None
        page_one = self._parts_of(chain[0]) if chain else None
        later = [p for p in (self._parts_of(i) for i in (chain or [])[1:]) if p is not None]
        listing_slot, pager_slot = self._category(
            family, keys, firsts, pager, page_one, later, articles
        )
        slots = {listing_slot: SlotPattern(group="category")} if listing_slot else {}
        result.listings.append(Family(family, keys, slots))
        if pager is None or page_one is None:
            return listing_slot, None

        # Page numbers or offsets: what the pager's links and the pages followed say.
        pairs = [(n, pager.cluster.members[k].value(pager.slot)) for n, k in pager.numbered.items()]
        pairs += [(n + 2, parts.value(pager.slot)) for n, parts in enumerate(later)]
        numbers = [(n, int(v)) for n, v in pairs if v is not None and v.isdigit()]
        step = _offset_step(numbers)
        if step is None and not all(n == v for n, v in numbers):
            result.problems.append(
                f"the pager's numbers do not follow its pages: {sorted(set(numbers))}"
            )
            return None
        pager_slots = {pager.slot: SlotPattern(group="page" if step is None else "offset")}
        if pager_slot is not None:
            pager_slots[pager_slot] = SlotPattern(group="category")
        # Values the listing's URL shares with its pages vary from category to category.
        varying = {
            value
            for slot in (family.varying(keys) or [s for s, _ in family.slots()])
            for value in family.values(slot, keys)
        }
        for parts in later:
            pager.cluster.members.setdefault(parts.key, parts)
        for slot, _ in pager.cluster.slots():
            values = set(pager.cluster.values(slot))
            if slot not in pager_slots and values and values <= varying:
                pager_slots[slot] = SlotPattern()
        result.pagination.append(Family(pager.cluster, tuple(pager.cluster.members), pager_slots))
        return listing_slot, step

    def _menu_categories(
        self,
        result: Conclusion,
        listings: dict[int, set[str]],
        articles: list[Cluster],
        links: dict[str, _Link],
    ) -> list[str]:
        """Categories of listing-shaped menu pages that are not news: read and found to list no
        articles, or named like the introduction, contact or documents pages."""
        skipped = set()
        for family in result.listings:
            slot = next((s for s, how in family.slots.items() if how.group == "category"), None)
            if slot is None:
                continue
            for key in family.keys:
                index = self._by_key.get(key)
                read_empty = (
                    index is not None
                    and self.visits[index].purpose == LISTING
                    and index not in listings
                    and self._lists_nothing(index, articles)
                )
                texts = links[key].texts if key in links else []
                named = bool(texts) and all(
                    len(t.split()) <= self.settings.menu_name_words
                    and _has_phrase(fold_keeping_offsets(t), NOT_NEWS_WORDS)
                    for t in texts
                )
                listed = index is not None and index in listings
                value = family.cluster.members[key].value(slot)
                if value is not None and not listed and (read_empty or named):
                    skipped.add(value)
        news = {v for v in result.categories}
        return sorted(skipped - news)

    def _lists_nothing(self, index: int, articles: list[Cluster]) -> bool:
        """A page read that links to no article but the ones on every page, and has no pager."""
        visit = self.visits[index]
        if not visit.is_page or self._pager(index, articles) is not None:
            return False
        sitewide = self._sitewide(self._links())
        own = self._key_of(visit)
        return not any(
            key in family.members and key not in sitewide and key != own
            for key in self._keys_on(visit)
            for family in articles
        )

    def _parts_of(self, index: int) -> UrlParts | None:
        visit = self.visits[index]
        local = on_site(visit.final_url or visit.url, self.base_url)
        return url_parts(local) if local else None

    def _category(
        self,
        family: Cluster,
        keys: tuple[str, ...],
        firsts: list[int],
        pager: _Pager | None,
        page_one: UrlParts | None,
        later: list[UrlParts],
        articles: list[Cluster],
    ) -> tuple[Slot | None, Slot | None]:
        """(listing slot, pagination slot) of the category of one form of listing URL: a value
        that differs from category to category, that the later pages' URLs repeat, and, where
        they agree, that the URLs of the articles the listing shows repeat too."""
        firsts_parts = [p for p in (self._parts_of(i) for i in firsts) if p is not None]
        best: tuple[tuple[int, int, int], Slot | None, Slot | None] = ((0, 0, 0), None, None)
        for slot, _ in family.slots():
            if len(firsts_parts) > 1 and len({p.value(slot) for p in firsts_parts}) < 2:
                continue  # two categories' first pages differ in their category
            distinct = len(set(family.values(slot, keys)))
            if distinct < 2 and len(keys) > 1:
                continue
            pager_slot = None
            if pager is not None and page_one is not None:
                value = page_one.value(slot)
                pages = later or list(pager.cluster.members.values())
                pager_slot = next(
                    (
                        s
                        for s, _ in pages[0].slots()
                        if s != pager.slot and all(p.value(s) == value for p in pages)
                    ),
                    None,
                )
                if pager_slot is None:
                    continue
            agrees = bool(self._article_category_slots(dict.fromkeys(firsts, slot), articles))
            if pager is None and not agrees:
                continue
            score = (pager_slot is not None, agrees, distinct)
            if score > best[0]:
                best = (score, slot, pager_slot)
        return best[1], best[2]

    def _article_category_slots(
        self, category_of_page: dict[int, Slot], articles: list[Cluster]
    ) -> dict[int, Slot]:
        """Per article family (by id), the slot whose value is the category of the listing page
        showing the article, for (nearly) every article the first listing pages show beyond the
        site-wide links."""
        sitewide = self._sitewide(self._links())
        found = {}
        for family in articles:
            pairs = []
            for index, listing_slot in category_of_page.items():
                parts = self._parts_of(index)
                category = parts.value(listing_slot) if parts else None
                if category is None:
                    continue
                keys = set(self._keys_on(self.visits[index])) - sitewide
                pairs += [(category, family.members[k]) for k in keys if k in family.members]
            if len(pairs) < self.settings.listed_articles:
                continue
            for slot, _ in family.slots():
                agree = sum(parts.value(slot) == category for category, parts in pairs)
                if agree >= self.settings.category_agreement * len(pairs):
                    found[id(family)] = slot
                    break
        return found

    def _self_check(
        self, result: Conclusion, listings: dict[int, set[str]], chains: dict[Shape, list[int]]
    ) -> list[str]:
        """Every page fetched and every link seen, classified by the learned grammar as the
        crawl will: problems when the grammar contradicts what the pages showed."""
        from coopspider.profiles import ProfileError, load_profiles
        from coopspider.urls import LinkKind

        try:
            grammar = load_profiles({"discovered": site_table(result)})["discovered"].grammar
        except ProfileError as error:  # a bug of ours: the patterns must always load
            return [f"the learned patterns do not load: {error}"]
        problems = []
        article_keys = {key for family in result.articles for key in family.keys}
        for family in result.articles:
            for key in family.keys:
                parsed = grammar.classify(key)
                if parsed.kind is not LinkKind.ARTICLE:
                    problems.append(f"{key} is an article link but reads as {parsed.kind.value}")
        ids: dict[str, str] = {}
        for sample in result.samples:
            if not sample.reads:
                continue
            parsed = grammar.classify(sample.url)
            if parsed.kind is not LinkKind.ARTICLE:
                continue
            if parsed.article_id in ids and ids[parsed.article_id] != (sample.title or ""):
                problems.append(
                    f"two articles share the id {parsed.article_id}: {sample.url} "
                    f"({sample.title!r} and {ids[parsed.article_id]!r})"
                )
            ids[parsed.article_id or ""] = sample.title or ""
        for index in listings:
            parts = self._parts_of(index)
            if parts and grammar.classify(parts.key).kind is not LinkKind.LISTING:
                problems.append(f"{parts.key} lists articles but does not read as a listing")
        for chain in chains.values():
            categories = set()
            for number, index in enumerate(chain, start=1):
                parts = self._parts_of(index)
                read = grammar.classify(parts.key) if parts else None
                if read is None or read.kind is not LinkKind.LISTING or read.page != number:
                    where = parts.key if parts else "?"
                    problems.append(f"{where} is listing page {number} but reads as {read}")
                else:
                    categories.add(read.category)
            if len(categories) > 1:
                problems.append(
                    f"the pages of one listing read as categories {sorted(map(str, categories))}"
                )
        first_categories = Counter(
            parsed.category
            for index in listings
            if self.visits[index].purpose == LISTING
            and (parts := self._parts_of(index))
            and (parsed := grammar.classify(parts.key)).category is not None
        )
        problems += [
            f"two listings read as the one category {category!r}"
            for category, count in first_categories.items()
            if count > 1
        ]
        for index, visit in enumerate(self.visits):
            parts = self._parts_of(index)
            if (
                visit.is_page
                and parts
                and parts.key not in article_keys
                and not self._reads(index)
                and grammar.classify(parts.key).kind is LinkKind.ARTICLE
            ):
                problems.append(f"{parts.key} is not an article but reads as one")
        return problems


# -- small pure helpers ----------------------------------------------------------------------------


def site_table(result: Conclusion) -> dict[str, object]:
    """The `[sites.NAME]` table (without its name) a crawl of the learned site needs."""
    shapes = ", ".join(family.template() for family in result.articles)
    table: dict[str, object] = {
        "base_url": result.base_url,
        "platform": f"learned by coopspider discover ({shapes})",
    }
    if result.site_title:
        table["title"] = result.site_title
    if result.skip_categories:
        table["skip_categories"] = list(result.skip_categories)
    table["urls"] = result.urls_table()
    return table


def _root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _url_of(parts: UrlParts) -> str:
    return parts.key


def _is_file(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return "." in path.rsplit("/", 1)[-1] and path.rsplit(".", 1)[-1] in FILE_EXTENSIONS


def _has_phrase(folded: str, phrases: Iterable[str]) -> bool:
    padded = f" {folded} "
    return any(f" {phrase} " in padded for phrase in phrases)


def _says_next(anchor: Anchor) -> bool:
    if anchor.rel_next:
        return True
    for text in (anchor.text, anchor.label):
        folded = fold_keeping_offsets(text)
        if folded and len(folded.split()) <= 3 and _has_phrase(folded, NEXT_PAGE_WORDS):
            return not _has_phrase(folded, OTHER_PAGER_WORDS)
    return False


def _is_pager_text(text: str) -> bool:
    folded = fold_keeping_offsets(text)
    return folded.isdigit() or (
        len(folded.split()) <= 3 and _has_phrase(folded, (*NEXT_PAGE_WORDS, *OTHER_PAGER_WORDS))
    )


def _menu_score(link: _Link) -> float:
    """How likely a short link leads to a news listing: "more" links and news words up,
    introduction, contact, documents and the like down."""
    score = 0.0
    for text in link.texts:
        folded = fold_keeping_offsets(text)
        if _has_phrase(folded, MORE_WORDS):
            score = max(score, 3)
        if _has_phrase(folded, NEWS_WORDS):
            score = max(score, 2)
    if any(_has_phrase(fold_keeping_offsets(text), NOT_NEWS_WORDS) for text in link.texts):
        score -= 5
    return score + min(len(link.texts), 4) * 0.25


def _page_slot(group: Cluster, numbered: list[tuple[int, UrlParts]], page: UrlParts) -> Slot | None:
    """Where the page number sits in a pager's links: the number that grows with the page
    number the links show, else the number the listing's own URL does not have."""
    numbers = [
        slot
        for slot, kind in group.slots()
        if kind == NUMBER or (slot.in_query and all(v.isdigit() for v in group.values(slot)))
    ]
    shown = sorted(
        {(n, parts.key) for n, parts in numbered if parts.key in group.members and n >= 1}
    )
    for slot in numbers:
        values = [int(group.members[key].value(slot) or -1) for _, key in shown]
        if len(values) >= 2 and all(a < b for a, b in zip(values, values[1:], strict=False)):
            return slot
    own = page.values()
    fresh = [slot for slot in numbers if not set(group.values(slot)) <= own]
    return fresh[-1] if fresh else None


def _next_page_key(pager: _Pager | None, number: int) -> str | None:
    """The key of page `number` in a pager: its numbered link, else its "next" link."""
    if pager is None:
        return None
    return pager.numbered.get(number) or pager.next_key


def _offset_step(numbers: list[tuple[int, int]]) -> int | None:
    """The step of offset pagination, None for page numbers (or numbers that fit neither).

    Offsets grow by the same step from page to page, and page n holds offset (n-1) * step
    (from 0, or from 1: `?start=7` for page 2 of 6 a page).
    """
    pairs = sorted(set(numbers))
    if all(n == value for n, value in pairs) or len({n for n, _ in pairs}) < 2:
        return None
    (first, low), (last, high) = pairs[0], pairs[-1]
    step, rest = divmod(high - low, last - first)
    if step < 1 or rest:
        return None
    fits = all(value - low == step * (n - first) and value // step + 1 == n for n, value in pairs)
    return step if fits else None


def _clusters_holding(links: dict[str, _Link], keys: Iterable[str | None]) -> list[Cluster]:
    """The families (by shape, among all links seen) the given keys belong to."""
    wanted = {key for key in keys if key}
    families = cluster([link.url for link in links.values()] + sorted(wanted))
    return [family for family in families if wanted & family.members.keys()]


def _id_slot(family: Cluster, keys: tuple[str, ...]) -> Slot | None:
    """The number that tells the family's links apart (not a date's parts), else its slug."""
    members = [family.members[key] for key in keys]
    slots = family.slots()
    dated = _date_slots(family, keys)
    best: tuple[float, Slot] | None = None
    for slot, kind in slots:
        if slot in dated:
            continue
        values = [parts.value(slot) or "" for parts in members]
        distinct = len(set(values))
        if distinct < 2 or not _identifies(members, slot):
            continue
        named = slot.in_query and "id" in slot.key.lower() and "cat" not in slot.key.lower()
        score = distinct + (0.5 if kind == NUMBER else 0) * len(members) + named
        if best is None or score > best[0] or (score == best[0] and slot > best[1]):
            best = (score, slot)
    return best[1] if best else None


def _slug_as_id(family: Cluster, slot: Slot) -> Cluster | None:
    """The family with the id slug's whole segment read as one text, when the slug was cut
    before a number (`ke-hoach-2024`): the id is the whole slug, never a part of it."""
    if slot.in_query or family.kind_of(slot) != TEXT:
        return None
    if not any(
        p.kind == NUMBER for p in next(iter(family.members.values())).segments[slot.segment]
    ):
        return None
    read = [read_as(parts, slot.segment, ONE_TEXT) for parts in family.members.values()]
    members = {parts.key: parts for parts in read if parts is not None}
    return Cluster(next(iter(members.values())).shape, members)


def _identifies(members: list[UrlParts], slot: Slot) -> bool:
    """Whether links with the same value at `slot` differ only where a few values repeat (the
    category of an article listed under two categories), never by another distinct slug."""
    by_value: dict[str, list[UrlParts]] = {}
    for parts in members:
        by_value.setdefault(parts.value(slot) or "", []).append(parts)
    distinct_of = {other: len({p.value(other) for p in members}) for other, _ in members[0].slots()}
    for group in by_value.values():
        if len(group) < 2:
            continue
        for other, count in distinct_of.items():
            differs = other != slot and len({p.value(other) for p in group}) > 1
            if differs and count > max(2, len(members) // 2):
                return False
    return True


def _date_slots(family: Cluster, keys: tuple[str, ...]) -> set[Slot]:
    """A year and the month and day after it (`/2023/05/12/`): numbers, but never ids."""
    slots = [slot for slot, kind in family.slots() if kind == NUMBER and not slot.in_query]
    dated: set[Slot] = set()
    for position, slot in enumerate(slots):
        values = [int(v) for v in family.values(slot, keys)]
        if values and all(1990 <= v <= 2100 for v in values):
            dated.add(slot)
            for later, bound in zip(slots[position + 1 :], (12, 31), strict=False):
                if all(1 <= int(v) <= bound for v in family.values(later, keys)):
                    dated.add(later)
    return dated


def _separating_slot(family: Cluster, keys: list[str], others: list[str]) -> Slot | None:
    """A text slot whose values tell the family's article links from its listing links."""
    for slot, kind in family.slots():
        if kind != TEXT:
            continue
        if not set(family.values(slot, keys)) & set(family.values(slot, others)):
            return slot
    return None
