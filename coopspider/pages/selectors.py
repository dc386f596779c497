"""Selectors from site profiles: CSS, or XPath when they start with `/` or `(`, compiled once."""

from __future__ import annotations

from functools import cache

from cssselect import HTMLTranslator, SelectorError
from lxml import etree, html


class SelectorSyntaxError(ValueError):
    """A profile selector that is neither valid CSS nor valid XPath."""


@cache
def compile_selector(selector: str) -> etree.XPath:
    """The selector as an lxml XPath object; raises SelectorSyntaxError with the reason."""
    text = selector.strip()
    if not text:
        raise SelectorSyntaxError("empty selector")
    try:
        if text.startswith(("/", "(")):
            return etree.XPath(text)
        return etree.XPath(HTMLTranslator().css_to_xpath(text))
    except (SelectorError, etree.XPathSyntaxError) as error:
        raise SelectorSyntaxError(
            f"{text!r} is not a valid CSS or XPath selector: {error}"
        ) from error


def select(root: etree._Element, selector: str) -> list[html.HtmlElement]:
    """Elements the selector matches, in document order (strings, numbers, comments and
    processing instructions left out)."""
    found = compile_selector(selector)(root)
    if not isinstance(found, list):
        return []
    return [node for node in found if isinstance(node, html.HtmlElement)]
