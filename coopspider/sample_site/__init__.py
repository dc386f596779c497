"""A sample alliance site, served on 127.0.0.1, for the README demo, the tests and the benchmark.

It imitates the Thái Bình alliance's platform: its article text structure (ticker, title,
`Ngày: dd/mm/yyyy`, lead, captions, author, visitor counter) and one real article, in one of two
markups that share no class names, so extraction cannot lean on either, and in one of several URL
grammars (`sample_site.grammars`): those of the shipped site profiles' platforms, and platforms no
shipped profile knows, the test bed of `coopspider discover`.

Build::

    site = build_site(articles=24, per_page=6, markup="portal", seed=2023)  # or markup="classic"
    site = build_site(grammar="caobang")  # URLs of a site profile's platform
    site = build_site(grammar="aspx-query")  # URLs no shipped profile reads
    site = build_site(day=3)  # 3 days on: 2 new articles a day, 2 earlier ones edited, the
                              # counter higher (`generator.advance`); day 0 is the site above

`SampleSite` (plain dataclasses, mutable; every page is rendered from the current data):
  - `.articles: list[SampleArticle]`, the ground truth: `article_id`, `slug`, `key` (what
    identifies it in its URLs: the id, or the slug where URLs carry no number), `categories`
    (slugs, the first canonical), `path` / `paths` / `path_in(cat)`, `title`, `date`
    (datetime.date), `date_raw` (the date line as printed, e.g. "Ngày: 13/07/2023" or
    "Ngày cập nhật: 02/03/2023"), `author` (None if absent), `paragraphs` (lead first; no captions,
    no author), `images` ([(path, caption or None)]; a page may wrap a caption in parentheses, the
    truth has none).
  - `.categories -> list[SampleCategory]` (`slug`, `category_id`, `name`, `pages`, `path`,
    `page_path(n)`), built on demand so page counts follow edits; `.article(id)`,
    `.category_articles(slug)`, `.latest(n)`.
  - Ground truth of the URLs, as links write them (paths with their query string, if any):
    `.article_keys()` (one per article), `.article_paths()` (every article under every category
    its URL names), `.listing_paths()` (every page of every category), `.menu_page_paths()` (the
    menu's non-news pages: introduction, history, organisation chart, documents, contact; never
    articles, some listing-shaped), `.pdf_paths()` (the documents page's PDFs).
  - `.counter_total`, `.counter_online` (ints printed as `Thống kê truy cập:280451` and
    `Số người trực tuyến: 43`), `.markup`, `.grammar`, `.per_page`, `.clock` (header clock;
    None = now, UTC+7).
  - `.render(url, base_url=None) -> (status, content_type, body_bytes)`; unknown paths give 404
    with a Vietnamese page. With `base_url` some links are absolute, some in the other scheme (https
    when serving http): a crawler must treat both schemes as one site.

Serve::

    with serve(site) as server:          # ThreadingHTTPServer in a daemon thread; port 0 = any
        server.base_url                  # "http://127.0.0.1:PORT/"
        server.site = edited_site        # switch versions between crawls
        list(server.requests)            # paths; also .entries(), .count(path), .clear()
    serve(site, latency=0.1)             # every answer 100 ms late, as from a distant server
    server.wait()                        # (without `with`) block until close() or Ctrl-C
    serve_forever(site, port=8000)       # print the URL and serve until Ctrl-C

Every grammar serves `/` (menu + latest), listing pages, articles (one listed under two categories
is served under each category its URL names), the menu pages, `/robots.txt` (disallows `/admin/`,
which the footer links to), tiny images under `/Uploads/` and `/Images/`, and PDFs under
`/Uploads/files/`. Query strings are read as servers read them (`sample_site.routing`): keys in any
order, keys no page at that path reads (`utm_source`) ignored; links write `&` as `&amp;`. Page 1
also answers in the later pages' form (`?Page=1`, `?start=0`), which no link uses.

The default grammar, "thaibinh": `/{cat}-{catId}.html` (listing page 1), `/{cat}/page-{N}.htm`,
`/{cat}/{slug}-{id}.html` (a slug is cut at 80 characters, so some URLs end in `--{id}.html`),
menu pages `/gioi-thieu-3000.html`, `/lich-su-phat-trien-3001.html` (category-shaped, no
articles), `/so-do-to-chuc.html`, `/van-ban.html` and `/lien-he.html`. The others are written
in `sample_site.grammars.GRAMMARS`: caobang, daknong, kontum, kiengiang, camau, quangtri (the
shipped profiles' platforms) and, known to no shipped profile, aspx-query
(`/Pages/ChiTietTin.aspx?ItemID={id}`, `/Pages/DanhSachTin.aspx?CatID={catId}&Page={N}`),
liferay (`/-/asset_publisher/{instance}/content/{slug}`, `/web/guest/{cat}?cur={N}`), folders
(`/tin/{id}/`, `/chuyen-muc/{catId}/trang-{N}/`), joomla-offset (`/index.php/{cat}/{id}-{slug}`,
`/index.php/{cat}?start={(N - 1) * per_page}`) and php-onepath (`/news.php?id={id}`,
`/news.php?cat={catId}&p={N}`, menu pages `/news.php?page=lien-he`). Liferay's `instance` is a
token of letters and digits per category: an article listed under two categories has two URLs
with one slug.

Pagers differ: the markup's own numbered one on most grammars,
"« Trang trước" / "Trang sau »" only on aspx-query, "Tiếp" only on php-onepath, numbers with
"« Đầu", "‹", "›", "Cuối »" on liferay.

Traps on purpose: the header clock, "Tin liên quan" dates and documents' issue dates are not
publish dates, leads start with an event date (`Sáng ngày 13/7/2023, ...`), the portal shows
`Lượt xem: N` beside the date, the classic markup stores the body of some articles (id % 7 == 3)
NFD-decomposed, and php-onepath's menu pages use a `page` query key that is not a page number.
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
