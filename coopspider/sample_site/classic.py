"""The "classic" markup: an old table-based ASP.NET layout with inline styles and no <h1>."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from coopspider.sample_site import texts
from coopspider.sample_site.common import (
    ADMIN_PATH,
    LOGO,
    Context,
    body_blocks,
    esc,
    excerpt,
    pager_items,
    pager_window,
    thumbnail,
)

if TYPE_CHECKING:
    from coopspider.sample_site.model import SampleArticle, SampleCategory

_DOCTYPE = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">'
)
_VIEWSTATE = "/wEPDwUKMTM0NTY3ODkwMg9kFgJmD2QWAgIDD2QWBAIBD2QWAmYPZBYCZg8WAh4EVGV4dAUGMTUzMzY3ZGQ="


class ClassicMarkup:
    """Renders every page type of the classic markup."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def home(self) -> str:
        """The home page: latest news table, then one box per category."""
        ctx = self.ctx
        rows = []
        for article in ctx.data.latest[:8]:
            href = ctx.mixed(article.path, article.article_id)
            rows.append(
                '<tr><td style="width:110px;padding:4px" valign="top">'
                f'<a href="{href}"><img src="{thumbnail(article)}" width="100" border="0" /></a>'
                "</td>"
                f'<td valign="top"><a class="TitleNews" href="{href}">{esc(article.title)}</a> '
                f'<span class="DateNews">({article.date:%d/%m/%Y})</span><br />'
                f"{esc(excerpt(article.lead))}</td></tr>"
            )
        boxes = []
        for category in ctx.categories:
            items = "".join(
                f'<tr><td>&#187; <a class="LinkNews" '
                f'href="{ctx.mixed(a.path_in(category.slug), a.article_id)}">{esc(a.title)}</a>'
                "</td></tr>"
                for a in ctx.listed(category.slug)[:5]
            )
            boxes.append(
                '<table width="100%" cellpadding="2" cellspacing="0" class="BoxCat">'
                '<tr><td class="BoxCatTitle" '
                'style="background:#00487e;color:#fff;font-weight:bold">'
                f'<a style="color:#fff" href="{ctx.href(category.path, "abs")}">'
                f"{esc(category.name.upper())}</a></td></tr>{items}</table>"
            )
        main = (
            '<table width="100%" cellpadding="0" cellspacing="0"><tr>'
            '<td class="BoxTitle" style="font-weight:bold;color:#c00">TIN MỚI NHẤT</td></tr>'
            f'<tr><td><table width="100%">{"".join(rows)}</table></td></tr></table>'
            + "".join(boxes)
        )
        return self._page(texts.SITE_NAME, main, ticker=True)

    def listing(self, category: SampleCategory, page: int) -> str:
        """One listing page of a category with its pager."""
        ctx = self.ctx
        rows = []
        for article in ctx.page_slice(category, page):
            href = ctx.mixed(article.path_in(category.slug), article.article_id)
            rows.append(
                '<tr><td style="width:130px;padding:5px" valign="top">'
                f'<a href="{href}"><img src="{thumbnail(article)}" width="120" border="0" /></a>'
                '</td><td valign="top" style="padding:5px">'
                f'<a class="TitleNews" href="{href}"><b>{esc(article.title)}</b></a><br />'
                f'<span class="DateNews" style="color:#999">({article.date:%d/%m/%Y})</span><br />'
                f'<div class="SapoNews">{esc(excerpt(article.lead))}</div></td></tr>'
            )
        main = (
            '<table width="100%" cellpadding="0" cellspacing="0">'
            f'<tr><td class="CatTitle" style="font-weight:bold;font-size:14px;color:#00487e">'
            f"{esc(category.name.upper())}</td></tr>"
            f'<tr><td><table width="100%" class="ListNews">{"".join(rows)}</table></td></tr>'
            f"<tr><td>{self._pager(category, page)}</td></tr></table>"
        )
        return self._page(category.name, main, ticker=False)

    def article(self, article: SampleArticle, category: SampleCategory) -> str:
        """An article page under one of its categories."""
        ctx = self.ctx
        others = "".join(
            f'<li><a href="{ctx.mixed(o.path_in(category.slug), o.article_id)}">{esc(o.title)}</a>'
            f' <span style="color:#999;font-size:11px">({o.date:%d/%m/%Y})</span></li>'
            for o in ctx.related(article, category.slug)
        )
        body = self._body(article)
        # Old ASP.NET editors stored some articles decomposed; the ground truth stays NFC.
        if int(article.article_id) % 7 == 3:
            body = unicodedata.normalize("NFD", body)
        main = (
            '<table width="100%" cellpadding="0" cellspacing="0">'
            '<tr><td class="PathCat" style="font-size:11px">'
            f'<a href="/">Trang chủ</a> / '
            f'<a href="{ctx.href(category.path)}">{esc(category.name)}</a>'
            "</td></tr>"
            '<tr><td class="ArticleTitle" style="padding:8px 0">'
            '<div style="font-weight:bold;font-size:16px;color:#00487e;font-family:Arial">'
            f"{esc(article.title)}</div></td></tr>"
            f'<tr><td class="ArticleDate" style="color:#888;font-size:11px">{esc(article.date_raw)}'
            "</td></tr>"
            f'<tr><td><div class="ArticleContent" style="text-align:justify">{body}</div></td></tr>'
            '<tr><td align="right"><a href="javascript:window.print()">In bài viết</a></td></tr>'
            "</table>"
            '<table width="100%" cellpadding="2" cellspacing="0" style="margin-top:10px">'
            '<tr><td class="OtherNews" style="font-weight:bold;color:#c00">Các tin khác</td></tr>'
            f"<tr><td><ul>{others}</ul></td></tr></table>"
        )
        ticker = int(article.article_id) % 2 == 0
        return self._page(article.title, main, ticker=ticker, exclude=article)

    def menu_page(self, kind: str) -> str:
        """A menu page without articles (introduction, history, organisation chart, documents,
        contact)."""
        title, paragraphs = texts.MENU_PAGES[kind]
        body = "<br />".join(esc(p) for p in paragraphs)
        if kind == "organisation":
            body += f'<br /><img src="{texts.ORGANISATION_CHART}" border="0" />'
        elif kind == "documents":
            body += self._documents()
        main = (
            '<table width="100%"><tr><td><div style="font-weight:bold;font-size:16px">'
            f"{esc(title)}</div></td></tr><tr><td>{body}</td></tr></table>"
        )
        return self._page(title, main, ticker=False)

    def _documents(self) -> str:
        rows = "".join(
            '<tr><td valign="top" style="padding:4px">'
            f'<a class="LinkVanBan" href="{self.ctx.href(doc.path)}"><b>{esc(doc.kind)} số '
            f"{esc(doc.number)}</b></a><br />Trích yếu: {esc(doc.summary)}<br />"
            f'<span style="color:#888">Ngày ban hành: {doc.issued}</span></td></tr>'
            for doc in texts.DOCUMENTS
        )
        return f'<table width="100%" class="ListVanBan" cellpadding="0">{rows}</table>'

    def _body(self, article: SampleArticle) -> str:
        parts = []
        style = int(article.article_id)
        for index, block in enumerate(body_blocks(article)):
            if isinstance(block, str):
                if index == 0:
                    parts.append(f"<b>{esc(block)}</b><br /><br />")
                elif index % 2:
                    parts.append(f"{esc(block)}<br /><br />")
                else:
                    parts.append(f'<p style="text-align:justify">{esc(block)}</p>')
                continue
            path, caption = block
            style += 1
            img = f'<img src="{path}" border="0" style="width:500px" />'
            if caption is None:
                parts.append(f'<p align="center">{img}</p>')
            elif style % 3 == 0:
                parts.append(
                    f'<table align="center" cellpadding="3"><tr><td>{img}</td></tr>'
                    f'<tr><td style="text-align:center;font-style:italic">{esc(caption)}</td></tr>'
                    "</table>"
                )
            elif style % 3 == 1:
                parts.append(
                    f'<p align="center">{img}</p><p align="center"><i>({esc(caption)})</i></p>'
                )
            else:
                parts.append(
                    f'<div align="center">{img}<br />'
                    f'<span style="font-size:11px"><i>{esc(caption)}</i></span></div>'
                )
        if article.author:
            parts.append(f'<div style="text-align:right"><b>{esc(article.author)}</b></div>')
        return "".join(parts)

    def _pager(self, category: SampleCategory, page: int) -> str:
        pages = category.pages
        if pages < 2:
            return ""
        href = self.ctx.href
        if category.grammar.pager:
            links = []
            for item in pager_items(category.grammar.pager, page, pages):
                if item.current:
                    links.append(f'<b style="color:red">{esc(item.label)}</b>')
                    continue
                style = "other" if item.rel == "last" else "rel"
                title = f' title="{esc(item.title)}"' if item.title else ""
                links.append(
                    f'<a class="pager" href="{href(category.page_path(item.page), style)}"{title}>'
                    f"{esc(item.label)}</a>"
                )
        else:
            links = ["Trang: "]
            for number in pager_window(page, pages, radius=4):
                if number == page:
                    links.append(f'<b style="color:red">{number}</b>')
                else:
                    links.append(
                        f'<a class="pager" href="{href(category.page_path(number))}">{number}</a>'
                    )
            if page < pages:
                following = href(category.page_path(page + 1))
                links.append(f'<a class="pager" href="{following}">Trang sau</a>')
                last = href(category.page_path(pages), "other")
                links.append(f'<a class="pager" href="{last}">Cuối</a>')
        return f'<div class="Pager" style="text-align:right">{" ".join(links)}</div>'

    def _page(
        self, title: str, main: str, ticker: bool, exclude: SampleArticle | None = None
    ) -> str:
        ctx = self.ctx
        site = ctx.site
        pages = ctx.data.grammar.menu
        menu_items = [
            ("/", "TRANG CHỦ"),
            (pages.intro, "GIỚI THIỆU"),
            (pages.organisation, "SƠ ĐỒ TỔ CHỨC"),
        ]
        menu_items += [(c.path, c.name.upper()) for c in ctx.categories]
        menu_items += [(pages.documents, "VĂN BẢN"), (pages.contact, "LIÊN HỆ")]
        menu = "".join(
            f'<td class="MenuItem" style="padding:0 8px"><a class="menu" style="color:#fff" '
            f'href="{ctx.href(path, "abs")}">{esc(name)}</a></td>'
            for path, name in menu_items
        )
        news = ""
        if ticker:
            news = "".join(
                f'<a href="{ctx.mixed(a.path, a.article_id)}">{esc(a.title)}</a> &nbsp;|&nbsp; '
                for a in ctx.ticker(exclude)
            )
        return (
            f'{_DOCTYPE}<html xmlns="http://www.w3.org/1999/xhtml"><head>'
            '<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />'
            f"<title>\n\t{esc(site.name)} - {esc(title)}\n</title>"
            '<meta name="keywords" content="hợp tác xã, kinh tế tập thể, Thái Bình" /></head>'
            '<body style="margin:0;background:#e8eef5;font-family:Tahoma;font-size:12px">'
            '<form name="aspnetForm" method="post" id="aspnetForm"><div>'
            f'<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="{_VIEWSTATE}" />'
            "</div>"
            '<table width="1000" align="center" cellpadding="0" cellspacing="0" '
            'style="background:#fff">'
            f'<tr><td colspan="3" style="height:120px"><a href="/"><img src="{LOGO}" border="0" />'
            "</a></td></tr>"
            '<tr><td colspan="3" style="background:#00487e;height:30px">'
            f'<table cellpadding="0" cellspacing="0"><tr>{menu}</tr></table></td></tr>'
            '<tr><td colspan="3"><table width="100%"><tr>'
            + (
                '<td style="width:70px;color:red"><b>TIN MỚI:</b></td>'
                f'<td><marquee scrollamount="3">{news}</marquee></td>'
                if ticker
                else "<td>&nbsp;</td>"
            )
            + f'<td align="right" style="font-size:11px;width:220px">{ctx.clock()}[GMT+7]</td>'
            "</tr></table></td></tr>"
            '<tr><td valign="top" width="200" style="padding:5px;background:#f3f6fa">'
            '<table width="100%" cellpadding="2" cellspacing="0" class="BoxMenu">'
            '<tr><td style="font-weight:bold">DANH MỤC</td></tr>'
            f'<tr><td><a href="{ctx.href(pages.history)}">Lịch sử phát triển</a></td></tr>'
            f'<tr><td><a href="{ctx.href(pages.organisation)}">Sơ đồ tổ chức</a></td></tr>'
            f'<tr><td><a href="{ctx.href(pages.contact, "abs")}">Liên hệ</a></td></tr></table>'
            '<table width="100%" cellpadding="2" cellspacing="0" class="BoxCounter" '
            'style="margin-top:10px;border:1px solid #ccc">'
            '<tr><td style="font-weight:bold;background:#00487e;color:#fff">THỐNG KÊ</td></tr>'
            f"<tr><td>Thống kê truy cập:{site.counter_total}</td></tr>"
            f"<tr><td>Số người trực tuyến: {site.counter_online}</td></tr></table>"
            "</td>"
            f'<td valign="top" width="580" style="padding:5px">{main}</td>'
            '<td valign="top" width="220" style="padding:5px">'
            '<table width="100%"><tr><td style="font-weight:bold">LIÊN KẾT WEBSITE</td></tr>'
            '<tr><td><select onchange="window.open(this.value)">'
            '<option value="">-- Liên kết --</option>'
            '<option value="http://thaibinh.gov.vn">Cổng TTĐT tỉnh Thái Bình</option>'
            "</select></td></tr></table></td></tr>"
            '<tr><td colspan="3" style="background:#00487e;color:#fff;text-align:center;'
            'padding:10px">'
            f"<b>{texts.SITE_NAME_UPPER}</b><br />Địa chỉ: {esc(texts.ADDRESS)}<br />"
            f"Điện thoại: {texts.PHONE} - Fax: {texts.FAX} - Email: {texts.EMAIL}<br />"
            f"Bản quyền &copy; {esc(site.name)} "
            f'<a style="color:#fff" href="{ADMIN_PATH}">[Quản trị]</a>'
            "</td></tr></table></form></body></html>"
        )
