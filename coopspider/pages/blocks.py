"""Turn an HTML tree into the sequence of text blocks and images a reader sees, in reading order.

Extraction works on this sequence instead of on CSS classes: the title, the date line, the body and
the author are found by their text and their position relative to each other, which survives the
redesigns and unknown portals the project has to face.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from lxml import etree, html

from coopspider.pages.settings import SETTINGS
from coopspider.text import clean_line, fold_clean_line

# Elements whose text never reaches a reader.
_INVISIBLE = {
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed",
    "button", "select", "option", "input", "textarea", "head", "title", "map",
}  # fmt: skip
# Elements that start a new line of text.
_BLOCK = {
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul", "caption",
}  # fmt: skip
# Regions that hold site chrome on any HTML5 page, whatever their classes.
_CHROME = {"nav", "aside", "footer", "menu"}
_CHROME_ROLES = {"navigation", "contentinfo", "complementary", "banner", "search"}
_CONTEXT_TAGS = {
    "a",
    "center",
    "figcaption",
    "b",
    "strong",
    "i",
    "em",
    "cite",
    "nav",
    "aside",
    "footer",
    "menu",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BOLD = {"b", "strong"}
_ITALIC = {"i", "em", "cite"}
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(bold|[6-9]00)", re.I)
_ITALIC_STYLE = re.compile(r"font-style\s*:\s*italic", re.I)
_TEXT_ALIGN = re.compile(r"text-align\s*:\s*([a-z-]+)", re.I)


@dataclass
class Block:
    """One line of text as a reader sees it, with what the markup says about it."""

    index: int
    text: str
    element: html.HtmlElement  # nearest block-level ancestor
    link_chars: int = 0
    bold_chars: int = 0
    italic_chars: int = 0
    heading: int = 0  # 1 for h1 ... 6 for h6, 0 outside headings
    chrome: bool = False  # inside nav/aside/footer or an ARIA navigation region
    centered: bool = False
    right_aligned: bool = False
    figcaption: bool = False
    # The text without accents, lower case, for matching labels. Extraction reads it for nearly
    # every line (the counter scans them all): folded when the block is made, with no lazy
    # property to pay for on each first read (functools' takes a lock).
    folded: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.folded = fold_clean_line(self.text)  # `text` is a cleaned line

    @property
    def link_density(self) -> float:
        return self.link_chars / max(len(self.text), 1)

    @property
    def emphasised(self) -> bool:
        size = max(len(self.text), 1)
        return (self.bold_chars + self.italic_chars) / size > SETTINGS.emphasised_share

    @property
    def italic(self) -> bool:
        return self.italic_chars / max(len(self.text), 1) > SETTINGS.emphasised_share


@dataclass
class Image:
    """An image in reading order: `position` is the number of blocks that come before it."""

    position: int
    src: str
    element: html.HtmlElement
    chrome: bool = False
    small: bool = False


class _Context(NamedTuple):
    """What the elements around a piece of text say about it; a value, so equal ones are shared."""

    link: bool = False
    bold: bool = False
    italic: bool = False
    heading: int = 0
    chrome: bool = False
    centered: bool = False
    right: bool = False
    figcaption: bool = False


@dataclass
class Layout:
    """The blocks and images of one page."""

    blocks: list[Block] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)


# libxml2 otherwise cuts a document off past 256 levels of nesting and the article with it;
# the download size limit bounds what this lets in.
_PARSER = html.HTMLParser(huge_tree=True)
# lxml.html picks each element's class in Python (forms and inputs get their own), once per
# element object lxml creates, and the walks create one per element; extraction needs only
# HtmlElement's methods, which a lookup done in C gives.
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=html.HtmlElement,
        comment=html.HtmlComment,
        pi=html.HtmlProcessingInstruction,
        entity=html.HtmlEntity,
    )
)


def parse_html(text: str) -> html.HtmlElement:
    """Parse possibly broken HTML into an lxml tree; an empty document gives an empty <html>."""
    try:
        root = html.document_fromstring(text or "<html></html>", parser=_PARSER)
    except (etree.ParserError, ValueError):
        root = html.document_fromstring("<html></html>", parser=_PARSER)
    return root


def _image_src(element: etree._Element) -> str:
    for attribute in ("data-src", "data-original", "data-lazy-src", "src"):
        value = (element.get(attribute) or "").strip()
        if value and not value.startswith("data:"):
            return value
    return ""


def _is_small(element: etree._Element) -> bool:
    for attribute in ("width", "height"):
        value = (element.get(attribute) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) < SETTINGS.smallest_picture:
            return True
    return False


# The attributes the walk reads. Most elements carry none of them (a `class`, an `href`), and one
# look at the names costs less than asking lxml for each of the four.
_READ_ATTRIBUTES = frozenset(("style", "hidden", "align", "role"))


# A page repeats a handful of (context, tag, style) combinations on every link and paragraph,
# and the pages of one site repeat each other's: computing each once saves the regexes. Long
# styles are not kept, so a hostile page cannot fill the cache with megabytes of them.
_LONGEST_CACHED_STYLE = 200


@lru_cache(maxsize=4096)
def _child_context(parent: _Context, tag: str, style: str, align: str, role: str) -> _Context:
    # The nearest element that says how to align its text decides; `<table align>` places the
    # table itself and says nothing about its text.
    text_align = _TEXT_ALIGN.search(style)
    alignment = text_align.group(1).lower() if text_align else align
    return _Context(
        link=parent.link or tag == "a",
        bold=parent.bold or tag in _BOLD or bool(_BOLD_STYLE.search(style)),
        italic=parent.italic or tag in _ITALIC or bool(_ITALIC_STYLE.search(style)),
        heading=_HEADINGS.get(tag, parent.heading),
        chrome=parent.chrome or tag in _CHROME or role in _CHROME_ROLES,
        centered=alignment == "center" or tag == "center" or (parent.centered and not alignment),
        right=alignment == "right" or (parent.right and not alignment),
        figcaption=parent.figcaption or tag == "figcaption",
    )


class _Builder:
    def __init__(self) -> None:
        self.layout = Layout()
        self.pieces: list[tuple[str, _Context]] = []
        self.owner: html.HtmlElement | None = None

    def flush(self) -> None:
        pieces = self.pieces
        if not pieces:
            return
        self.pieces = []
        if self.owner is None:
            return
        if len(pieces) == 1:
            # A line of one piece: its sizes are the cleaned line's, its context the piece's (a
            # piece that cleans to some text is not all spaces).
            piece, first = pieces[0]
            text = clean_line(piece)
            if not text:
                return
            size = len(text)
            link_chars = size if first.link else 0
            bold_chars = size if first.bold or first.heading else 0
            italic_chars = size if first.italic else 0
            heading = first.heading
        else:
            text = clean_line("".join([piece for piece, _ in pieces]))
            if not text:
                return
            link_chars = bold_chars = italic_chars = 0
            for piece, context in pieces:
                if not (context.link or context.bold or context.heading or context.italic):
                    continue  # plain text counts towards none of the sizes below
                size = len(clean_line(piece))
                link_chars += size if context.link else 0
                bold_chars += size if context.bold or context.heading else 0
                italic_chars += size if context.italic else 0
            # Pieces are never empty: one is more than spaces when it is not all spaces.
            contexts = [context for piece, context in pieces if not piece.isspace()]
            first = contexts[0] if contexts else pieces[0][1]
            heading = max([c.heading for c in contexts], default=0)
        blocks = self.layout.blocks
        blocks.append(
            Block(
                index=len(blocks),
                text=text,
                element=self.owner,
                link_chars=link_chars,
                bold_chars=bold_chars,
                italic_chars=italic_chars,
                heading=heading,
                chrome=first.chrome,
                centered=first.centered,
                right_aligned=first.right,
                figcaption=first.figcaption,
            )
        )


def layout_of(root: html.HtmlElement) -> Layout:
    """The blocks and images of a parsed page, in reading order."""
    builder = _Builder()
    pieces = builder.pieces
    images = builder.layout.images
    base = _Context()
    # One context per open element, after the page's own; None marks an element whose subtree is
    # skipped.
    contexts: list[_Context | None] = [base]
    # The open block elements, innermost last: an element ends a line when it closes as the last.
    owners: list[html.HtmlElement] = []
    # iterwalk runs in C and walks without recursion, so deeply nested pages cannot overflow.
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        if event == "start":
            tag = element.tag  # lxml builds a new string on each read: read it once
            if not isinstance(tag, str):
                # A comment or processing instruction: nothing a reader sees.
                walker.skip_subtree()
                contexts.append(None)
                continue
            names = element.keys()
            if names and not _READ_ATTRIBUTES.isdisjoint(names):
                style = element.get("style") or ""  # read once for both uses
                hidden = element.get("hidden") is not None
                # `<table align>` places the table itself and says nothing about its text.
                align = (element.get("align") or "").lower() if tag != "table" else ""
                role = (element.get("role") or "").lower()
            else:
                style = align = role = ""
                hidden = False
            # Not rendered: an invisible element, or one hidden by its attribute or its style.
            if tag in _INVISIBLE or hidden or (style and _HIDDEN_STYLE.search(style)):
                walker.skip_subtree()
                contexts.append(None)
                continue
            parent_context = contexts[-1]
            assert parent_context is not None  # a skipped subtree yields no start events
            # The context of the element's own text: its parent's unless the element changes it.
            if not (style or align or role) and tag not in _CONTEXT_TAGS:
                context = parent_context  # nothing here changes the context: share the parent's
            elif len(style) > _LONGEST_CACHED_STYLE:
                context = _child_context.__wrapped__(parent_context, tag, style, align, role)
            else:
                context = _child_context(parent_context, tag, style, align, role)
            contexts.append(context)
            if tag in _BLOCK:
                if pieces:
                    builder.flush()
                    pieces = builder.pieces
                owners.append(element)
                builder.owner = element
            else:
                if tag == "br" and pieces:
                    builder.flush()
                    pieces = builder.pieces
                if builder.owner is None:
                    builder.owner = element
                if tag == "img":
                    # The text before the image is a line of its own, owned by the image itself
                    # when no element owns it yet.
                    if pieces:
                        builder.flush()
                        pieces = builder.pieces
                    _add_image(images, element, len(builder.layout.blocks), context)
            if text := element.text:
                pieces.append((text, context))
        else:
            contexts.pop()
            if owners and owners[-1] is element:
                if pieces:
                    builder.flush()
                    pieces = builder.pieces
                owners.pop()
                builder.owner = owners[-1] if owners else None
            if tail := element.tail:
                around = contexts[-1]
                assert around is not None  # the parent of a walked element was walked
                pieces.append((tail, around))
    builder.flush()
    return builder.layout


def _add_image(
    images: list[Image], element: html.HtmlElement, position: int, context: _Context
) -> None:
    src = _image_src(element)
    if src:
        images.append(
            Image(
                position=position,
                src=src,
                element=element,
                chrome=context.chrome,
                small=_is_small(element),
            )
        )
