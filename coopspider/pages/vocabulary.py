"""The words the article page object reads pages by, in one place (trafilatura's `settings.py`
idea): labels, the headings that end an article, page furniture, metadata keys.

Label tokens are folded (lower case, without diacritics: `coopspider.text.fold_keeping_offsets`)
and are matched at the start of a line; a token is a regular expression, and most are plain
words (a few allow their own spacing, `tin,?\\s*anh`). Order matters where a longer label starts
with a shorter one: the first token that matches wins.
"""

from __future__ import annotations

from typing import NamedTuple


class Vocabulary(NamedTuple):
    """Tokens by what they mark on a page."""

    date_labels: tuple[str, ...]  # a line that says it holds the date (`Ngày đăng:`)
    author_labels: tuple[str, ...]  # a label before the author's name (`Tin, ảnh:`), then `:`
    ticker_labels: tuple[str, ...]  # a news ticker line (`Tin mới:`), never a title or body
    end_markers: tuple[str, ...]  # headings that end an article's text: related, comments, tags
    furniture: tuple[str, ...]  # short lines of page furniture (share, print, views): skipped
    footer: tuple[str, ...]  # lines of the site's footer: copyright, address, visit counts
    caption_prefixes: tuple[str, ...]  # a line that starts so is an image caption (`Ảnh: ...`)
    weekdays: tuple[str, ...]  # weekday words a date line may start with (`Thứ Hai, ...`)
    name_connectors: tuple[str, ...]  # words and signs allowed between names in a byline
    title_separators: str  # signs between a headline and the site's name in `<title>`
    sentence_ends: str  # signs that end a sentence: a line ending so is text, not a name
    article_types: frozenset[str]  # JSON-LD `@type`s (lower case) that describe an article
    meta_title_keys: tuple[str, ...]  # `<meta>` names holding the title, most reliable first
    meta_date_keys: tuple[str, ...]  # `<meta>` names holding the publication date, same order
    meta_description_keys: tuple[str, ...]  # `<meta>` names holding the summary, same order


VOCABULARY = Vocabulary(
    date_labels=(
        "ngay dang",
        "ngay cap nhat",
        "cap nhat",
        "ngay xuat ban",
        "xuat ban",
        "dang ngay",
        "ngay dang tin",
        "thoi gian dang",
        "thoi gian",
        "ngay gui",
        "ngay",
        "posted",
        "published",
        "date",
    ),
    author_labels=(
        r"tin,?\s*anh",
        "tin va anh",
        r"bai,?\s*anh",
        "bai va anh",
        "nguoi dua tin",
        "nguoi viet",
        "nguoi dang",
        "tac gia bai viet",
        "tac gia",
        "but danh",
        "theo",
        "bai",
        "tin",
        "pv",
        "btv",
        "author",
        "by",
    ),
    ticker_labels=("tin moi", "tin nong", "moi cap nhat", "breaking"),
    end_markers=(
        "tin lien quan",
        "cac tin khac",
        "tin khac",
        "cac tin da dua",
        "tin cung chuyen muc",
        "bai viet cung chuyen muc",
        "bai viet lien quan",
        "cac bai viet khac",
        "bai viet khac",
        "bai lien quan",
        "xem them",
        "doc them",
        "tin moi hon",
        "tin cu hon",
        "tin moi nhat",
        "tin doc nhieu",
        "y kien ban doc",
        "binh luan",
        "gui binh luan",
        "y kien cua ban",
        "gui y kien",
        "tu khoa",
        "tags?",
        "chia se bai viet",
        "cac tin moi",
        "tin tuc khac",
        "cac bai khac",
        "related",
    ),
    furniture=(
        "chia se",
        "in bai",
        "ban in",
        "in trang",
        "gui email",
        "gui bai",
        "gui cho ban be",
        "luot xem",
        "so lan xem",
        "luot doc",
        "co chu",
        "quay lai",
        "quay ve",
        "ve dau trang",
        "len dau trang",
        "tro ve",
        "facebook",
        "twitter",
        "zalo",
        "tweet",
        "like",
        "share",
        "print",
        "email",
        "lien ket",
        r"a\s*a\s*a",
        r"\+",
        "-",
    ),
    footer=(
        "ban quyen",
        "copyright",
        "©",
        "dia chi",
        "dien thoai",
        "co quan chu quan",
        "chiu trach nhiem",
        "giay phep",
        r"email\s*:",
        "fax",
        "thong ke truy cap",
        "so nguoi truc tuyen",
        "dang truc tuyen",
        "dang online",
        "tong luot truy cap",
        "luot truy cap",
        "so luot truy cap",
    ),
    caption_prefixes=("anh:", "anh minh hoa", "(anh"),
    weekdays=("Thứ", "Chủ", "CN", "T2", "T3", "T4", "T5", "T6", "T7"),
    name_connectors=("-", "–", "&", ",", "và", "and"),
    title_separators="-|–—:»",
    sentence_ends=".!?…;:",
    article_types=frozenset(
        {"article", "newsarticle", "blogposting", "reportagenewsarticle", "webpage"}
    ),
    meta_title_keys=("og:title", "twitter:title", "title"),
    meta_date_keys=(
        "article:published_time",
        "datepublished",
        "pubdate",
        "og:published_time",
        "dc.date.issued",
    ),
    meta_description_keys=("description", "og:description"),
)
