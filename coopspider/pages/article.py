"""The article page object: one downloaded page in, the article's fields out. It never fetches.

Evidence, most reliable first: the site profile's selectors (when it has any and they match),
JSON-LD and meta tags, labelled lines (`Ngày:`, `Người đưa tin:`), then the structure of the text
around the title (the date line next to it, the run of paragraphs after it, the short closing
line). Without a profile, CSS classes of any particular site are never used. `explain()` tells,
for each field, which evidence won.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypedDict, TypeVar, overload
from urllib.parse import urljoin

from lxml import etree, html

from coopspider.dates import parse_date, to_iso
from coopspider.pages.blocks import Block, Image, Layout, layout_of, parse_html
from coopspider.pages.counter import Counter, counter_in_folded_lines
from coopspider.pages.selectors import select
from coopspider.pages.settings import SETTINGS
from coopspider.pages.vocabulary import VOCABULARY
from coopspider.text import clean_line, fold_keeping_offsets

if TYPE_CHECKING:
    from coopspider.profiles import SiteProfile

_S = SETTINGS
_V = VOCABULARY


def _line_start(tokens: tuple[str, ...], after: str = "") -> re.Pattern[str]:
    """A pattern matching a folded line that starts with one of `tokens`, then `after`."""
    return re.compile(r"^\s*(?:" + "|".join(tokens) + ")" + after)


_DATE_LABEL = _line_start(_V.date_labels, r"\b")
_AUTHOR_LABEL = _line_start(_V.author_labels, r"\s*[:：]\s*")
_TICKER = _line_start(_V.ticker_labels, r"\s*[:：]")
_END_MARKERS = _line_start(_V.end_markers, r"\b\s*[:：]?")
_FURNITURE = _line_start(_V.furniture, r"\b")
_FOOTER = _line_start(_V.footer)
_DIGIT = re.compile(r"\d")
_SENTENCE_END = re.compile("[" + re.escape(_V.sentence_ends) + r"]\W*$")
_TITLE_SEPARATORS = re.compile(r"\s+[" + re.escape(_V.title_separators) + r"]+\s+")
_WEEKDAY = re.compile("^(?:" + "|".join(_V.weekdays) + r")\b")
_NAME_WORD = re.compile(
    r"^[A-ZÀ-Ỹ\u0110][\w.'’-]*$|^(?:" + "|".join(map(re.escape, _V.name_connectors)) + ")$"
)


@dataclass(frozen=True)
class FoundDate:
    """A publication date with the text it was read from and where that text came from."""

    when: datetime | None
    raw: str | None
    evidence: Evidence


@dataclass(frozen=True)
class Evidence:
    """Where a field's value came from: `source` is one of SOURCES, `detail` says exactly what."""

    source: str
    detail: str


class Found(NamedTuple):
    """A field's value and the evidence it was read from."""

    value: Any
    evidence: Evidence


class ArticleFields(TypedDict):
    """What one article page says (`ArticlePage.to_item`), as `coopspider extract` prints it."""

    url: str  # the page's URL, as given
    title: str | None  # the headline as printed, else the best meta title
    published_at: str | None  # ISO 8601 with the +07:00 offset, None when no date parsed
    published_raw: str | None  # the date text as printed (or the metadata value)
    author: str | None  # the author's name without prefixes such as `Tin, ảnh:`
    summary: str | None  # the lead paragraph, else the page's description
    body: str  # the article's paragraphs, separated by one blank line ("" when none)
    images: list[dict[str, str | None]]  # in-article images as {url, caption}, URLs absolute
    counter: dict[str, int | None]  # the visitor counter as {total, online}


# Evidence sources, most reliable first.
SOURCES = ("selector", "json-ld", "meta", "label", "structure", "none")
_NO_EVIDENCE = Evidence("none", "nothing on the page")
_NOTHING = Found(None, _NO_EVIDENCE)


_T = TypeVar("_T")


class _cached_property(Generic[_T]):  # noqa: N801 (named after the decorator it replaces)
    """`functools.cached_property` without its lock: Python 3.11 takes one on each first read
    (3.12 dropped it), and a page reads some twenty of these. The value goes in the instance's
    `__dict__`, where later reads find it without calling this."""

    def __init__(self, compute: Callable[[ArticlePage], _T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, page: None, owner: type | None = None) -> _cached_property[_T]: ...

    @overload
    def __get__(self, page: ArticlePage, owner: type | None = None) -> _T: ...

    def __get__(
        self, page: ArticlePage | None, owner: type | None = None
    ) -> _T | _cached_property[_T]:
        if page is None:
            return self
        value = page.__dict__[self.name] = self.compute(page)
        return value


class ArticlePage:
    """Fields of one article page, read from its HTML and its URL (and its site's profile)."""

    def __init__(
        self,
        url: str,
        html_text: str,
        *,
        date_order: str | None = None,
        profile: SiteProfile | None = None,
    ) -> None:
        self.url = url
        self.date_order = date_order or (profile.date_order if profile else "DMY")
        self.selectors = dict(profile.selectors.items()) if profile else {}
        self.root = parse_html(html_text)
        self.layout: Layout = layout_of(self.root)
        self.blocks: list[Block] = self.layout.blocks
        self._dates_seen: dict[str, datetime | None] = {}

    # -- profile selectors ----------------------------------------------------------------------

    def _selected(self, field: str) -> list[html.HtmlElement]:
        """Elements the profile's selector for `field` matches; [] without one."""
        selector = self.selectors.get(field)
        return select(self.root, selector) if selector else []

    def _blocks_inside(self, elements: list[html.HtmlElement]) -> list[Block]:
        """The blocks of the selected elements; an inline element (a `<span>` in a line) gives
        the line that holds it."""
        if not elements:
            return []
        inside = {e for element in elements for e in element.iter()}
        found = [block for block in self.blocks if block.element in inside]
        if found:
            return found
        lines: dict[int, Block] = {}
        for element in elements:
            text = clean_line(element.text_content())
            holders = set(_ancestors(element))
            for block in self.blocks:
                if text and block.element in holders and text in block.text:
                    lines[block.index] = block
        return [lines[index] for index in sorted(lines)]

    def _selector_evidence(self, field: str) -> Evidence:
        return Evidence("selector", f"{field} = {self.selectors[field]!r}")

    # -- metadata -------------------------------------------------------------------------------

    @_cached_property
    def meta(self) -> dict[str, str]:
        """`<meta>` values by lower-case name or property, first one wins."""
        found: dict[str, str] = {}
        for element in self.root.iter("meta"):
            key = element.get("property") or element.get("name") or element.get("itemprop") or ""
            content = clean_line(element.get("content") or "")
            if key and content:
                found.setdefault(key.lower(), content)
        return found

    @_cached_property
    def json_ld(self) -> dict[str, Any]:
        """The first JSON-LD object of an article type, or {}."""
        for script in self.root.iter("script"):
            if (script.get("type") or "").lower() != "application/ld+json":
                continue
            try:
                data = json.loads(script.text or "")
            except ValueError:
                continue
            for node in _ld_nodes(data):
                kinds = node.get("@type")
                kinds = kinds if isinstance(kinds, list) else [kinds]
                if any(str(kind).lower() in _V.article_types for kind in kinds) and node.get(
                    "headline", node.get("datePublished")
                ):
                    return node
        return {}

    @_cached_property
    def _meta_titles(self) -> list[tuple[Evidence, str]]:
        """Titles the metadata gives, with where each came from."""
        candidates = [
            (Evidence("json-ld", "headline"), self.json_ld.get("headline")),
            *((Evidence("meta", key), self.meta.get(key)) for key in _V.meta_title_keys),
        ]
        title_element = self.root.find(".//title")
        parts: list[tuple[Evidence, str]] = []
        if title_element is not None and title_element.text:
            full = clean_line(title_element.text)
            candidates.append((Evidence("meta", "<title>"), full))
            parts = [
                (Evidence("meta", "<title>, site name cut off"), part)
                for part in _TITLE_SEPARATORS.split(full)
            ]
        # A short title ("Thông báo") is taken from a field that holds the title alone, never
        # from a piece of a split <title>, where it is as likely a section or the site's name.
        return [
            (evidence, clean_line(str(c)))
            for evidence, c in candidates
            if c and len(clean_line(str(c))) >= _S.shortest_title
        ] + [
            (evidence, part)
            for evidence, part in parts
            if len(part) >= _S.shortest_unsupported_title
        ]

    # -- title ----------------------------------------------------------------------------------

    @_cached_property
    def title_block(self) -> Block | None:
        """The block holding the headline: the profile's, else by meta, headings and position."""
        if selected := self._blocks_inside(self._selected("title")):
            return selected[0]
        meta_titles = {fold_keeping_offsets(title) for _, title in self._meta_titles}
        candidates = [
            (_own_title_score(block, meta_titles), block)
            for block in self.blocks
            if _could_be_title(block, meta_titles) and not _TICKER.match(block.folded)
        ]
        # Highest own score first: once the best title so far beats a line's own score by more
        # than its surroundings could add, that line and every one after it are out.
        candidates.sort(key=lambda candidate: candidate[0], reverse=True)
        best: tuple[float, Block] | None = None
        for own, block in candidates:
            if best is not None and own + _S.most_from_surroundings < best[0]:
                break
            score = self._title_score(block, own)
            # Of equal scores the line printed first wins.
            if score > 0 and (best is None or (score, -block.index) > (best[0], -best[1].index)):
                best = (score, block)
        return best[1] if best else None

    def _title_score(self, block: Block, own: float) -> float:
        """The line's own score (see `_own_title_score`) plus what the lines around it say: at
        most `most_from_surroundings` more."""
        score = own
        score += self._date_nearness(block)
        score += min(self._text_mass_after(block) / _S.text_mass_per_point, _S.text_mass_most_score)
        # The rest only takes away.
        if block.link_density > _S.most_link_in_title:
            score -= _S.linked_title_penalty
        if block.chrome:
            score -= _S.chrome_title_penalty
        if _SENTENCE_END.search(block.text) and len(block.text) > _S.longest_sentence_title:
            score -= _S.sentence_title_penalty
        if self._date_in(block.text) is not None:
            score -= _S.dated_title_penalty
        return score

    @_cached_property
    def _text_mass_before(self) -> list[int]:
        """Entry i: the characters of the long, plain lines among the first i blocks."""
        totals = [0]
        for b in self.blocks:
            plain = (
                len(b.text) >= _S.plain_line_chars
                and b.link_density < _S.plain_line_most_link
                and not b.chrome
            )
            totals.append(totals[-1] + (len(b.text) if plain else 0))
        return totals

    def _text_mass_after(self, block: Block) -> int:
        """The characters of the long, plain lines among the `text_mass_window` blocks after
        `block`."""
        end = min(block.index + 1 + _S.text_mass_window, len(self.blocks))
        return self._text_mass_before[end] - self._text_mass_before[block.index + 1]

    def _date_nearness(self, block: Block) -> float:
        """`date_right_by_score` when a date line directly follows (or precedes) the block,
        `date_close_by_score` when one is close by."""
        for other in self._near(block):
            near = len(other.text) <= _S.longest_nearby_date_line
            if near and self._date_in(other.text) is not None:
                right_after = 1 <= other.index - block.index <= _S.date_right_after_lines
                if right_after or other.index == block.index - 1:
                    return _S.date_right_by_score
                return _S.date_close_by_score
        return 0.0

    def _near(self, block: Block) -> Iterable[Block]:
        start = max(block.index - _S.window_before_title, 0)
        after = self.blocks[block.index + 1 : block.index + 1 + _S.window_after_title]
        before = reversed(self.blocks[start : block.index])
        return [*after, *before]

    @_cached_property
    def _title(self) -> tuple[str | None, Evidence]:
        block = self.title_block
        if block is not None and self.selectors.get("title") and self._selected("title"):
            return block.text, self._selector_evidence("title")
        if block is not None:
            agreeing = [
                e.detail for e, t in self._meta_titles if fold_keeping_offsets(t) == block.folded
            ]
            where = f"<h{block.heading}> heading" if block.heading else "line"
            agrees = f", the same as {agreeing[0]}" if agreeing else ""
            return block.text, Evidence("structure", f"printed {where} above the article{agrees}")
        titles = self._meta_titles
        return (titles[0][1], titles[0][0]) if titles else (None, _NO_EVIDENCE)

    def title(self) -> str | None:
        """The headline as printed on the page, else the best meta title."""
        return self._title[0]

    # -- date -----------------------------------------------------------------------------------

    def _date_in(self, text: str) -> datetime | None:
        if text not in self._dates_seen:
            dateless = len(text) > _S.longest_date_line or not _DIGIT.search(text)
            self._dates_seen[text] = None if dateless else parse_date(text, order=self.date_order)
        return self._dates_seen[text]

    @_cached_property
    def date_block(self) -> Block | None:
        """The profile's dated element, else the dated line next to the title (labelled first)."""
        selected = self._blocks_inside(self._selected("date"))
        if dated := [b for b in selected if self._date_in(b.text)]:
            return dated[0]
        if self.title_block is None:
            return None
        dated = [
            b
            for b in self._near(self.title_block)
            if len(b.text) <= _S.longest_date_line
            and b.link_density < _S.most_link_in_date_line
            and self._date_in(b.text)
        ]
        labelled = [b for b in dated if _DATE_LABEL.match(b.folded)]
        return next(iter(labelled or dated), None)

    def _meta_date(self) -> tuple[datetime, str, Evidence] | None:
        candidates = [
            (Evidence("json-ld", "datePublished"), self.json_ld.get("datePublished")),
            *((Evidence("meta", key), self.meta.get(key)) for key in _V.meta_date_keys),
        ]
        for element in self.root.iter("time"):
            candidates.append((Evidence("meta", "<time datetime>"), element.get("datetime")))
        # A date element the profile points at may carry the date in an attribute only.
        for element in self._selected("date"):
            for attribute in ("datetime", "content"):
                evidence = Evidence("selector", f"date = {self.selectors['date']!r} @{attribute}")
                candidates.insert(0, (evidence, element.get(attribute)))
        for evidence, raw in candidates:
            if raw and (when := parse_date(str(raw), order="DMY")):
                return when, str(raw), evidence
        return None

    @_cached_property
    def found_date(self) -> FoundDate:
        """The publication date: the dated line by the title, made precise by agreeing metadata."""
        meta = self._meta_date()
        if meta and meta[2].source == "selector":
            return FoundDate(meta[0], meta[1], meta[2])
        if self.date_block is not None:
            when = self._date_in(self.date_block.text)
            assert when is not None
            evidence = self._date_line_evidence(self.date_block)
            if meta and meta[0].date() == when.date() and when.hour == when.minute == 0:
                detail = f"{evidence.detail}; time from {meta[2].detail}"
                return FoundDate(meta[0], self.date_block.text, Evidence(evidence.source, detail))
            return FoundDate(when, self.date_block.text, evidence)
        if meta:
            return FoundDate(meta[0], meta[1], meta[2])
        return FoundDate(None, None, _NO_EVIDENCE)

    def _date_line_evidence(self, block: Block) -> Evidence:
        if block in self._blocks_inside(self._selected("date")):
            return self._selector_evidence("date")
        if _DATE_LABEL.match(block.folded):
            return Evidence("label", f"labelled line next to the title: {block.text!r}")
        return Evidence("structure", f"dated line next to the title: {block.text!r}")

    def published_at(self) -> str | None:
        """ISO 8601 publication time in UTC+7, or None."""
        return to_iso(self.found_date.when) if self.found_date.when else None

    def published_raw(self) -> str | None:
        """The date text as printed (or the metadata value when the page prints none)."""
        return self.found_date.raw

    # -- body -----------------------------------------------------------------------------------

    @_cached_property
    def _run(self) -> list[Block]:
        """Blocks from the title to the first end of the article, furniture and chrome left out."""
        if self.title_block is None:
            return []
        run: list[Block] = []
        links_in_a_row = 0
        for block in self.blocks[self.title_block.index + 1 :]:
            folded = block.folded
            if _END_MARKERS.match(folded) and len(block.text) < _S.longest_end_marker:
                break
            if _FOOTER.match(folded) or block.chrome:
                if run and sum(len(b.text) for b in run) > _S.body_before_stop:
                    break
                continue
            if block.link_density > _S.most_link_in_run_line:
                links_in_a_row += 1
                if (
                    links_in_a_row >= _S.link_lines_that_end_run
                    and sum(len(b.text) for b in run) > _S.body_before_stop
                ):
                    break
                continue
            links_in_a_row = 0
            furniture = len(block.text) < _S.longest_furniture and _FURNITURE.match(folded)
            if furniture or _TICKER.match(folded):
                continue
            run.append(block)
        return run

    @_cached_property
    def _container(self) -> html.HtmlElement | None:
        """The profile's body element, else the lowest element holding the long paragraphs of the
        run: the article's own text box."""
        if selected := self._selected("body"):
            return selected[0]
        long_blocks = [b for b in self._run if len(b.text) >= _S.long_paragraph]
        if not long_blocks:
            long_blocks = [b for b in self._run if len(b.text) >= _S.shortest_container_line]
        if not long_blocks:
            return None
        return _lowest_common_ancestor([b.element for b in long_blocks])

    @_cached_property
    def _article_blocks(self) -> list[Block]:
        """The article's blocks: those of the run in its container, up to its closing byline."""
        blocks = self._run_in_container
        byline = self._closing_byline
        return blocks[: blocks.index(byline) + 1] if byline is not None else blocks

    @_cached_property
    def _closing_byline(self) -> Block | None:
        """The author line that ends the article when related links, tags or boxes follow it
        inside the article's container: a short name line (or labelled author line) after the
        article's text, after which the page goes on with links before any more paragraphs."""
        after_text = False
        for block in self._run_in_container:
            if block.heading:
                continue
            if len(block.text) >= _S.long_paragraph:
                after_text = True
            elif (
                after_text
                and len(block.text) <= _S.longest_author_line
                and (_looks_like_name(block.text) or _AUTHOR_LABEL.match(block.folded))
                and self._links_follow(block)
            ):
                return block
        return None

    def _links_follow(self, block: Block) -> bool:
        """Whether what follows the block on the page is links (related articles, tags, app
        store buttons, "Xem thêm") before the text goes on: a box may say a sentence before its
        links (an app's pitch), an article's next section says more."""
        paragraphs = 0
        for after in self.blocks[block.index + 1 : block.index + 1 + _S.byline_lookahead]:
            if after.link_density > _S.most_link_in_text or _END_MARKERS.match(after.folded):
                return True
            if len(after.text) >= _S.long_paragraph:
                paragraphs += 1
                if paragraphs >= _S.paragraphs_that_go_on:
                    return False
        return False

    @_cached_property
    def _run_in_container(self) -> list[Block]:
        """Run blocks inside the container, plus a lead printed between the title and it."""
        container = self._container
        if container is None:
            return []
        inside = set(container.iter())
        first_inside = next((b.index for b in self._run if b.element in inside), None)
        chosen = []
        for block in self._run:
            if (
                block.element in inside
                or first_inside is not None
                and block.index < first_inside
                and len(block.text) >= _S.shortest_lead
            ):
                chosen.append(block)
        return [b for b in chosen if b is not self.date_block]

    @_cached_property
    def _captions(self) -> dict[int, str]:
        """Caption text by image position in `self.layout.images`."""
        captions: dict[int, str] = {}
        blocks = self._article_blocks
        count = max(len(blocks), 1)
        most_styled = _S.most_styled_paragraphs
        # Centred or italic text marks a caption only where the article's own paragraphs are not.
        styles = {
            "centered": sum(b.centered for b in blocks) / count < most_styled,
            "italic": sum(b.italic for b in blocks) / count < most_styled,
        }
        for number, image in enumerate(self._article_images):
            caption = self._caption_for(image, styles)
            if caption is not None:
                captions[number] = caption.text
        return captions

    def _caption_for(self, image: Image, styles: dict[str, bool]) -> Block | None:
        figure = next((a for a in _ancestors(image.element) if a.tag == "figure"), None)
        if figure is not None:
            inside = set(figure.iter())
            for block in self.blocks:
                if block.element in inside and block.figcaption:
                    return block
        if image.position >= len(self.blocks):
            return None
        block = self.blocks[image.position]
        next_image = next(
            (
                i
                for i in self.layout.images
                if i.position == image.position
                and i is not image
                and _precedes(image.element, i.element)
            ),
            None,
        )
        if next_image is not None:
            return None
        if _looks_like_caption(block, image, styles):
            return block
        return None

    @_cached_property
    def _article_images(self) -> list[Image]:
        if self.selectors.get("images") and (selected := self._selected("images")):
            chosen = {e for element in selected for e in element.iter("img")}
            return [image for image in self.layout.images if image.element in chosen]
        if not self._article_blocks or self._container is None:
            return []
        region = self._container
        if self._selected("body") and self.title_block is not None:
            # A profile's body element holds the text; the lead picture may sit between it and
            # the title (NukeViet's `homeimg`), so look from their common ancestor.
            title_side = set(_ancestors(self.title_block.element))
            region = next((a for a in _ancestors(region) if a in title_side), region)
        first = self.title_block.index + 1 if self.title_block else 0
        # An image may close the article's text, but none after its closing byline belongs to it.
        last = self._article_blocks[-1].index + (0 if self._closing_byline else 1)
        return [
            image
            for image in self.layout.images
            if first <= image.position <= last
            and not image.small
            and not image.chrome
            and _within(image.element, region)
        ]

    @_cached_property
    def _author_block(self) -> tuple[Block | None, str | None, Evidence]:
        """The author line: the profile's, else labelled anywhere near the article, else the
        short closing line."""
        for block in self._blocks_inside(self._selected("author")):
            match = _AUTHOR_LABEL.match(block.folded)
            name = _name_after_label(block.text, match.end()) if match else _strip_note(block.text)
            if name:
                return block, name, self._selector_evidence("author")
        caption_texts = set(self._captions.values())
        candidates = list(self._run)
        if self.title_block is not None:
            candidates += list(self._near(self.title_block))
        for block in candidates:
            if len(block.text) <= _S.longest_author_line and (
                match := _AUTHOR_LABEL.match(block.folded)
            ):
                name = _name_after_label(block.text, match.end())
                if name:
                    label = clean_line(block.text)[: match.end()].strip()
                    return block, name, Evidence("label", f"author label {label!r}")
        # Some portals glue the author before the date: `Minh Hà 08:12, 06/02/2023`.
        if self.date_block is not None and (name := _name_before_date(self.date_block.text)):
            return self.date_block, name, Evidence("structure", "name printed before the date")
        body = [b for b in self._article_blocks if b.text not in caption_texts]
        closing = Evidence("structure", "short line of capitalised words closing the article")
        if len(body) > 1 and _looks_like_name(body[-1].text):
            return body[-1], _strip_note(body[-1].text), closing
        # The signature may sit in its own cell or box just after the article's text box.
        after = [b for b in self._run if body and b.index > body[-1].index]
        for block in after[: _S.signature_lines_after]:
            if _looks_like_name(block.text):
                return block, _strip_note(block.text), closing
        return None, None, _NO_EVIDENCE

    @_cached_property
    def _author(self) -> tuple[str | None, Evidence]:
        """The printed author, the one the reader sees; the metadata's only when none is printed.
        Where the two differ, the evidence says what the metadata claims."""
        block, name, evidence = self._author_block
        ld_author = self._json_ld_author
        if name:
            if ld_author and fold_keeping_offsets(ld_author) != fold_keeping_offsets(name):
                detail = f"{evidence.detail}; JSON-LD author says {ld_author!r}"
                return name, Evidence(evidence.source, detail)
            return name, evidence
        if ld_author:
            return ld_author, Evidence("json-ld", "author")
        return None, _NO_EVIDENCE

    @_cached_property
    def _json_ld_author(self) -> str | None:
        """The first author's name in the JSON-LD, when it reads as a person's name."""
        ld_author = self.json_ld.get("author")
        if isinstance(ld_author, list) and ld_author:
            ld_author = ld_author[0]
        if isinstance(ld_author, dict):
            ld_author = ld_author.get("name")
        if isinstance(ld_author, str) and _looks_like_name(ld_author):
            return clean_line(ld_author)
        return None

    def author(self) -> str | None:
        """The author's name without prefixes such as `Tin, ảnh:`, or None."""
        return self._author[0]

    @_cached_property
    def _paragraphs(self) -> list[str]:
        caption_texts = set(self._captions.values())
        author_block = self._author_block[0]
        return [
            b.text
            for b in self._article_blocks
            if b is not author_block and b.text not in caption_texts and b is not self.title_block
        ]

    def paragraphs(self) -> list[str]:
        """The article's paragraphs: lead included; captions, author, date and chrome left out."""
        return list(self._paragraphs)

    @_cached_property
    def _body(self) -> Found:
        paragraphs = self._paragraphs
        if not paragraphs:
            return Found("", _NO_EVIDENCE)
        count = f"{len(paragraphs)} paragraphs"
        if self._selected("body"):
            selector = self._selector_evidence("body").detail
            return Found("\n\n".join(paragraphs), Evidence("selector", f"{selector}: {count}"))
        container = self._container
        where = _describe(container) if container is not None else "the page"
        detail = f"{count} after the title, in {where}"
        if self._closing_byline is not None:
            detail += f", up to the byline {self._closing_byline.text!r}"
        return Found("\n\n".join(paragraphs), Evidence("structure", detail))

    def body(self) -> str:
        """Plain text of the article, paragraphs separated by one blank line."""
        return self._body.value

    @_cached_property
    def _summary(self) -> Found:
        if self._paragraphs:
            return Found(self._paragraphs[0], Evidence("structure", "first paragraph of the body"))
        description = next((d for key in _V.meta_description_keys if (d := self.meta.get(key))), "")
        return Found(description, Evidence("meta", "description")) if description else _NOTHING

    def summary(self) -> str | None:
        """The lead paragraph, else the page's description."""
        return self._summary.value

    @_cached_property
    def _images(self) -> Found:
        images = [
            {
                "url": _join(self.base_href, image.src) or image.src,
                "caption": _unwrap(self._captions.get(number)),
            }
            for number, image in enumerate(self._article_images)
        ]
        if self.selectors.get("images") and self._selected("images"):
            return Found(images, self._selector_evidence("images"))
        if images:
            return Found(images, Evidence("structure", "images among the article's paragraphs"))
        return Found(images, _NO_EVIDENCE)

    def images(self) -> list[dict[str, str | None]]:
        """In-article images as `{url, caption}`, URLs made absolute."""
        return [dict(image) for image in self._images.value]

    @_cached_property
    def base_href(self) -> str:
        """The URL relative links resolve against: `<base href>` when the page sets a valid one."""
        base = self.root.find(".//base[@href]")
        href = (base.get("href") or "").strip() if base is not None else ""
        return (_join(self.url, href) if href else None) or self.url

    # -- counter --------------------------------------------------------------------------------

    @_cached_property
    def _counter(self) -> tuple[Counter, Evidence]:
        if self.selectors.get("counter") and (widget := self._selected("counter")):
            # The widget is there: no number in it means a counter drawn by JavaScript, unknown.
            lines = [block.folded for block in self._blocks_inside(widget)]
            return counter_in_folded_lines(lines), self._selector_evidence("counter")
        # Line by line as a reader sees them; a link (a menu item) is never part of a counter,
        # and blanking it keeps the lines around it from being read as adjacent.
        counter = counter_in_folded_lines(
            ["" if b.link_density > _S.most_link_in_counter else b.folded for b in self.blocks]
        )
        if counter.total is None and counter.online is None:
            return counter, Evidence("none", "no labelled visitor numbers in the page text")
        return counter, Evidence("label", "visitor counter labels in the page text")

    def counter(self) -> Counter:
        """The site's visitor counter as printed on this page."""
        return self._counter[0]

    # -- the one output -------------------------------------------------------------------------

    @_cached_property
    def _found(self) -> dict[str, Found]:
        """Every field with the evidence that won, in ArticleFields' order: the one computation
        `to_item` and `explain` both read."""
        date = self.found_date
        counter, counter_evidence = self._counter
        return {
            "title": Found(*self._title),
            "published_at": Found(to_iso(date.when) if date.when else None, date.evidence),
            "published_raw": Found(date.raw, date.evidence),
            "author": Found(*self._author),
            "summary": self._summary,
            "body": self._body,
            "images": self._images,
            "counter": Found({"total": counter.total, "online": counter.online}, counter_evidence),
        }

    def to_item(self) -> ArticleFields:
        """Every extracted field (web-poet's `to_item`): what `coopspider extract` prints and
        what the crawl's ArticleItem is built from."""
        found = self._found
        return ArticleFields(
            url=self.url,
            title=found["title"].value,
            published_at=found["published_at"].value,
            published_raw=found["published_raw"].value,
            author=found["author"].value,
            summary=found["summary"].value,
            body=found["body"].value,
            images=[dict(image) for image in found["images"].value],
            counter=dict(found["counter"].value),
        )

    def explain(self) -> dict[str, dict[str, Any]]:
        """Per field of `to_item` (the raw date text left out: it shares the date's evidence): its
        value, the evidence that won (`source`) and exactly what (`detail`)."""
        values: dict[str, Any] = dict(self.to_item())
        return {
            name: {"value": values[name], "source": e.source, "detail": e.detail}
            for name, (_, e) in self._found.items()
            if name != "published_raw"
        }


def _could_be_title(block: Block, meta_titles: set[str]) -> bool:
    """Whether a line is long enough to be the headline: a short one (`Giấy mời`) only as the
    page's main heading or when the metadata gives the same title."""
    size = len(block.text)
    if _S.shortest_unsupported_title <= size <= _S.longest_title:
        return True
    return _S.shortest_title <= size < _S.shortest_unsupported_title and (
        block.heading == 1 or block.folded in meta_titles
    )


# `heading_score` of each `Block.heading` (0 outside headings, 1 to 6), read for every line.
_HEADING_SCORES = tuple(_S.heading_score(level) for level in range(7))


def _own_title_score(block: Block, meta_titles: set[str]) -> float:
    """How much a line looks like the title by itself: metadata that agrees, heading, emphasis."""
    folded = block.folded
    score = 0.0
    if folded in meta_titles:
        score += _S.meta_title_score
    elif len(folded) >= _S.shortest_partial_meta_title and any(
        [folded in title for title in meta_titles]
    ):
        score += _S.partial_meta_title_score
    score += _HEADING_SCORES[block.heading]
    if block.emphasised:
        score += _S.emphasised_title_score
    if block.text.isupper() and len(block.text) < _S.longest_section_heading:
        score -= _S.section_heading_penalty  # a section heading such as "TIN MỚI NHẤT"
    return score


def _describe(element: etree._Element) -> str:
    """An element as a selector-like name, e.g. `div#news-bodyhtml` or `td.content`, to explain."""
    name = element.tag if isinstance(element.tag, str) else "?"
    if element.get("id"):
        return f"<{name}#{element.get('id')}>"
    classes = (element.get("class") or "").split()
    return f"<{name}{''.join('.' + c for c in classes[:2])}>"


def _join(base: str, link: str) -> str | None:
    """`link` made absolute against `base`; None where urljoin cannot parse it (`//[host`)."""
    try:
        return urljoin(base, link)
    except ValueError:
        return None


def _ld_nodes(data: Any) -> Iterable[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _ld_nodes(item)
    elif isinstance(data, dict):
        yield data
        yield from _ld_nodes(data.get("@graph", []))


def _ancestors(element: html.HtmlElement) -> Iterable[html.HtmlElement]:
    current: html.HtmlElement | None = element
    while current is not None:
        yield current
        current = current.getparent()


def _within(element: html.HtmlElement, region: html.HtmlElement) -> bool:
    """Whether `element` is `region` or inside it: a walk up from one element, where collecting
    the region's elements would create an object for each of them."""
    return element is region or any(a is region for a in element.iterancestors())


def _lowest_common_ancestor(elements: list[html.HtmlElement]) -> html.HtmlElement:
    """The lowest element holding all of `elements` (one of them, when it holds the others)."""
    chain = list(_ancestors(elements[0]))
    height = {element: number for number, element in enumerate(chain)}
    lowest = 0
    for element in elements[1:]:
        # The first of its ancestors on the chain is the lowest one it shares with the first.
        shared = next(height[a] for a in _ancestors(element) if a in height)
        lowest = max(lowest, shared)
    return chain[lowest]


def _precedes(first: html.HtmlElement, second: html.HtmlElement) -> bool:
    return any(e is second for e in first.itersiblings()) or any(
        e is second for e in first.iterdescendants()
    )


def _strip_note(text: str) -> str:
    """Drop a trailing parenthesised note and closing punctuation from a name line."""
    return clean_line(re.sub(r"\(.*?\)\s*$", "", text)).strip(" .-–/")


def _looks_like_name(text: str) -> bool:
    """A short line of capitalised words: how Vietnamese portals sign articles."""
    name = _strip_note(text)
    words = name.split()
    if (
        not 1 <= len(words) <= _S.most_name_words
        or len(name) > _S.longest_name
        or any(ch.isdigit() for ch in name)
    ):
        return False
    return all(_NAME_WORD.match(word) for word in words)


def _leading_name(text: str) -> str | None:
    """The capitalised words a line starts with, up to the first word that is not part of a name."""
    words = []
    for word in _strip_note(text).split():
        if not _NAME_WORD.match(word) or _WEEKDAY.match(word):
            break
        words.append(word)
    name = " ".join(words).strip(" -–,&")
    return name if name and _looks_like_name(name) else None


def _name_before_date(text: str) -> str | None:
    """A name of two or more words printed right before the date on the date line."""
    name = _leading_name(text)
    if (
        not name
        or len(name.split()) < _S.fewest_words_before_date
        or _DATE_LABEL.match(fold_keeping_offsets(name))
    ):
        return None
    rest = clean_line(text)[len(name) :].lstrip(" ,-–|·(")
    return name if rest[:1].isdigit() or _WEEKDAY.match(rest) else None


def _name_after_label(text: str, folded_end: int) -> str | None:
    """The name that follows an author label; folding keeps lengths, so offsets carry over."""
    return _leading_name(clean_line(text)[folded_end:])


def _unwrap(caption: str | None) -> str | None:
    """A caption without the one pair of parentheses some portals wrap captions in."""
    if caption and caption.startswith("(") and caption.endswith(")"):
        return caption[1:-1].strip() or None
    return caption


def _boxed_with(image: Image, block: Block) -> bool:
    """Whether a small box (cell, figure, wrapper) holds just the image and this block's text."""
    for depth, ancestor in enumerate(_ancestors(image.element)):
        if depth > _S.caption_box_depth:
            return False
        if any(e is block.element for e in ancestor.iter()):
            text = clean_line(ancestor.text_content())
            return len(text) <= len(block.text) + _S.caption_box_extra_chars
    return False


def _looks_like_caption(block: Block, image: Image, styles: dict[str, bool]) -> bool:
    """A short line right after an image that reads like a caption rather than a paragraph."""
    text = block.text
    if (
        len(text) > _S.longest_caption
        or block.heading
        or block.link_density > _S.most_link_in_caption
    ):
        return False
    if block.figcaption or (text.startswith("(") and text.endswith(")")):
        return True
    if block.folded.startswith(_V.caption_prefixes):
        return True
    styled = (block.italic and styles["italic"]) or (block.centered and styles["centered"])
    if styled or _boxed_with(image, block):
        return True
    return not _SENTENCE_END.search(text) and len(text) <= _S.longest_plain_caption
