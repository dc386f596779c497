"""URL shapes: how discovery tells families of links apart and writes their regular expressions.

A URL's path segments are cut into pieces: numbers, text, and the separators and file extensions
between them (`hop-tac-xa-6389.html` is text `hop-tac-xa`, `-`, number `6389`, `.html`). Its query
keys count too (`?ItemID=5` and `?CatID=5` are different shapes). Links of one shape form a
cluster; each place a value sits in (a `Slot`) is either the same in every member, and written
as it is, or varies, and is written as a class of characters or a named group.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlsplit

from coopspider.discovery.vocabulary import IGNORED_QUERY_KEYS

NUMBER, TEXT = "number", "text"
# The ways a segment can be read: a slug then a number, a number then a slug, all one text.
TEXT_THEN_NUMBER, NUMBER_THEN_TEXT, ONE_TEXT = "text-number", "number-text", "text"
# A file extension: a dot, a letter, up to four more letters or digits (`.html`, `.aspx`, `.php5`).
_EXTENSION = re.compile(r"(?<=.)\.[A-Za-z][A-Za-z0-9]{1,4}$")
# Text then a number (`slug-6389`, `page-2`, `slug.6389`) or a number then text (`6389_Slug`).
_TEXT_THEN_NUMBER = re.compile(r"(?P<text>.*?[^\W\d_].*?)(?P<sep>[-_.])(?P<number>\d+)")
_NUMBER_THEN_TEXT = re.compile(r"(?P<number>\d+)(?P<sep>[-_])(?P<text>.*[^\W\d_].*)")
# Characters with a meaning in a pattern outside a class of characters (`-` and `/` have none).
_SPECIAL = re.compile(r"([.^$*+?{}\[\]\\|()])")
_READINGS = ((TEXT_THEN_NUMBER, _TEXT_THEN_NUMBER), (NUMBER_THEN_TEXT, _NUMBER_THEN_TEXT))
# Longer segments are not cut: no real URL needs it, and it bounds the work on hostile links.
_LONGEST_CUT_SEGMENT = 300


@dataclass(frozen=True)
class Piece:
    """One piece of a path segment: a number, text, or a literal separator or extension."""

    kind: str  # NUMBER, TEXT or "literal"
    value: str

    @property
    def signature(self) -> str:
        """What the shape keeps of the piece: its kind, or a literal's own text."""
        return self.value if self.kind == "literal" else self.kind


@dataclass(frozen=True, order=True)
class Slot:
    """Where a value sits in the URLs of one shape: a piece of a path segment, or a query key."""

    segment: int  # index of the path segment; -1 for a query value
    piece: int = 0  # index of the piece in the segment
    key: str = ""  # the query key, for query values

    @property
    def in_query(self) -> bool:
        return self.segment < 0


@dataclass(frozen=True)
class Shape:
    """What links of one family share: pieces per path segment, and the query keys."""

    segments: tuple[tuple[str, ...], ...]
    query_keys: tuple[str, ...]


@dataclass(frozen=True)
class UrlParts:
    """A URL cut into pieces. `key` (path?query) identifies it whatever its scheme and host."""

    key: str
    segments: tuple[tuple[Piece, ...], ...]
    query: tuple[tuple[str, str], ...]  # the significant query pairs, in URL order

    @property
    def shape(self) -> Shape:
        return Shape(
            tuple(tuple(piece.signature for piece in segment) for segment in self.segments),
            tuple(sorted(key for key, _ in self.query)),
        )

    def value(self, slot: Slot) -> str | None:
        """The value at `slot`, None where this URL has none."""
        if slot.in_query:
            return next((value for key, value in self.query if key == slot.key), None)
        if slot.segment >= len(self.segments) or slot.piece >= len(self.segments[slot.segment]):
            return None
        return self.segments[slot.segment][slot.piece].value

    def slots(self) -> list[tuple[Slot, str]]:
        """Every slot holding a number or text, with its kind; query values by their content."""
        found = [
            (Slot(index, number), piece.kind)
            for index, segment in enumerate(self.segments)
            for number, piece in enumerate(segment)
            if piece.kind != "literal"
        ]
        found += [
            (Slot(-1, 0, key), NUMBER if value.isdigit() else TEXT) for key, value in self.query
        ]
        return found

    def values(self) -> set[str]:
        """Every number and text value of the URL."""
        return {value for slot, _ in self.slots() if (value := self.value(slot)) is not None}


@lru_cache(maxsize=1 << 16)
def url_parts(url: str) -> UrlParts:
    """`url` cut into pieces (the path percent-decoded, as the URL grammar matches it)."""
    parts = urlsplit(url)
    path = unquote(parts.path) or "/"
    segments = tuple(_pieces(segment) or () for segment in path.split("/") if segment)
    query = tuple(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _ignored_query_key(key)
    )
    raw_query = "&".join(f"{key}={value}" for key, value in query)
    key = path.rstrip("/") or "/"
    return UrlParts(f"{key}?{raw_query}" if raw_query else key, segments, query)


def _ignored_query_key(key: str) -> bool:
    folded = key.lower()
    return folded in IGNORED_QUERY_KEYS or folded.startswith("utm_")


def _pieces(segment: str, reading: str | None = None) -> tuple[Piece, ...] | None:
    """The pieces of one path segment: read the first way that fits (a number alone, a slug
    then a number, a number then a slug, text), or the given `reading`, None if it does not fit."""
    extension = ""
    if (match := _EXTENSION.search(segment)) is not None:
        extension, segment = match.group(), segment[: match.start()]
    pieces: tuple[Piece, ...] | None = None
    if reading is None and segment.isdigit():
        pieces = (Piece(NUMBER, segment),)
    elif reading == ONE_TEXT or len(segment) > _LONGEST_CUT_SEGMENT:
        pieces = (Piece(TEXT, segment),)
    else:
        for name, form in _READINGS:
            if reading in (None, name) and (match := form.fullmatch(segment)):
                pieces = tuple(
                    Piece("literal" if group == "sep" else group, match[group])
                    for group in form.groupindex
                )
                break
        else:
            pieces = (Piece(TEXT, segment),) if reading is None else None
    if pieces is None:
        return None
    return pieces + ((Piece("literal", extension),) if extension else ())


def read_as(parts: UrlParts, segment: int, reading: str) -> UrlParts | None:
    """The URL with one segment read the given way; None where that reading does not fit."""
    whole = "".join(piece.value for piece in parts.segments[segment])
    pieces = _pieces(whole, reading)
    if pieces is None:
        return None
    segments = (*parts.segments[:segment], pieces, *parts.segments[segment + 1 :])
    return UrlParts(parts.key, segments, parts.query)


@dataclass
class Cluster:
    """Links of one shape, by key."""

    shape: Shape
    members: dict[str, UrlParts] = field(default_factory=dict)

    def values(self, slot: Slot, keys: Iterable[str] | None = None) -> list[str]:
        """The values at `slot` of the members (or of the members with these keys)."""
        chosen = self.members if keys is None else {k: self.members[k] for k in keys}
        return [v for parts in chosen.values() if (v := parts.value(slot)) is not None]

    def slots(self) -> list[tuple[Slot, str]]:
        """The slots of the shape with their kind (query values: number when all are)."""
        first = next(iter(self.members.values()))
        found = []
        for slot, kind in first.slots():
            if slot.in_query:
                kind = NUMBER if all(v.isdigit() for v in self.values(slot)) else TEXT
            found.append((slot, kind))
        return found

    def varying(self, keys: Iterable[str] | None = None) -> list[Slot]:
        """The slots whose value differs between members (or between the members given)."""
        chosen = None if keys is None else list(keys)
        return [slot for slot, _ in self.slots() if len(set(self.values(slot, chosen))) > 1]

    def kind_of(self, slot: Slot) -> str:
        return dict(self.slots())[slot]


def cluster(urls: Iterable[str]) -> list[Cluster]:
    """The URLs grouped by shape, biggest group first.

    A segment that reads two ways (`2357-hoi-nghi-2021-2026`: an id then a slug, or a slug then
    a number) is read the way that fits every link of both groups: the one whose number tells
    more links apart.
    """
    clusters: dict[Shape, Cluster] = {}
    for url in urls:
        parts = url_parts(url)
        clusters.setdefault(parts.shape, Cluster(parts.shape)).members.setdefault(parts.key, parts)
    while _merge_twins(clusters, _read_alike):
        pass
    return sorted(clusters.values(), key=lambda c: -len(c.members))


def join_plain_slugs(
    families: list[Cluster], alike: Callable[[Cluster, Cluster], bool]
) -> list[Cluster]:
    """The families with slugs that end in a number (`ke-hoach-2024`) joined to the family of
    plain slugs of the same form, each slug read whole, where `alike(plain, numbered)` says the
    two hold the same kind of page. (Ids after a slug, `slug-6389.html`, have no plain twin of
    articles: the plain links beside them are menu pages.)"""
    clusters = {family.shape: family for family in families}

    def read_whole(one: Cluster, other: Cluster, segment: int) -> list[UrlParts] | None:
        plain, numbered = sorted((one, other), key=lambda c: NUMBER in c.shape.segments[segment])
        # Only `slug-2024`: `slug.6389` and `6389_slug` are how platforms write ids.
        if plain.shape.segments[segment][:1] != (TEXT,) or numbered.shape.segments[segment][:3] != (
            TEXT,
            "-",
            NUMBER,
        ):
            return None
        if len(plain.shape.segments[segment]) != len(numbered.shape.segments[segment]) - 2:
            return None
        if not alike(plain, numbered):
            return None
        return _all_read([*one.members.values(), *other.members.values()], segment, ONE_TEXT)

    while _merge_twins(clusters, read_whole):
        pass
    return sorted(clusters.values(), key=lambda c: -len(c.members))


def _merge_twins(
    clusters: dict[Shape, Cluster],
    read: Callable[[Cluster, Cluster, int], list[UrlParts] | None],
) -> bool:
    """Merge one pair of groups whose links differ only in how one segment was read, when
    `read` finds one reading for all their links."""
    ordered = sorted(clusters.values(), key=lambda c: -len(c.members))
    for big in ordered:
        for small in ordered:
            segment = _only_difference(big.shape, small.shape)
            if small is big or segment is None:
                continue
            merged = read(big, small, segment)
            if merged is None:
                continue
            del clusters[big.shape], clusters[small.shape]
            joined = Cluster(merged[0].shape, {parts.key: parts for parts in merged})
            clusters[joined.shape] = joined
            return True
    return False


def _only_difference(one: Shape, other: Shape) -> int | None:
    """The one path segment two shapes differ in, None when they differ otherwise."""
    if one.query_keys != other.query_keys or len(one.segments) != len(other.segments):
        return None
    pairs = zip(one.segments, other.segments, strict=True)
    differ = [index for index, (a, b) in enumerate(pairs) if a != b]
    return differ[0] if len(differ) == 1 else None


def _read_alike(one: Cluster, other: Cluster, segment: int) -> list[UrlParts] | None:
    """The links with the segment read as a slug and a number in the one way that fits them all
    (of two, the one whose number takes more values)."""
    forms = {one.shape.segments[segment][:3], other.shape.segments[segment][:3]}
    if {form[:1] for form in forms} != {(TEXT,), (NUMBER,)} or any(len(f) < 3 for f in forms):
        return None  # not one segment read two ways: nothing to try
    members = [*one.members.values(), *other.members.values()]
    best: tuple[int, list[UrlParts]] | None = None
    for reading in (TEXT_THEN_NUMBER, NUMBER_THEN_TEXT):
        read = _all_read(members, segment, reading)
        if read is None:
            continue
        pieces = read[0].segments[segment]
        number = next(i for i, piece in enumerate(pieces) if piece.kind == NUMBER)
        distinct = len({parts.segments[segment][number].value for parts in read})
        if best is None or distinct > best[0]:
            best = (distinct, read)
    return best[1] if best else None


def _all_read(members: list[UrlParts], segment: int, reading: str) -> list[UrlParts] | None:
    """Every link with the segment read one way, when that fits all and gives them one shape."""
    read = [read_as(parts, segment, reading) for parts in members]
    fitting = [parts for parts in read if parts is not None]
    if len(fitting) < len(read) or len({parts.shape for parts in fitting}) != 1:
        return None
    return fitting


# -- regular expressions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotPattern:
    """How one slot is written in a pattern: a named group, a class, or its constant value."""

    group: str | None = None  # id, category, page, offset, slug: a named group
    constant: str | None = None  # the one value, written literally
    excluded: tuple[str, ...] = ()  # values the slot must not take (another family's literals)


def pattern(
    cluster_: Cluster, slots: Mapping[Slot, SlotPattern], members: Iterable[str] | None = None
) -> str:
    """A regular expression matching the whole path (or path?query) of the cluster's URLs.

    Slots not in `slots` are constant (written as they are) when every member given has the same
    value there, else a class of characters.
    """
    keys = list(cluster_.members if members is None else members)
    kinds = dict(cluster_.slots())

    def written(slot: Slot) -> SlotPattern:
        if slot in slots:
            return slots[slot]
        values = set(cluster_.values(slot, keys))
        return SlotPattern(constant=values.pop()) if len(values) == 1 else SlotPattern()

    path = []
    first = cluster_.members[keys[0]]
    for index, segment in enumerate(first.segments):
        text = ""
        for number, piece in enumerate(segment):
            if piece.kind == "literal":
                text += _escape(piece.value)
                continue
            slot = Slot(index, number)
            followed = number + 1 < len(segment)
            text += _value_pattern(written(slot), kinds[slot], "/", lazy=followed)
        path.append(text)
    # A folder may be linked with or without its slash; a file name (`x.html`) never has one.
    last = first.segments[-1][-1] if first.segments and first.segments[-1] else None
    slash = "" if last is not None and last.value.startswith(".") else "/?"
    regex = "/" + "/".join(path) + slash if path else "/"
    query_slots = [slot for slot, _ in cluster_.slots() if slot.in_query]
    if not query_slots:
        return regex
    lookaheads = []
    for slot in query_slots:
        how = written(slot)
        value = (
            ""
            if how.group is None and how.constant is None
            else _value_pattern(how, kinds[slot], "&", lazy=False)
        )
        end = "(?:&|$)" if value else ""
        lookaheads.append(f"(?=(?:.*&)?{_escape(slot.key)}={value}{end})")
    return regex + r"\?" + "".join(lookaheads) + ".*"


def _value_pattern(how: SlotPattern, kind: str, stop: str, *, lazy: bool) -> str:
    if how.constant is not None and how.group is None:
        return _escape(how.constant)
    body = r"\d+" if kind == NUMBER else f"[^{stop}]+" + ("?" if lazy else "")
    if how.excluded:
        others = "|".join(_escape(value) for value in sorted(how.excluded))
        body = f"(?!(?:{others})(?:[{_escape(stop)}.]|$)){body}"
    return f"(?P<{how.group}>{body})" if how.group else body


def template(
    cluster_: Cluster, names: Mapping[Slot, str], members: Iterable[str] | None = None
) -> str:
    """The shape for people: `/{category}/{slug}-{id}.html`, constants as they are."""
    keys = list(cluster_.members if members is None else members)
    first = cluster_.members[keys[0]]
    path = []
    for index, segment in enumerate(first.segments):
        text = ""
        for number, piece in enumerate(segment):
            slot = Slot(index, number)
            text += piece.value if piece.kind == "literal" else _named(cluster_, slot, names, keys)
        path.append(text)
    written = "/" + "/".join(path)
    query = [
        f"{slot.key}={_named(cluster_, slot, names, keys)}"
        for slot, _ in cluster_.slots()
        if slot.in_query
    ]
    return written + ("?" + "&".join(query) if query else "")


def _named(cluster_: Cluster, slot: Slot, names: Mapping[Slot, str], keys: list[str]) -> str:
    if slot in names:
        return "{" + names[slot] + "}"
    values = set(cluster_.values(slot, keys))
    if len(values) == 1:
        return values.pop()
    return "{n}" if cluster_.kind_of(slot) == NUMBER else "{slug}"


def _escape(text: str) -> str:
    """`text` as a pattern that matches it, escaping only what must be (readable patterns)."""
    return _SPECIAL.sub(r"\\\1", text)
