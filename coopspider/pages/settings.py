"""Every threshold of the article page object in one place (trafilatura's `settings.py` idea).

Lengths are characters of a line's cleaned text, shares are the part of a line's characters inside
links (0 to 1), windows count blocks (the lines `coopspider.pages.blocks` cuts a page into), and
scores are the points a line gets towards being the headline. The values were tuned on the saved
pages of tests/pages/ (the "tuned" set); change one and run tests/test_pages.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExtractionSettings:
    """The knobs of article extraction; `SETTINGS` holds the values in use."""

    # -- title ----------------------------------------------------------------------------------
    # Shorter than this a line is no headline at all.
    shortest_title: int = 4
    # Shorter than this (two short words: `Thông báo`, `Giấy mời`) a line needs an <h1> or
    # metadata that agrees to be the headline; a piece of a split <title> is never taken.
    shortest_unsupported_title: int = 10
    # Longer than this a line is a paragraph, never a headline.
    longest_title: int = 400
    # Lines after the title searched for its date line (and its author label).
    window_after_title: int = 8
    # Lines before the title searched the same way (a date printed above the headline).
    window_before_title: int = 3
    # Points an <h1>, <h2>, <h3> heading adds to a title candidate: the main heading most.
    heading_scores: tuple[float, ...] = (3, 2, 1.5)
    # Points a deeper heading (<h4> to <h6>) adds: a heading still, but rarely the headline.
    deeper_heading_score: float = 0.5
    # Points when the metadata (og:title, JSON-LD, <title>) gives exactly this line's text.
    meta_title_score: float = 4
    # Points when the line is a long enough part of a metadata title (a cut site name).
    partial_meta_title_score: float = 2
    # The shortest line that may earn `partial_meta_title_score`: short lines are parts of
    # almost any title.
    shortest_partial_meta_title: int = 20
    # Points for a bold or italic line: headlines are often emphasised.
    emphasised_title_score: float = 0.5
    # An all-capitals line shorter than this is a section heading (`TIN MỚI NHẤT`)...
    longest_section_heading: int = 40
    # ...and loses this many points.
    section_heading_penalty: float = 1.5
    # Points when a date line sits right by the title (next line, the one after, or just above).
    date_right_by_score: float = 3.0
    # Points when a date line is within the title's window but not right by it.
    date_close_by_score: float = 1.0
    # Lines after the title, at most this far (1 = the next line), count as right by it.
    date_right_after_lines: int = 2
    # A line near the title longer than this is not read as its date line when scoring.
    longest_nearby_date_line: int = 120
    # Characters of plain text after the title that earn one point: an article follows a title.
    text_mass_per_point: int = 400
    # The most points the text after the title earns.
    text_mass_most_score: float = 3
    # How many lines after a title candidate count towards the text after it.
    text_mass_window: int = 15
    # A line counts as plain text after the title from this length...
    plain_line_chars: int = 60
    # ...and with less than this share in links.
    plain_line_most_link: float = 0.3
    # A title candidate more linked than this is a menu or related-article link...
    most_link_in_title: float = 0.5
    # ...and loses this many points.
    linked_title_penalty: float = 4
    # Points lost by a line in page chrome (nav, header, aside, footer).
    chrome_title_penalty: float = 4
    # A line that ends a sentence and is longer than this is a paragraph...
    longest_sentence_title: int = 150
    # ...and loses this many points.
    sentence_title_penalty: float = 2
    # Points lost by a line that holds a date itself: a date line, not the headline.
    dated_title_penalty: float = 3

    # -- date -----------------------------------------------------------------------------------
    # A line longer than this is never read as a date line (it is text that mentions a date).
    longest_date_line: int = 160
    # A date line more linked than this is a link to another article, not the article's date.
    most_link_in_date_line: float = 0.5

    # -- body -----------------------------------------------------------------------------------
    # A line this long is a paragraph of text, not a name, caption or piece of page furniture.
    long_paragraph: int = 80
    # Without long paragraphs, lines this long still locate the article's text box.
    shortest_container_line: int = 30
    # A line printed between the title and the text box joins the body (a lead) from this length.
    shortest_lead: int = 60
    # An end marker (`Tin liên quan`) longer than this is text that starts with the words.
    longest_end_marker: int = 80
    # A furniture word (`Chia sẻ`) opening a line longer than this starts a sentence instead.
    longest_furniture: int = 40
    # Once the body holds more than this many characters, a footer, a chrome line or a run of
    # link lines ends it; before, they are skipped (menus between title and text).
    body_before_stop: int = 200
    # A line more linked than this, inside the article's run, is a link line: skipped.
    most_link_in_run_line: float = 0.6
    # This many link lines in a row end the body (a related-articles list).
    link_lines_that_end_run: int = 2
    # A line more linked than this is a link (a related article, a tag), not a paragraph of text.
    most_link_in_text: float = 0.5

    # -- author ---------------------------------------------------------------------------------
    # The longest line an author line may be (`Tin, ảnh: ...` included).
    longest_author_line: int = 120
    # How many lines after a possible closing byline are looked at for the links that confirm it.
    byline_lookahead: int = 6
    # How many long paragraphs among them mean the article goes on instead.
    paragraphs_that_go_on: int = 2
    # How many lines after the article's text may hold its signature in a box of their own.
    signature_lines_after: int = 2
    # The most words a signature may have (`Nguyễn Văn A - Trần Thị B` fits).
    most_name_words: int = 8
    # The longest signature line, parenthesised note left out.
    longest_name: int = 60
    # A name glued before the date (`Minh Hà 08:12, 06/02/2023`) needs this many words.
    fewest_words_before_date: int = 2

    # -- images and captions --------------------------------------------------------------------
    # A caption line longer than this is a paragraph.
    longest_caption: int = 300
    # A line without a sentence end reads as a caption up to this length.
    longest_plain_caption: int = 200
    # A caption more linked than this is a link.
    most_link_in_caption: float = 0.5
    # Centred or italic text marks a caption only when less than this share of the article's
    # paragraphs are centred or italic (else it is the site's style for all text).
    most_styled_paragraphs: float = 0.5
    # How many levels above an image a box (cell, figure) holding it and its caption may be.
    caption_box_depth: int = 4
    # The most text such a box may hold beyond the caption's own.
    caption_box_extra_chars: int = 30
    # An image narrower or lower than this many pixels is an icon or a button, not a picture.
    smallest_picture: int = 60

    # -- lines (coopspider.pages.blocks) ----------------------------------------------------------
    # A line more than this share bold or italic is emphasised (a headline, a lead); more than
    # this share italic, it is italic (a caption, when the article's text is not).
    emphasised_share: float = 0.8

    # -- visitor counter ------------------------------------------------------------------------
    # A line more linked than this is a menu item or a link list, never a visitor counter.
    most_link_in_counter: float = 0.5

    @property
    def most_from_surroundings(self) -> float:
        """The most a title candidate's surroundings add to its own score: its date line and the
        text after it."""
        return self.date_right_by_score + self.text_mass_most_score

    def heading_score(self, level: int) -> float:
        """Points a heading of `level` (0: not a heading) adds to a title candidate."""
        if 1 <= level <= len(self.heading_scores):
            return self.heading_scores[level - 1]
        return self.deeper_heading_score if level else 0


SETTINGS = ExtractionSettings()
