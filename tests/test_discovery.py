"""The pure parts of discovery: URL shapes, the patterns written from them, ids, offsets, and
writing a site's table into the configuration file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from coopspider.config import ConfigError, add_site_table
from coopspider.discovery.explore import _date_slots, _id_slot, _offset_step
from coopspider.discovery.report import _string, default_name
from coopspider.discovery.shapes import (
    Slot,
    SlotPattern,
    cluster,
    join_plain_slugs,
    pattern,
    url_parts,
)
from coopspider.profiles import ProfileError, load_profiles
from coopspider.urls import LinkKind


def test_segments_are_cut_into_text_numbers_and_extensions() -> None:
    def kinds(url: str) -> list[list[str]]:
        return [[p.signature for p in segment] for segment in url_parts(url).segments]

    # Forms seen on real alliance sites (shared/reference/real-sites.md).
    assert kinds("/tin-tuc-su-kien/hop-tac-xa-6389.html") == [
        ["text"],
        ["text", "-", "number", ".html"],
    ]
    assert kinds("/tin-tuc-su-kien/cut-on-a-hyphen--6389.html") == [
        ["text"], ["text", "-", "number", ".html"]
    ]  # fmt: skip
    assert kinds("/Tin-Tuc/HoatDong/1234_Hop-tac-xa") == [
        ["text"],
        ["text"],
        ["number", "_", "text"],
    ]
    assert kinds("/htx-muoi-tan-thuan.5521") == [["text", ".", "number"]]
    assert kinds("/trang/TinTuc/12/3456/Hop-Tac-Xa--.html") == [
        ["text"], ["text"], ["number"], ["number"], ["text", ".html"]
    ]  # fmt: skip
    assert url_parts("/tin/123/").key == url_parts("/tin/123").key == "/tin/123"


def test_tracking_query_keys_do_not_make_another_shape() -> None:
    plain = url_parts("/Pages/ChiTiet.aspx?ItemID=5")
    tracked = url_parts("/Pages/ChiTiet.aspx?utm_source=zalo&ItemID=5&fbclid=x")
    assert plain.shape == tracked.shape and plain.key == tracked.key
    assert url_parts("/news.php?id=5").shape != url_parts("/news.php?cat=5").shape


def test_slugs_ending_in_a_year_join_the_plain_slug_family() -> None:
    plain = [
        f"/2023/05/{day:02d}/hop-tac-xa-so-{word}/"
        for day, word in enumerate(["mot", "hai", "ba", "bon", "nam", "sau"], start=1)
    ]
    years = ["/2023/06/01/tong-ket-nam-2023/", "/2024/01/02/ke-hoach-2024/"]
    assert len(cluster(plain + years)) == 2
    joined = join_plain_slugs(cluster(plain + years), lambda plain, numbered: True)
    assert len(joined) == 1 and len(joined[0].members) == 8
    assert join_plain_slugs(cluster(plain + years), lambda plain, numbered: False) != joined
    # An id after a dot or before the slug is never read into the slug.
    dotted = ["/tin-tuc", "/su-kien", "/thong-bao", "/bai-a.6389", "/bai-b.6390"]
    assert len(join_plain_slugs(cluster(dotted), lambda plain, numbered: True)) == 2


def test_the_id_is_the_number_that_tells_articles_apart() -> None:
    urls = [
        f"/trang/TinTuc/{category}/{article}/Bai-viet-{article}--.html"
        for category, article in [(12, 3456), (12, 3457), (13, 3458), (13, 3459), (14, 3460)]
    ]
    family = cluster(urls)[0]
    assert _id_slot(family, tuple(family.members)) == Slot(3)


def test_one_article_under_two_categories_has_one_id() -> None:
    urls = [f"/{cat}/bai-so-{n}-{n}.html" for cat in ("tin-tuc", "su-kien") for n in range(5)]
    urls += [f"/tin-tuc/bai-khac-{n}-{100 + n}.html" for n in range(5)]
    family = cluster(urls)[0]
    slot = _id_slot(family, tuple(family.members))
    assert slot is not None and family.kind_of(slot) == "number"
    regex = re.compile(pattern(family, {slot: SlotPattern(group="id")}))
    ids = {match["id"] for url in urls if (match := regex.fullmatch(url_parts(url).key))}
    assert ids == {str(n) for n in range(5)} | {str(100 + n) for n in range(5)}


def test_wordpress_dates_are_not_ids_the_slug_is() -> None:
    urls = [f"/2024/{month:02d}/{day:02d}/bai-{word}/" for month, day, word in
            [(1, 5, "a"), (1, 5, "b"), (2, 9, "c"), (3, 11, "d"), (3, 12, "e")]]  # fmt: skip
    family = cluster(urls)[0]
    keys = tuple(family.members)
    assert _date_slots(family, keys) == {Slot(0), Slot(1), Slot(2)}
    assert _id_slot(family, keys) == Slot(3)


def test_query_patterns_take_any_order_and_extra_keys() -> None:
    family = cluster(
        ["/Pages/DanhSach.aspx?CatID=5&Page=2", "/Pages/DanhSach.aspx?CatID=7&Page=3"]
    )[0]
    regex = re.compile(
        pattern(
            family,
            {
                Slot(-1, 0, "CatID"): SlotPattern(group="category"),
                Slot(-1, 0, "Page"): SlotPattern(group="page"),
            },
        )
    )
    match = regex.fullmatch("/Pages/DanhSach.aspx?Page=4&x=1&CatID=9")
    assert match and (match["category"], match["page"]) == ("9", "4")
    assert regex.fullmatch("/Pages/DanhSach.aspx?CatID=9") is None
    assert regex.fullmatch("/Pages/Khac.aspx?CatID=9&Page=2") is None


def test_excluded_values_keep_listings_out_of_the_article_pattern() -> None:
    family = cluster(["/tin/1/", "/tin/2/", "/bai/3/", "/chuyen-muc/7/"])[0]
    keys = ["/tin/1", "/tin/2", "/bai/3"]
    regex = re.compile(
        pattern(
            family,
            {Slot(1): SlotPattern(group="id"), Slot(0): SlotPattern(excluded=("chuyen-muc",))},
            keys,
        )
    )
    assert regex.fullmatch("/su-kien/9/") and not regex.fullmatch("/chuyen-muc/7/")


def test_offsets_and_page_numbers() -> None:
    assert _offset_step([(2, 2), (3, 3), (5, 5)]) is None
    assert _offset_step([(1, 0), (2, 6), (3, 12)]) == 6
    assert _offset_step([(2, 7), (3, 13)]) == 6  # offsets counted from 1
    assert _offset_step([(2, 1), (3, 2)]) == 1  # pages counted from 0
    assert _offset_step([(2, 5), (3, 7)]) is None


def test_offset_pagination_in_a_site_table() -> None:
    table = {
        "base_url": "https://htx.example.org/",
        "urls": {
            "article": [r"/index\.php/[^/]+/(?P<id>\d+)-[^/]+"],
            "listing": [r"/index\.php/(?P<category>[^/]+)"],
            "pagination": [r"/index\.php/(?P<category>[^/]+)\?(?=(?:.*&)?start=(?P<offset>\d+)).*"],
            "items_per_page": 6,
        },
    }
    grammar = load_profiles({"joomla": table})["joomla"].grammar
    parsed = grammar.classify("https://htx.example.org/index.php/tin-tuc?start=12")
    assert (parsed.kind, parsed.category, parsed.page) == (LinkKind.LISTING, "tin-tuc", 3)
    del table["urls"]["items_per_page"]  # type: ignore[attr-defined]
    with pytest.raises(ProfileError, match="items_per_page"):
        load_profiles({"joomla": table})
    table["urls"]["pagination"] = [r"/index\.php/(?P<category>[^/]+)\?start=\d+"]  # type: ignore[index]
    with pytest.raises(ProfileError, match=r"\(\?P<page>\.\.\.\) or \(\?P<offset>\.\.\.\)"):
        load_profiles({"joomla": table})


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://lienminhhtx.thaibinh.gov.vn/", "lienminhhtx-thaibinh"),
        ("http://www.lmhtxdaknong.vn/tin-tuc", "lmhtxdaknong"),
        ("http://127.0.0.1:8765/", "127-0-0-1"),
    ],
)
def test_default_site_names(url: str, name: str) -> None:
    assert default_name(url) == name


def test_toml_strings_read_back_as_written() -> None:
    for value in [r"/(?P<id>\d+)\.html", "it's", 'say "hi"\\', "Liên minh\tHTX"]:
        assert tomllib.loads(f"x = {_string(value)}")["x"] == value


def _table(name: str, url: str) -> str:
    return (
        f"[sites.{name}]\nbase_url = \"{url}\"\n[sites.{name}.urls]\narticle = ['/(?P<id>\\d+)']\n"
    )


def test_add_site_table_refuses_a_table_it_cannot_replace(tmp_path: Path) -> None:
    config = tmp_path / "coopspider.toml"
    config.write_text('[sites]\nlearned.base_url = "https://a.example.org/"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="exists already"):
        add_site_table(config, "learned", _table("learned", "https://b.example.org/"))
    with pytest.raises(ConfigError, match="edit it by hand"):
        add_site_table(config, "learned", _table("learned", "https://b.example.org/"), replace=True)
    assert "a.example.org" in config.read_text(encoding="utf-8")


def test_add_site_table_never_writes_an_invalid_file(tmp_path: Path) -> None:
    config = tmp_path / "coopspider.toml"
    config.write_text("[run]\ntimeout = 60\n", encoding="utf-8")
    broken = _table("learned", "https://b.example.org/").replace("(?P<id>", "(")
    with pytest.raises(ConfigError, match="id"):
        add_site_table(config, "learned", broken)
    assert config.read_text(encoding="utf-8") == "[run]\ntimeout = 60\n"
    assert list(tmp_path.iterdir()) == [config]  # no temporary file left behind
    config.write_text("[run\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        add_site_table(config, "learned", _table("learned", "https://b.example.org/"))
