"""A sample alliance site, served on 127.0.0.1, for the README demo, the tests and the benchmark.

It imitates the Thái Bình alliance's platform: its URL grammar, its article text structure (ticker,
title, `Ngày: dd/mm/yyyy`, lead, captions, author, visitor counter) and one real article, in one of
two markups that share no class names, so extraction cannot lean on either.

Build::

    site = build_site(articles=24, per_page=6, markup="portal", seed=2023)  # or markup="classic"
    site = build_site(grammar="caobang")  # URLs of a site profile's platform (sample_site.grammars)

`SampleSite` (plain dataclasses, mutable; every page is rendered from the current data):
  - `.articles: list[SampleArticle]`, the ground truth: `article_id`, `slug`, `categories`
    (slugs, the first canonical), `path` / `paths` / `path_in(cat)`, `title`, `date`
    (datetime.date), `date_raw` (the date line as printed, e.g. "Ngày: 13/07/2023" or
    "Ngày cập nhật: 02/03/2023"), `author` (None if absent), `paragraphs` (lead first; no captions,
    no author), `images` ([(path, caption or None)]; a page may wrap a caption in parentheses, the
    truth has none).
  - `.categories -> list[SampleCategory]` (`slug`, `category_id`, `name`, `pages`, `path`,
    `page_path(n)`), built on demand so page counts follow edits; `.listing_paths()`,
    `.article_paths()`, `.article(id)`, `.category_articles(slug)`, `.latest(n)`.
  - `.counter_total`, `.counter_online` (ints printed as `Thống kê truy cập:280451` and
    `Số người trực tuyến: 43`), `.markup`, `.per_page`, `.clock` (header clock; None = now, UTC+7).
  - `.render(path, base_url=None) -> (status, content_type, body_bytes)`; unknown paths give 404
    with a Vietnamese page. With `base_url` some links are absolute, some in the other scheme (https
    when serving http): a crawler must treat both schemes as one site.

Serve::

    with serve(site) as server:          # ThreadingHTTPServer in a daemon thread; port 0 = any
        server.base_url                  # "http://127.0.0.1:PORT/"
        server.site = edited_site        # switch versions between crawls
        list(server.requests)            # paths; also .entries(), .count(path), .clear()
    server.wait()                        # (without `with`) block until close() or Ctrl-C
    serve_forever(site, port=8000)       # print the URL and serve until Ctrl-C

URL grammar (the default "thaibinh"; the other grammars change only the paths of listings and
articles, as in `sample_site.grammars`): `/` (menu + latest), `/{cat}-{catId}.html` (listing
page 1), `/{cat}/page-{N}.htm`,
`/{cat}/{slug}-{id}.html` (an article is served under each of its categories; a slug is cut at 80
characters, so some URLs end in `--{id}.html`), static menu pages `/gioi-thieu-3000.html`,
`/lich-su-phat-trien-3001.html` (category-shaped, no articles) and `/lien-he.html`, `/robots.txt`
(disallows `/admin/`, which the footer links to), tiny images under `/Uploads/` and `/Images/`.
Traps on purpose: the header clock and "Tin liên quan" dates are not publish dates, leads start with
an event date (`Sáng ngày 13/7/2023, ...`), the portal shows `Lượt xem: N` beside the date, and the
classic markup stores the body of some articles (id % 7 == 3) NFD-decomposed.
"""

from coopspider.sample_site.generator import build_site, slugify
from coopspider.sample_site.model import SampleArticle, SampleCategory, SampleSite
from coopspider.sample_site.server import RequestLog, SampleServer, serve, serve_forever

__all__ = [
    "RequestLog",
    "SampleArticle",
    "SampleCategory",
    "SampleServer",
    "SampleSite",
    "build_site",
    "serve",
    "serve_forever",
    "slugify",
]
