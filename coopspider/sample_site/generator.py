"""Deterministic generation of a sample site: the real seed article plus generated ones."""

from __future__ import annotations

import datetime as dt
import json
import random
import unicodedata
from importlib import resources
from typing import Any

from coopspider.sample_site import texts
from coopspider.sample_site.grammars import sample_grammar
from coopspider.sample_site.model import SampleArticle, SampleSite

SLUG_LENGTH = 80
FIRST_ID = 2150
_START = dt.date(2023, 1, 1)
_DAYS = (dt.date(2024, 12, 31) - _START).days
# Primary category of the i-th generated article: half news, a third policy, the rest members.
_CATEGORY_CYCLE = [
    "tin-tuc-su-kien",
    "tin-tuc-su-kien",
    "chinh-sach-ho-tro",
    "tin-tuc-su-kien",
    "hd-cua-cac-tctv",
    "chinh-sach-ho-tro",
]
NEW_PER_DAY = 2  # articles published on each day of the site's life after day 0
EDITS_PER_DAY = 2  # earlier articles edited on each such day
_PERIODS = ["6 tháng đầu năm {y}", "quý I năm {y}", "9 tháng năm {y}", "năm {y}"]


def slugify(title: str, length: int = SLUG_LENGTH) -> str:
    """ASCII slug of a Vietnamese title, cut at `length` characters (a cut may end on a hyphen)."""
    decomposed = unicodedata.normalize("NFD", title.replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    words = "".join(c if c.isascii() and c.isalnum() else " " for c in ascii_text).split()
    return "-".join(words)[:length]


def load_seed_article() -> dict[str, Any]:
    """The real article shipped with the package (seed-article.txt, split into fields)."""
    package = resources.files("coopspider.sample_site")
    return json.loads(package.joinpath("seed_article.json").read_text("utf-8"))


def build_site(
    articles: int = 24,
    per_page: int = 6,
    markup: str | None = None,
    seed: int = 2023,
    grammar: str = "thaibinh",
    day: int = 0,
) -> SampleSite:
    """A site of `articles` articles (the seed article included), identical for identical args,
    in the URL grammar of a site profile's platform and a markup (by default the grammar's).

    `day` N > 0 is the site N days later (see `advance`): newer articles, some edited, a higher
    visitor counter."""
    if day < 0:
        raise ValueError(f"day must be 0 or more, got {day}")
    markup = markup or sample_grammar(grammar).markup
    rng = random.Random(seed)
    seed_data = load_seed_article()
    drafts = [_seed_draft(seed_data)] if articles > 0 else []
    titles = {drafts[0].title} if drafts else set()
    decks: dict[str, list[tuple[str, str, str]]] = {}
    for index in range(max(0, articles - 1)):
        drafts.append(_generated_draft(rng, index, titles, decks))
    drafts.sort(key=lambda a: a.date)
    next_id = FIRST_ID
    for draft in drafts:
        # Ids grow with time but skip numbers, as ids are shared with other content on the platform.
        next_id += rng.randint(1, 9)
        draft.article_id = str(next_id)
    if sample_grammar(grammar).id_is_slug:
        _make_slugs_unique(drafts)
    site = SampleSite(
        articles=drafts,
        markup=markup,
        grammar=grammar,
        per_page=per_page,
        counter_total=seed_data["counter_total"],
        counter_online=seed_data["counter_online"],
    )
    for number in range(1, day + 1):
        advance(site, number, seed)
    return site


def advance(site: SampleSite, day: int, seed: int = 2023) -> None:
    """Day `day` of the site's life, applied to the site of the day before: NEW_PER_DAY articles
    published that day (dated `day` days after the newest article of day 0, so they head the
    listings), EDITS_PER_DAY earlier articles edited (a body paragraph, or a title, changed in
    place under the same URL) and the visitor counter up by a few hundred visits. The same
    `day` and `seed` always give the same changes."""
    rng = random.Random(f"{seed}-day-{day}")
    earlier = list(site.articles)
    newest = max((article.date for article in earlier), default=_START + dt.timedelta(_DAYS))
    date = newest + dt.timedelta(days=1)
    titles = {article.title for article in earlier}
    decks: dict[str, list[tuple[str, str, str]]] = {}
    next_id = max((int(a.article_id) for a in earlier if a.article_id.isdigit()), default=FIRST_ID)
    slugs = {article.slug for article in earlier}
    for number in range(NEW_PER_DAY):
        draft = _generated_draft(rng, day * NEW_PER_DAY + number, titles, decks, date=date)
        next_id += rng.randint(1, 9)
        draft.article_id = str(next_id)
        if sample_grammar(site.grammar).id_is_slug:
            # Numbered as WordPress does, past every slug taken so far.
            base, count = draft.slug, 1
            while draft.slug in slugs:
                count += 1
                draft.slug = f"{base}-{count}"
        slugs.add(draft.slug)
        site.articles.append(draft)
    on = f"{date.day}/{date.month}/{date.year}"
    for number, article in enumerate(rng.sample(earlier, min(EDITS_PER_DAY, len(earlier)))):
        if number % 2 == 0 or len(article.paragraphs) < 2:
            article.paragraphs[-1] += f" (Cập nhật ngày {on}: {rng.choice(texts.UPDATES)})"
        else:
            article.title = f"{article.title} (cập nhật {on})"
    site.counter_total += rng.randint(300, 900)
    site.counter_online = rng.randint(15, 80)


def _make_slugs_unique(drafts: list[SampleArticle]) -> None:
    """Number repeated slugs as WordPress does (`-2`, `-3`): its URLs carry no id to tell apart
    two titles that share their first 80 slug characters."""
    seen: dict[str, int] = {}
    for draft in drafts:
        seen[draft.slug] = seen.get(draft.slug, 0) + 1
        if seen[draft.slug] > 1:
            draft.slug = f"{draft.slug}-{seen[draft.slug]}"


def _seed_draft(data: dict[str, Any]) -> SampleArticle:
    date = dt.date.fromisoformat(data["date"])
    images = [
        (f"/Uploads/images/{date:%Y/%m/%d}/hoi-nghi-so-ket-{n}.jpg", caption)
        for n, caption in enumerate(data["captions"], start=1)
    ]
    return SampleArticle(
        article_id="",
        slug=slugify(data["title"]),
        categories=[data["category"]],
        title=data["title"],
        date=date,
        paragraphs=list(data["paragraphs"]),
        images=images,
        author=data["author"],
    )


def _generated_draft(
    rng: random.Random,
    index: int,
    titles: set[str],
    decks: dict[str, list[tuple[str, str, str]]],
    date: dt.date | None = None,
) -> SampleArticle:
    category = _CATEGORY_CYCLE[index % len(_CATEGORY_CYCLE)]
    date = date or _START + dt.timedelta(days=rng.randint(0, _DAYS))
    for _ in range(10):
        slots = _slots(rng, date)
        # Deal templates like cards so a small site uses each one before repeating any.
        if not decks.get(category):
            decks[category] = rng.sample(texts.TEMPLATES[category], len(texts.TEMPLATES[category]))
        title_t, lead_t, event = decks[category].pop()
        slots["event"] = event
        title = title_t.format(**slots)
        if title not in titles:
            break
    titles.add(title)
    lead = f"{_when(rng, date)}, {lead_t.format(**slots)}"
    body = [p.format(**slots) for p in rng.sample(texts.PARAGRAPHS, rng.randint(2, 9))]
    images = [
        (
            f"/Uploads/images/{date:%Y/%m/%d}/{rng.getrandbits(40):010x}"
            f".{rng.choice(['jpg', 'jpg', 'jpg', 'png'])}",
            rng.choice(texts.CAPTIONS).format(**slots) if rng.random() < 0.8 else None,
        )
        for _ in range(rng.choices([0, 1, 2, 3], weights=[2, 4, 3, 1])[0])
    ]
    categories = [category]
    if index % 5 == 2:
        other = "chinh-sach-ho-tro" if category == "tin-tuc-su-kien" else "tin-tuc-su-kien"
        categories.append(other)
    return SampleArticle(
        article_id="",
        slug=slugify(title),
        categories=categories,
        title=title,
        date=date,
        paragraphs=[lead, *body],
        images=images,
        author=rng.choice(texts.AUTHORS) if rng.random() < 0.8 else None,
        date_label="Ngày cập nhật" if rng.random() < 0.15 else "Ngày",
    )


def _when(rng: random.Random, date: dt.date) -> str:
    """How a lead dates its event: "Sáng ngày 13/7/2023", or without the year: "Chiều 11/10"."""
    event = date - dt.timedelta(days=rng.randint(0, 2))
    year = f"/{event.year}" if rng.random() < 0.7 else ""
    return f"{rng.choice(texts.WHEN)} {event.day}/{event.month}{year}"


def _slots(rng: random.Random, date: dt.date) -> dict[str, Any]:
    year = date.year
    leader, leader_role = rng.choice(texts.LEADERS)
    member_title, member_name = rng.choice(texts.MEMBERS)
    product, product2 = rng.sample(texts.PRODUCTS, 2)
    deadline = date + dt.timedelta(days=rng.randint(20, 45))
    n_ocop = rng.randint(90, 160)
    return {
        "year": year,
        "prev_year": year - 1,
        "month_year": (
            f"12/{year - 1}" if date.month == 1 else f"{rng.randint(1, date.month - 1)}/{year}"
        ),
        "district": rng.choice(texts.DISTRICTS),
        "commune": rng.choice(texts.COMMUNES),
        "coop_kind": rng.choice(texts.COOP_KINDS),
        "product": product,
        "product2": product2,
        "province": rng.choice(texts.PROVINCES),
        "training_topic": rng.choice(texts.TRAINING_TOPICS),
        "partner": rng.choice(texts.PARTNERS),
        "law_topic": rng.choice(texts.LAW_TOPICS),
        "fair": rng.choice(texts.FAIRS),
        "leader": leader,
        "leader_role": leader_role,
        "member_title": member_title,
        "member_name": member_name,
        "period": rng.choice(_PERIODS).format(y=year),
        "deadline": f"{deadline.day}/{deadline.month}/{deadline.year}",
        "people": rng.randint(40, 150),
        "people_big": f"{rng.randint(5, 20) * 100:,}".replace(",", "."),
        "members": f"{rng.randint(450, 650)}.000",
        "members_small": rng.randint(12, 480),
        "area": rng.randint(15, 320),
        "n_coops": rng.randint(440, 480),
        "n_qtd": rng.randint(84, 86),
        "n_thd": rng.randint(300, 420),
        "revenue": f"{rng.randint(25, 60) / 10:.1f}".replace(".", ","),
        "n_new": rng.randint(3, 15),
        "n_new2": rng.randint(40, 90),
        "n_ocop": n_ocop,
        "n_ocop4": rng.randint(30, n_ocop // 2),
        "n_ocop_coop": rng.randint(25, 45),
        "n_ocop_new": rng.randint(5, 20),
        "n_awards": rng.randint(10, 30),
        "n_awards2": rng.randint(10, 40),
        "n_classes": rng.randint(6, 18),
        "n_projects": rng.randint(5, 25),
        "nth": rng.randint(5, 14),
        "money": rng.randint(3, 25),
        "money_big": f"{rng.randint(30, 60) * 100:,}".replace(",", "."),
        "loan": rng.choice([300, 500, 1000, 2000]),
    }
