"""The "portal" markup: a modern div layout (header, nav, main, aside, footer), title in <h1>."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coopspider.sample_site import texts
from coopspider.sample_site.common import (
    ADMIN_PATH,
    LOGO,
    Context,
    body_blocks,
    esc,
    pager_items,
    pager_window,
    thumbnail,
    views,
)

if TYPE_CHECKING:
    from coopspider.sample_site.model import SampleArticle, SampleCategory


class PortalMarkup:
    """Renders every page type of the portal markup."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def home(self) -> str:
        """The home page: featured article, latest news, one block per category."""
        ctx = self.ctx
        latest = ctx.data.latest[:9]
        parts = ['<section class="home-latest">']
        if latest:
            top = latest[0]
            parts.append(
                f'<div class="featured"><a href="{ctx.mixed(top.path, top.article_id)}">'
                f'<img src="{thumbnail(top)}" alt="{esc(top.title)}"></a>'
                f'<h2 class="featured-title"><a href="{ctx.mixed(top.path, top.article_id)}">'
                f"{esc(top.title)}</a></h2>"
                f'<p class="featured-sapo">{esc(top.lead)}</p></div>'
            )
            parts.append('<ul class="latest-list">')
            for article in latest[1:]:
                parts.append(
                    f'<li><a href="{ctx.mixed(article.path, article.article_id)}">'
                    f'{esc(article.title)}</a> <span class="time">{article.date:%d/%m/%Y}</span>'
                    "</li>"
                )
            parts.append("</ul>")
        parts.append("</section>")
        for category in ctx.categories:
            parts.append(
                f'<section class="cat-block"><h2 class="cat-block-title">'
                f'<a href="{ctx.href(category.path)}">{esc(category.name)}</a></h2><ul>'
            )
            for article in ctx.listed(category.slug)[:4]:
                href = ctx.mixed(article.path_in(category.slug), article.article_id)
                parts.append(f'<li><a href="{href}">{esc(article.title)}</a></li>')
            more = ctx.href(category.path)
            parts.append(f'</ul><a class="more" href="{more}">Xem thêm</a></section>')
        return self._page(texts.SITE_NAME, "".join(parts), description=texts.SITE_NAME)

    def listing(self, category: SampleCategory, page: int) -> str:
        """One listing page of a category with its pagination."""
        ctx = self.ctx
        parts = [
            f'<nav class="breadcrumb"><a href="/">Trang chủ</a> &raquo; '
            f'<a href="{ctx.href(category.path)}">{esc(category.name)}</a></nav>',
            f'<h2 class="category-title">{esc(category.name)}</h2>',
            '<div class="news-list">',
        ]
        for article in ctx.page_slice(category, page):
            href = ctx.mixed(article.path_in(category.slug), article.article_id)
            parts.append(
                f'<div class="news-item"><a class="thumb" href="{href}">'
                f'<img src="{thumbnail(article)}" alt=""></a>'
                f'<h3 class="news-item-title"><a href="{href}">{esc(article.title)}</a></h3>'
                f'<span class="news-item-date">{article.date:%d/%m/%Y}</span>'
                f'<p class="sapo">{esc(article.lead)}</p></div>'
            )
        parts.append("</div>")
        parts.append(self._pager(category, page))
        title = category.name if page == 1 else f"{category.name} - Trang {page}"
        return self._page(title, "".join(parts))

    def article(self, article: SampleArticle, category: SampleCategory) -> str:
        """An article page under one of its categories."""
        ctx = self.ctx
        canonical = ctx.href(article.path, "abs")
        head = (
            f'<link rel="canonical" href="{canonical}">'
            '<meta property="og:type" content="article">'
            f'<meta property="og:title" content="{esc(article.title)}">'
            f'<meta property="og:description" content="{esc(article.lead)}">'
            f'<meta property="og:url" content="{canonical}">'
        )
        if article.images:
            head += f'<meta property="og:image" content="{ctx.href(article.images[0][0], "abs")}">'
        related = "".join(
            f'<li><a href="{ctx.mixed(other.path_in(category.slug), other.article_id)}">'
            f'{esc(other.title)}</a> <span class="date">({other.date:%d/%m/%Y})</span></li>'
            for other in ctx.related(article, category.slug)
        )
        main = (
            f'<nav class="breadcrumb"><a href="/">Trang chủ</a> &raquo; '
            f'<a href="{ctx.href(category.path)}">{esc(category.name)}</a></nav>'
            '<article class="news-detail">'
            f'<h1 class="news-title">{esc(article.title)}</h1>'
            f'<div class="news-meta"><span class="news-date">{esc(article.date_raw)}</span>'
            f' <span class="news-views">Lượt xem: {views(article)}</span></div>'
            f'<div class="news-content">{self._body(article)}</div>'
            '<div class="news-share">Chia sẻ: <a rel="nofollow" target="_blank" '
            'href="https://www.facebook.com/sharer/sharer.php">Facebook</a></div>'
            "</article>"
            f'<section class="related-news"><h2>Tin liên quan</h2><ul>{related}</ul></section>'
        )
        return self._page(article.title, main, description=article.lead, head=head, exclude=article)

    def menu_page(self, kind: str) -> str:
        """A menu page without articles (introduction, history, organisation chart, documents,
        contact)."""
        ctx = self.ctx
        title, paragraphs = texts.MENU_PAGES[kind]
        body = "".join(f"<p>{esc(p)}</p>" for p in paragraphs)
        if kind == "organisation":
            chart = texts.ORGANISATION_CHART
            body += f'<p class="org-chart"><img src="{chart}" alt="{esc(title)}"></p>'
        elif kind == "documents":
            rows = "".join(
                f"<tr><td>{index}</td><td>{esc(doc.number)}</td><td>{doc.issued}</td>"
                f'<td><a href="{ctx.href(doc.path)}" target="_blank">{esc(doc.kind)} số '
                f"{esc(doc.number)}: {esc(doc.summary)}</a></td></tr>"
                for index, doc in enumerate(texts.DOCUMENTS, start=1)
            )
            body += (
                '<table class="table-documents"><thead><tr><th>STT</th><th>Số/Ký hiệu</th>'
                f"<th>Ngày ban hành</th><th>Trích yếu</th></tr></thead><tbody>{rows}</tbody>"
                "</table>"
            )
        elif kind == "contact":
            action = ctx.href(ctx.data.grammar.menu.contact)
            body += (
                f'<form class="contact-form" method="post" action="{action}">'
                '<label>Họ và tên <input name="name"></label>'
                '<label>Nội dung <textarea name="message"></textarea></label>'
                '<button type="submit">Gửi liên hệ</button></form>'
            )
        main = f'<div class="page-static"><h1 class="page-title">{esc(title)}</h1>{body}</div>'
        return self._page(title, main)

    def _body(self, article: SampleArticle) -> str:
        parts = []
        style = int(article.article_id)
        for index, block in enumerate(body_blocks(article)):
            if isinstance(block, str):
                text = f"<strong>{esc(block)}</strong>" if index == 0 else esc(block)
                parts.append(f"<p>{text}</p>")
                continue
            path, caption = block
            style += 1
            img = f'<img src="{path}" alt="{esc(caption or article.title)}">'
            if caption is None:
                parts.append(f'<p style="text-align: center;">{img}</p>')
            elif style % 3 == 0:
                parts.append(
                    f'<figure class="image">{img}<figcaption>{esc(caption)}</figcaption></figure>'
                )
            elif style % 3 == 1:
                parts.append(
                    f'<table class="image-table" align="center"><tbody><tr><td>{img}</td></tr>'
                    f'<tr><td class="image-caption">{esc(caption)}</td></tr></tbody></table>'
                )
            else:
                parts.append(
                    f'<p style="text-align: center;">{img}</p>'
                    f'<p style="text-align: center;"><em>({esc(caption)})</em></p>'
                )
        if article.author:
            author = esc(article.author)
            parts.append(f'<p style="text-align: right;"><strong>{author}</strong></p>')
        return "".join(parts)

    def _pager(self, category: SampleCategory, page: int) -> str:
        pages = category.pages
        if pages < 2:
            return ""
        if category.grammar.pager:
            return self._grammar_pager(category, page)
        href = self.ctx.href
        links = []
        if page > 1:
            links.append(f'<a class="first" href="{href(category.page_path(1))}">Đầu</a>')
            previous = href(category.page_path(page - 1))
            links.append(f'<a class="prev" href="{previous}">Trang trước</a>')
        for number in pager_window(page, pages):
            if number == page:
                links.append(f'<span class="current">{number}</span>')
            else:
                links.append(f'<a href="{href(category.page_path(number))}">{number}</a>')
        if page < pages:
            following = href(category.page_path(page + 1))
            links.append(f'<a class="next" href="{following}">Trang sau</a>')
            links.append(f'<a class="last" href="{href(category.page_path(pages))}">Cuối</a>')
        return f'<div class="pagination">{"".join(links)}</div>'

    def _grammar_pager(self, category: SampleCategory, page: int) -> str:
        assert category.grammar.pager is not None
        parts = []
        for item in pager_items(category.grammar.pager, page, category.pages):
            if item.current:
                parts.append(f'<li class="active"><span>{esc(item.label)}</span></li>')
                continue
            # The last page is linked in the other scheme, as some portals' absolute links are.
            style = "other" if item.rel == "last" else "rel"
            href = self.ctx.href(category.page_path(item.page), style)
            title = f' title="{esc(item.title)}"' if item.title else ""
            rel = f' rel="{item.rel}"' if item.rel in ("prev", "next") else ""
            parts.append(f'<li><a href="{href}"{title}{rel}>{esc(item.label)}</a></li>')
        return f'<ul class="pager">{"".join(parts)}</ul>'

    def _page(
        self,
        title: str,
        main: str,
        description: str | None = None,
        head: str = "",
        exclude: SampleArticle | None = None,
    ) -> str:
        ctx = self.ctx
        site = ctx.site
        menu = "".join(
            f'<li><a href="{ctx.href(c.path)}">{esc(c.name)}</a></li>' for c in ctx.categories
        )
        pages = {kind: ctx.href(path) for kind, path in ctx.data.grammar.menu.items()}
        ticker = "".join(
            f'<a href="{ctx.mixed(a.path, a.article_id)}">{esc(a.title)}</a>'
            for a in ctx.ticker(exclude)
        )
        meta = f'<meta name="description" content="{esc(description)}">' if description else ""
        return (
            '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)} | {esc(site.name)}</title>{meta}{head}"
            "<style>body{font-family:Arial,sans-serif}.container{display:flex}</style>"
            "</head><body>"
            '<header class="site-header">'
            f'<div class="topbar"><span class="clock">{ctx.clock()}</span>'
            f'<a href="{pages["contact"]}">Liên hệ</a></div>'
            f'<div class="brand"><a href="/"><img src="{LOGO}" alt="Logo"></a>'
            f'<div class="brand-name">{texts.SITE_NAME_UPPER}</div></div>'
            '<nav class="main-nav"><ul><li><a href="/">Trang chủ</a></li>'
            f'<li><a href="{pages["intro"]}">Giới thiệu</a><ul class="sub">'
            f'<li><a href="{pages["history"]}">Lịch sử phát triển</a></li>'
            f'<li><a href="{pages["organisation"]}">Sơ đồ tổ chức</a></li></ul></li>'
            f'{menu}<li><a href="{pages["documents"]}">Văn bản</a></li>'
            f'<li><a href="{pages["contact"]}">Liên hệ</a></li></ul></nav>'
            f'<div class="news-ticker"><span class="ticker-label">TIN MỚI:</span>'
            f'<div class="ticker-items">{ticker}</div></div>'
            "</header>"
            f'<div class="container"><main class="content">{main}</main>'
            '<aside class="sidebar">'
            '<div class="widget widget-links"><h3>Liên kết website</h3>'
            '<select onchange="window.open(this.value)"><option>-- Chọn liên kết --</option>'
            '<option value="https://thaibinh.gov.vn">Cổng thông tin điện tử tỉnh</option>'
            '<option value="https://vca.org.vn">Liên minh HTX Việt Nam</option></select></div>'
            '<div class="widget widget-stats"><h3>Thống kê</h3><ul>'
            f"<li>Thống kê truy cập:{site.counter_total}</li>"
            f"<li>Số người trực tuyến: {site.counter_online}</li></ul></div>"
            "</aside></div>"
            '<footer class="site-footer">'
            f"<p><strong>{texts.SITE_NAME_UPPER}</strong></p>"
            f"<p>Địa chỉ: {esc(texts.ADDRESS)}</p>"
            f"<p>Điện thoại: {texts.PHONE} - Email: {texts.EMAIL}</p>"
            f"<p>&copy; Bản quyền thuộc về {esc(site.name)}. "
            f'<a href="{ADMIN_PATH}">Quản trị</a></p>'
            "</footer></body></html>"
        )
