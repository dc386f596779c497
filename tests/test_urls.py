"""The platform's URL grammar: what is a listing, what an article, what stays on the site."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from coopspider import urls
from coopspider.profiles import classify
from coopspider.urls import LinkKind, on_site

BASE = "https://lienminhhtx.thaibinh.gov.vn/"


@pytest.mark.parametrize(
    ("url", "kind", "category", "article_id"),
    [
        ("/hd-cua-cac-tctv-3094.html", LinkKind.LISTING, "hd-cua-cac-tctv", None),
        ("/tin-tuc-su-kien/page-2.htm", LinkKind.LISTING, "tin-tuc-su-kien", None),
        (
            "/tin-tuc-su-kien/hoi-nghi-so-ket-6-thang-1234.html",
            LinkKind.ARTICLE,
            "tin-tuc-su-kien",
            "1234",
        ),
        (
            "/tin-tuc-su-kien/lien-minh-htx-tinh-to-chuc--13548.html",
            LinkKind.ARTICLE,
            "tin-tuc-su-kien",
            "13548",
        ),
        ("/Tin-Tuc/Tin-hoat-dong/1067_Tap-huan-ke-toan", LinkKind.ARTICLE, "Tin-hoat-dong", "1067"),
        ("/", LinkKind.OTHER, None, None),
        ("/lien-he.html", LinkKind.OTHER, None, None),
        ("/Uploads/images/a-1.jpg", LinkKind.OTHER, None, None),
    ],
)
def test_classify(url: str, kind: LinkKind, category: str | None, article_id: str | None) -> None:
    parsed = classify(BASE.rstrip("/") + url)
    assert (parsed.kind, parsed.category, parsed.article_id) == (kind, category, article_id)


def test_http_and_https_forms_become_one_url() -> None:
    http = on_site("http://lienminhhtx.thaibinh.gov.vn/a/b-1.html#top", BASE)
    https = on_site("https://www.lienminhhtx.thaibinh.gov.vn/a/b-1.html", BASE)
    assert http == https == "https://lienminhhtx.thaibinh.gov.vn/a/b-1.html"


def test_other_hosts_are_not_followed() -> None:
    assert on_site("https://thaibinh.gov.vn/a/b-1.html", BASE) is None
    assert on_site("mailto:lienminh@thaibinh.gov.vn", BASE) is None


def test_urls_stands_below_profiles() -> None:
    """`urls` is the layer profiles build on: importing it loads no profile module (the import
    cycle between the two is gone, not hidden in a function)."""
    probe = "import sys, coopspider.urls; print('coopspider.profiles' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
    source = Path(urls.__file__).read_text(encoding="utf-8")
    assert "coopspider.profiles" not in source
