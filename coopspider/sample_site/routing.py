"""Request URLs -> the sample site's pages, read the way real servers read a query string.

A page is registered under the URL its links write (`/news.php?cat=3092&p=2`). A request finds it
with its query parameters in any order, and with parameters no page at that path reads
(`utm_source`, session ids, `&amp;` left unescaped by a careless client) ignored: the server
looks only at the keys its pages use.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

T = TypeVar("T")
QueryKey = tuple[tuple[str, str], ...]


def split_url(url: str) -> tuple[str, dict[str, str]]:
    """(percent-decoded path, query parameters) of a path or URL; a repeated key keeps its last
    value, as PHP reads it."""
    parts = urlsplit(url)
    return unquote(parts.path) or "/", dict(parse_qsl(parts.query, keep_blank_values=True))


class Routes(Mapping[str, T]):
    """A read-only mapping from the URLs pages are linked under to the pages.

    Iteration gives the URLs as written; lookups (`[]`, `in`, `get`) accept any URL a server
    would answer with the same page: same path, the same values of the query keys pages at that
    path read, in any order, other keys ignored.
    """

    def __init__(self, pages: Iterable[tuple[str, T]]) -> None:
        self._written: dict[str, T] = {}
        self._by_path: dict[str, dict[QueryKey, T]] = {}
        self._keys_read: dict[str, set[str]] = {}
        for url, page in pages:
            if url in self._written:
                continue  # the first page registered under a URL wins
            self._written[url] = page
            path, query = split_url(url)
            self._keys_read.setdefault(path, set()).update(query)
            self._by_path.setdefault(path, {})[_query_key(query)] = page

    def __getitem__(self, url: str) -> T:
        path, query = split_url(url)
        keys_read = self._keys_read.get(path)
        if keys_read is None:
            raise KeyError(url)
        read = {key: value for key, value in query.items() if key in keys_read}
        try:
            return self._by_path[path][_query_key(read)]
        except KeyError:
            raise KeyError(url) from None

    def __contains__(self, url: object) -> bool:
        return isinstance(url, str) and self.get(url) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._written)

    def __len__(self) -> int:
        return len(self._written)


def _query_key(query: Mapping[str, str]) -> QueryKey:
    return tuple(sorted(query.items()))
