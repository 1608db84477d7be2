"""Newsletter issues split into snippets (``domain.newsletter``): pure, no network."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from subcast.domain.broadcast import utf16_length
from subcast.domain.newsletter import (
    MAX_CONTENT_CHARS,
    MAX_NESTING,
    Format,
    Snippet,
    split_newsletter,
    to_markdown,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "newsletters"


def issue(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def everything(snippets: list[Snippet]) -> str:
    """Every field of every snippet, to search for what must never come out."""
    return "\n".join(f"{s.headline}\n{s.teaser}\n{s.link or ''}\n{s.image_url or ''}" for s in snippets)


# ------------------------------------------------------------------ a Mailchimp issue


@pytest.fixture(scope="module")
def mailchimp() -> list[Snippet]:
    return split_newsletter(issue("mailchimp_issue.html"), "html")


def test_mailchimp_issue_becomes_one_snippet_per_story_in_order(mailchimp: list[Snippet]) -> None:
    # Given a Mailchimp issue built of nested layout tables
    # When it is split
    # Then every story is found, the bold-only paragraph counting as a heading
    assert [s.headline for s in mailchimp] == [
        "Issue #142: Cold brew season",
        "Why your cold brew tastes bitter",
        "Ember Roasters opens on Mill Street",
        "Bean prices this week",
        "Win a grinder",
    ]


def test_mailchimp_layout_tables_are_unwrapped_into_their_text(mailchimp: list[Snippet]) -> None:
    # Given stories that sit four tables deep
    # When the issue is split
    # Then their paragraphs are the teasers, entities decoded and line breaks kept
    assert mailchimp[0].teaser == (
        "Hi there,\nsummer is here, and so is the cold brew question we get most: why does mine taste "
        "bitter? This week we answer it \u2013 plus a new roaster and the latest bean prices."
    )
    assert mailchimp[1].teaser == (
        "It is almost never the beans. Bitterness comes from steeping too long or grinding too fine: "
        "aim for a coarse grind and 14 to 16 hours in the fridge, then filter twice. A 1:8 ratio of "
        "coffee to water makes a concentrate you can dilute to taste, and it keeps for a week."
    )


def test_mailchimp_long_story_is_cut_after_a_sentence(mailchimp: list[Snippet]) -> None:
    # Given a story of two paragraphs, longer than 280 characters
    # When the issue is split with the default budget
    # Then the teaser ends after the last whole sentence that fits, with an ellipsis
    assert mailchimp[2].teaser == (
        "The team behind the Saturday market stall has signed a lease on the old print shop. Expect a "
        "12\u2011kilo roaster in the window, cupping sessions on Sundays and a pay-what-you-can espresso "
        "bar until the end of June. \u2026"
    )


def test_mailchimp_data_table_is_kept_as_text_lines(mailchimp: list[Snippet]) -> None:
    # Given a table with a header row inside the layout tables
    # When the issue is split
    # Then each row is one line, cells joined by " | "
    assert mailchimp[3].teaser == (
        "Origin | Roast | Price / kg\n"
        "Ethiopia Yirgacheffe | Light | $24.50\n"
        "Colombia Huila | Medium | $19.00\n"
        "Sumatra Mandheling | Dark | $21.75"
    )


def test_mailchimp_links_prefer_headline_then_read_more_then_first(mailchimp: list[Snippet]) -> None:
    # Given stories linked by a button, by their headline, by nothing, and by a link in the text
    # When the issue is split
    # Then each story's main link is chosen in that order of preference
    assert [s.link for s in mailchimp] == [
        None,
        "https://weeklygrind.example.com/guides/cold-brew?utm_source=newsletter&utm_medium=email",
        "https://weeklygrind.example.com/news/ember-roasters-opens",
        None,
        "https://weeklygrind.example.com/contest-rules",
    ]


def test_mailchimp_picture_above_a_headline_belongs_to_its_story(mailchimp: list[Snippet]) -> None:
    # Given a logo before any text and a story picture above its headline
    # When the issue is split
    # Then the picture goes with the story and the logo with nothing
    assert [s.image_url for s in mailchimp] == [
        None,
        "https://mcusercontent.com/4f1/images/cold-brew-jar.jpg",
        None,
        None,
        None,
    ]


def test_mailchimp_boilerplate_never_comes_out(mailchimp: list[Snippet]) -> None:
    # Given a preheader, view-in-browser, social icons, a footer, a pixel, a script and a javascript link
    # When the issue is split
    # Then none of it is in any snippet, while the javascript link's words stay as text
    out = everything(mailchimp)
    for boilerplate in (
        "Cold brew without the bitterness",  # the hidden preheader
        "View this email",
        "twitter.com",
        "instagram",
        "color-twitter",
        "All rights reserved",
        "mailing address",
        "12 Mill Street",
        "unsubscribe",
        "track/open",
        "TRACKING-SCRIPT-BODY",
        "javascript",
        "document.cookie",
        "The Weekly Grind #142",  # the <title>
        "margin",  # the <style>
    ):
        assert boilerplate not in out
    assert "Enter here or read the contest rules." in mailchimp[4].teaser


# ------------------------------------------------------------------ a Substack post


@pytest.fixture(scope="module")
def substack() -> list[Snippet]:
    return split_newsletter(issue("substack_post.html"), "html")


def test_substack_post_splits_at_its_section_headings(substack: list[Snippet]) -> None:
    # Given a post with a title, a subtitle and three section headings
    # When it is split
    # Then the subtitle stays with the title and each section is a story
    assert [s.headline for s in substack] == [
        "Why buses beat trams (sometimes)",
        "Frequency is freedom",
        "What trams are really good at",
        "The numbers",
    ]


def test_substack_subtitle_leads_the_title_teaser_without_byline_or_buttons(substack: list[Snippet]) -> None:
    # Given a subtitle, a byline, a share button and a first paragraph
    # When the post is split
    # Then the teaser is the subtitle and the paragraph, cut at the last sentence that fits
    assert substack[0].teaser == (
        "A transit nerd's case for the humble bus, with numbers from five cities\n\n"
        "Every city council I have covered has had the same fight: trams look like progress, buses look "
        "like giving up. After a year of riding both in five cities, I think the fight is mostly about the "
        "wrong thing. \u2026"
    )
    assert substack[0].link == "https://longcommute.substack.com/p/why-buses-beat-trams"
    assert substack[0].image_url == (
        "https://substackcdn.com/image/fetch/w_1100,c_limit/https%3A%2F%2Fbucket.s3.amazonaws.com%2Fbus-lane.jpg"
    )


def test_substack_sections_take_their_first_link_or_none(substack: list[Snippet]) -> None:
    # Given sections with a link in the text, without links, and a table
    # When the post is split
    # Then links are the text's first link or nothing, never the subscribe or comment buttons
    assert [s.link for s in substack[1:]] == [
        "https://humantransit.org/2010/02/frequency-is-freedom.html",
        None,
        None,
    ]


def test_substack_table_without_header_cells_is_still_data(substack: list[Snippet]) -> None:
    # Given a table of four rows of four short cells and no <th>
    # When the post is split
    # Then it is rendered as lines, not unwrapped cell by cell
    assert substack[3].teaser == (
        "City | Mode | Peak headway | Daily riders\n"
        "Lyon | Trolleybus C3 | 4 min | 57,000\n"
        "Lyon | Tram T4 | 8 min | 35,000\n"
        "Bergen | Light rail | 5 min | 52,000"
    )


def test_substack_widgets_and_footer_never_come_out(substack: list[Snippet]) -> None:
    # Given forwarding note, byline, share/like/restack buttons, subscribe widget and footer
    # When the post is split
    # Then none of them is in any snippet
    out = everything(substack)
    for boilerplate in (
        "Forwarded",
        "Maren Holt",
        "Mar 14",
        "Share",
        "Subscribe",
        "reader-supported",
        "Leave a comment",
        "Restack",
        "548 Market Street",
        "Unsubscribe",
        "Start writing",
        "eotrx",
        "app-link",
        "for more",
    ):
        assert boilerplate not in out


# ------------------------------------------------------------------ a German newsletter


@pytest.fixture(scope="module")
def german() -> list[Snippet]:
    return split_newsletter(issue("german_newsletter.html"), "html")


def test_german_newsletter_keeps_umlauts_quotes_and_decodes_entities(german: list[Snippet]) -> None:
    # Given a German issue with entities (&auml;, &shy;, &raquo;), umlauts and „quotes“
    # When it is split
    # Then headlines read as written and soft hyphens vanish
    assert [s.headline for s in german] == [
        "Stadtwerke Kurier \u2013 M\u00e4rz 2025",
        "Neue Stromtarife ab 1. April",
        "Glasfaser f\u00fcr die Nordstadt",
        "Wasserh\u00e4rte in Ihrem Stadtteil",
    ]
    assert german[2].teaser == (
        "Seit Montag verlegen wir Glasfaser in der Nordstra\u00dfe und den angrenzenden Stra\u00dfen. "
        "\u201eWir rechnen mit acht Wochen Bauzeit\u201c, sagt Projektleiterin J\u00fcrgensen. Anwohnerinnen "
        "und Anwohner k\u00f6nnen sich \u00fcber die Baustellenkarte informieren."
    )


def test_german_bold_line_before_a_break_is_a_headline_with_its_read_more_link(german: list[Snippet]) -> None:
    # Given "<b>Title</b><br>text<br><a>Weiterlesen »</a>" beside a picture in a two-column layout
    # When the issue is split
    # Then the bold line is the headline, "z. B." does not end a sentence, the link is "Weiterlesen"
    tarif = german[1]
    assert tarif.teaser == (
        "Ab dem 1. April gilt der Tarif \u201e\u00d6kostrom Plus\u201c mit 31,9 Cent je Kilowattstunde. "
        "F\u00fcr Haushalte mit z. B. 2.500 kWh Jahresverbrauch sinkt die Rechnung damit um rund 48 Euro."
        " \u2026"
    )
    assert tarif.link == "https://www.stadtwerke-beispiel.de/tarife/oekostrom-plus?utm_campaign=kurier-03"
    assert tarif.image_url == "https://news.stadtwerke-beispiel.de/img/tarif-2025.jpg"


def test_german_links_and_layout_without_class_names(german: list[Snippet]) -> None:
    # Given a template without any class names marking its footer or social row
    # When the issue is split
    # Then the linked headline wins and the footer is still recognised by its words and links
    assert [s.link for s in german] == [
        None,
        "https://www.stadtwerke-beispiel.de/tarife/oekostrom-plus?utm_campaign=kurier-03",
        "https://www.stadtwerke-beispiel.de/glasfaser/nordstadt",
        None,
    ]
    out = everything(german)
    for boilerplate in (
        "Browser",
        "abbestellen",
        "Impressum",
        "Datenschutz",
        "Facebook",
        "Hafenstra",
        "Neue Tarife, Glasfaser",
    ):
        assert boilerplate not in out
    assert german[3].teaser.splitlines() == [
        "Stadtteil | H\u00e4rtebereich | \u00b0dH",
        "Altstadt | mittel | 11,2",
        "Nordstadt | hart | 15,8",
        "S\u00fcd | weich | 7,4",
    ]


def test_german_teaser_does_not_end_a_sentence_at_an_ordinal(german: list[Snippet]) -> None:
    # Given a teaser starting "Ab dem 1. April gilt ..."
    # When the budget is only 30
    # Then "1." is not taken for a sentence end: the cut falls at a word
    tarif = split_newsletter(issue("german_newsletter.html"), "html", teaser_budget=30)[1]
    assert tarif.teaser == "Ab dem 1. April gilt der\u2026"


# ------------------------------------------------------------------ a Markdown issue


@pytest.fixture(scope="module")
def markdown() -> list[Snippet]:
    return split_newsletter(issue("markdown_issue.md"), "markdown")


def test_markdown_issue_splits_at_headings_and_a_bold_line(markdown: list[Snippet]) -> None:
    # Given an issue with #, ## and a **bold** first line used as a heading
    # When it is split
    # Then each is a story, link syntax stripped from headlines, the footer left out
    assert [s.headline for s in markdown] == [
        "Rust Radar, issue 58",
        "Rust 1.86 ships trait upcasting",
        "Async closures in practice",
        "Crates of the week",
        "One thing to avoid",
    ]
    assert "receiving" not in everything(markdown)
    assert "Mastodon" not in everything(markdown)


def test_markdown_teasers_join_soft_breaks_and_drop_markup(markdown: list[Snippet]) -> None:
    # Given wrapped paragraphs with `code`, *emphasis* and a "Read the release notes →" link
    # When the issue is split
    # Then teasers are plain text, one line per paragraph, without the read-more link's words
    assert [s.teaser for s in markdown[:3]] == [
        "Three things worth your time this week, and one thing to avoid. As always, reply to this email if "
        "you have a tip.",
        "You can finally coerce &dyn Sub into &dyn Super without a helper method. The release also "
        "stabilises get_disjoint_mut on slices and hash maps, which removes a whole class of borrow checker "
        "workarounds.",
        "A walkthrough of porting a tokio service to async || closures: less boxing, fewer 'static bounds, "
        "and one surprising compile-time regression.",
    ]


def test_markdown_links_images_lists_and_tables(markdown: list[Snippet]) -> None:
    # Given a read-more link, a linked heading, a list of links, a table and a reference link
    # When the issue is split
    # Then links follow the same preference as HTML and lists and tables are lines
    assert [s.link for s in markdown] == [
        None,
        "https://blog.rust-lang.org/2025/04/03/Rust-1.86.0.html",
        "https://rustradar.example.org/async-closures",
        "https://github.com/BurntSushi/jiff",
        "https://rust-lang.github.io/api-guidelines/necessities.html",
    ]
    assert markdown[1].image_url == "https://rustradar.example.org/img/1-86-chart.png"
    assert markdown[3].teaser.splitlines() == [
        "\u2022 jiff: date and time, done carefully",
        "\u2022 facet: reflection without macros_everywhere",
        "Crate | Downloads | Licence",
        "jiff | 2.1M | MIT",
        "facet | 310k | MIT",
    ]
    assert (
        markdown[4].teaser
        == 'Pinning tokio = "=1.0.0" in a library. Let applications choose; see the API guidelines.'
    )


def test_markdown_setext_headings_and_code_fences() -> None:
    # Given an underlined heading and a code block holding a "#" line and link syntax
    text = "Release day\n===========\n\n```\n# not a heading\n[not](https://example.com/link)\n```\n"
    # When it is split
    # Then the underline makes a heading and the code is kept as typed, one line each
    assert split_newsletter(text, "markdown") == [
        Snippet(headline="Release day", teaser="# not a heading\n[not](https://example.com/link)")
    ]


def test_markdown_raw_html_is_sanitised_too() -> None:
    # Given Markdown with a script block, an inline style, a javascript link and an HTML comment
    text = (
        "## Hello\n\nBefore <script>\n\nalert('pwned')\n\n</script> after <style>p{}</style>"
        "<!-- note --> [click](javascript:alert('x')) and <b>bold</b> &amp; more.\n"
    )
    # When it is split
    [snippet] = split_newsletter(text, "markdown")
    # Then only the visible text is left
    assert snippet == Snippet(headline="Hello", teaser="Before after click and bold & more.")


# ------------------------------------------------------------------ mastheads


def masthead_free(snippets: list[Snippet], *masthead: str) -> bool:
    """No snippet holds any of the masthead's words (its date, issue number, "view in browser")."""
    out = everything(snippets).lower()
    return not any(words.lower() in out for words in masthead)


def test_mailchimp_masthead_table_gives_no_snippet() -> None:
    # Given a logo and "Issue 142 — 24 Nov 2026" with "View this email in your browser" in one table
    # When the issue is split
    snippets = split_newsletter(issue("mailchimp_masthead.html"), "html")
    # Then the stories alone come out, the short first one included, and no masthead word or logo
    assert [s.headline for s in snippets] == [
        "Decaf that tastes like coffee",
        "A burr grinder under $100",
        "Your question: does water matter?",
    ]
    assert snippets[0].teaser == "Swiss Water decaf from Huila won our blind test."
    assert masthead_free(
        snippets, "24 Nov 2026", "Issue 142", "in your browser", "logo-weekly-grind", "mailchi.mp"
    )
    assert snippets[1].image_url == "https://mcusercontent.com/4f1/images/grinder-x2.jpg"


def test_substack_masthead_with_name_linked_home_gives_no_snippet() -> None:
    # Given a logo and the publication's bold name linked home, "Issue #31 · Nov 24, 2026" and
    # "View in browser" above the post's title
    # When the post is split
    snippets = split_newsletter(issue("substack_masthead.html"), "html")
    # Then the title is the first snippet, and neither name, logo, issue nor date is in any
    assert [s.headline for s in snippets] == [
        "Night buses are back",
        "Leeds: the 2am problem",
        "What it costs",
    ]
    assert snippets[0].link == "https://longcommute.substack.com/p/night-buses-are-back"
    assert masthead_free(snippets, "The Long Commute", "Nov 24", "Issue #31", "View in browser", "logo-long")


def test_german_masthead_with_issue_date_and_shown_preheader_gives_no_snippet() -> None:
    # Given a shown preheader beside "Im Browser ansehen", then a logo beside
    # "<b>Stadtwerke Kurier</b><br>Ausgabe 12 · 24.11.2026"
    # When the issue is split
    snippets = split_newsletter(issue("german_masthead.html"), "html")
    # Then the three stories come out, the first (one sentence) included, the masthead nowhere
    assert [s.headline for s in snippets] == [
        "Fernw\u00e4rme wird g\u00fcnstiger",
        "Winterfahrplan ab 14. Dezember",
        "Z\u00e4hlerstand bis 31. Dezember melden",
    ]
    assert snippets[0].teaser == "Ab Januar sinkt der Arbeitspreis um 8 Prozent."
    assert snippets[1].image_url == "https://news.stadtwerke-beispiel.de/img/nachtbus.jpg"
    assert masthead_free(
        snippets,
        "Ausgabe 12",
        "24.11.2026",
        "Im Browser",
        "Stadtwerke Kurier",
        "Z\u00e4hlerst\u00e4nde",
        "logo.png",
    )


def test_markdown_masthead_title_line_and_date_give_no_snippet() -> None:
    # Given a linked logo, "# Rust Radar" and "**Issue 59** · 24 November 2026 · [View online](...)"
    # When the issue is split
    snippets = split_newsletter(issue("markdown_masthead.md"), "markdown")
    # Then the two stories alone come out
    assert [s.headline for s in snippets] == ["Cargo learns to build in parallel", "A faster HashMap, again"]
    assert masthead_free(snippets, "Rust Radar", "24 November", "Issue 59", "View online", "logo.png")


@pytest.mark.parametrize(
    ("masthead", "format"),
    [
        ("Rust Radar \u2014 24 November 2026\n\n", "markdown"),  # a title line, not a heading
        ("**The Weekly Grind**\nIssue 142 \u00b7 24 Nov 2026\n\n", "markdown"),
        ("# The Weekly Grind\n\nNo. 142 | Monday, 24 November 2026\n\n", "markdown"),
        ("<p>The Weekly Grind<br>Issue 142 &middot; 24 Nov 2026</p>", "html"),
        ('<p><a href="https://mailchi.mp/x/142"><b>Issue 142 &middot; 24 Nov 2026</b></a></p>', "html"),
        ('<h1><a href="https://weeklygrind.example.com/">The Weekly Grind</a></h1><p>2026-11-24</p>', "html"),
        ("<p>Webversion</p><p><b>Ausgabe 12</b></p><p>Montag, 24. November 2026</p>", "html"),
    ],
)
def test_masthead_shapes_give_no_snippet(masthead: str, format: Format) -> None:
    # Given a masthead of name, issue number, date or web version above one short story
    story = "## Story\n\nBody." if format == "markdown" else "<h2>Story</h2><p>Body.</p>"
    # When the issue is split
    # Then the story alone comes out
    assert split_newsletter(masthead + story, format) == [Snippet(headline="Story", teaser="Body.")]


def test_an_intro_in_sentences_under_the_masthead_stays() -> None:
    # Given a masthead line, then an intro without a headline, then a story
    text = "<p>Issue 142 &middot; 24 Nov 2026</p><p>Hi all, welcome back.</p><h2>Story</h2><p>Body.</p>"
    # When it is split
    # Then the intro is a snippet of its own, without the masthead line
    assert split_newsletter(text, "html") == [
        Snippet(headline="", teaser="Hi all, welcome back."),
        Snippet(headline="Story", teaser="Body."),
    ]


def test_an_issue_title_with_its_number_and_an_intro_is_a_story() -> None:
    # Given headlines that name the issue but carry an intro (as the older fixtures do)
    text = "# Rust Radar, issue 58\n\nThree things this week.\n\n## Story\n\nBody."
    # When it is split
    # Then the issue's title and intro stay a story
    assert [s.headline for s in split_newsletter(text, "markdown")] == ["Rust Radar, issue 58", "Story"]


def test_a_date_under_the_first_headline_is_left_out_of_its_teaser() -> None:
    # Given a post title, its date on a line of its own, then its text
    text = "<h1>Night buses</h1><p>Nov 24, 2026</p><p>They are back.</p><h2>Costs</h2><p>Low.</p>"
    # When it is split
    # Then the date is no part of the first teaser
    assert split_newsletter(text, "html")[0] == Snippet(headline="Night buses", teaser="They are back.")


@pytest.mark.parametrize(
    ("content", "format", "expected"),
    [
        ("<h1>Big news</h1><p>Short.</p>", "html", [Snippet(headline="Big news", teaser="Short.")]),
        ("Just a few words", "markdown", [Snippet(headline="", teaser="Just a few words")]),
        ("## Christmas market\n\nSaturday, 28 November 2026", "markdown", [
            Snippet(headline="Christmas market", teaser="Saturday, 28 November 2026")
        ]),
    ],
)  # fmt: skip
def test_an_issue_of_one_story_gives_that_story(
    content: str, format: Format, expected: list[Snippet]
) -> None:
    # Given an issue whose only content is one story, however much it looks like a masthead
    # When it is split
    # Then that story comes out: an issue with nothing below its "masthead" has none
    assert split_newsletter(content, format) == expected


def test_a_link_list_keeps_its_linked_headlines_but_not_the_name_linked_home() -> None:
    # Given the publication's name linked home, then stories that are linked headlines only
    text = (
        '<h2><a href="https://example.com/">The Daily Links</a></h2>'
        '<h3><a href="https://example.com/s/1">One</a></h3><h3><a href="https://example.com/s/2">Two</a></h3>'
    )
    # When it is split
    # Then each linked story stays and the name does not
    assert [(s.headline, s.link) for s in split_newsletter(text, "html")] == [
        ("One", "https://example.com/s/1"),
        ("Two", "https://example.com/s/2"),
    ]


def test_masthead_words_further_down_are_story_text() -> None:
    # Given a second story whose text is a date and mentions the web version
    text = "<h2>First</h2><p>Body.</p><h2>Market</h2><p>Saturday, 28 November 2026</p><p>Web version</p>"
    # When it is split
    # Then, past the first story, nothing is taken for the masthead
    assert split_newsletter(text, "html")[1] == Snippet(
        headline="Market", teaser="Saturday, 28 November 2026\n\nWeb version"
    )


# ------------------------------------------------------------------ teasers, budgets, limits


def test_a_word_cut_never_splits_a_word() -> None:
    # Given a paragraph without any sentence end within the budget
    text = "<h2>Long</h2><p>" + " ".join(["supercalifragilistic"] * 10) + "</p>"
    # When it is split with a budget of 50
    [snippet] = split_newsletter(text, "html", teaser_budget=50)
    # Then the teaser holds whole words only and an ellipsis
    assert snippet.teaser == "supercalifragilistic supercalifragilistic\u2026"


def test_budget_counts_utf16_units_as_telegram_does() -> None:
    # Given a teaser with emoji, each two UTF-16 units
    text = "<h2>Party</h2><p>" + "Fun \U0001f389 " * 30 + "</p>"
    # When it is split with a budget of 20
    [snippet] = split_newsletter(text, "html", teaser_budget=20)
    # Then the teaser fits 20 units (it would hold another emoji if they counted one)
    assert snippet.teaser == "Fun \U0001f389 Fun \U0001f389 Fun\u2026"
    assert utf16_length(snippet.teaser) == 18


def test_cjk_text_is_cut_between_characters() -> None:
    # Given Japanese text without spaces
    text = "<h2>ニュース</h2><p>" + "東京で新しい駅が開業しました" * 5 + "</p>"
    # When it is split with a budget of 20
    [snippet] = split_newsletter(text, "html", teaser_budget=20)
    # Then the cut falls after the last character that fits
    assert snippet.teaser == "東京で新しい駅が開業しました東京で新\u2026"


def test_max_snippets_keeps_the_first_stories() -> None:
    # Given an issue of five stories
    # When at most two are asked for
    snippets = split_newsletter(issue("mailchimp_issue.html"), "html", max_snippets=2)
    # Then the first two come back
    assert [s.headline for s in snippets] == [
        "Issue #142: Cold brew season",
        "Why your cold brew tastes bitter",
    ]


def test_section_labels_and_empty_sections_are_not_stories() -> None:
    # Given a label heading, a heading with only a hidden paragraph, and a real story
    text = (
        "<h2>Top stories</h2><h3>Nothing here</h3><p style='visibility: hidden'>secret</p>"
        "<h3>Real story</h3><p>With text.</p><h3></h3><p>   </p>"
    )
    # When it is split
    # Then only the real story is a snippet
    assert split_newsletter(text, "html") == [Snippet(headline="Real story", teaser="With text.")]


@pytest.mark.parametrize(
    "hidden",
    [
        '<div style="display: none !important">PREHEADER</div>',
        '<span style="max-height:0;overflow:hidden;mso-hide:all">PREHEADER</span>',
        '<div style="opacity:0">PREHEADER</div>',
        "<div hidden>PREHEADER</div>",
        '<div class="preheader">PREHEADER</div>',
        '<td id="footerContent">PREHEADER</td>',
    ],
)
def test_hidden_text_is_dropped(hidden: str) -> None:
    # Given text hidden by style, attribute or a preheader/footer class
    text = f"<table><tr>{hidden}<td><h1>Title</h1><p>Shown.</p></td></tr></table>"
    # When it is split
    # Then the hidden text is nowhere
    assert split_newsletter(text, "html") == [Snippet(headline="Title", teaser="Shown.")]


@pytest.mark.parametrize(
    "pixel",
    [
        '<img src="https://t.example.com/o.gif" width="1" height="1">',
        '<img src="https://t.example.com/o.gif" style="width:1px;height:1px">',
        '<img src="https://t.example.com/o.gif" width="0" height="0">',
    ],
)
def test_tracking_pixels_are_not_pictures(pixel: str) -> None:
    # Given a story whose only image is a tracking pixel
    # When it is split
    [snippet] = split_newsletter(f"<h2>Title</h2>{pixel}<p>Text.</p>", "html")
    # Then it has no picture
    assert snippet.image_url is None


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "java&#x09;script:alert(1)",
        "javascript&colon;alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "/relative/path",
        "//evil.example.com/x",
        "mailto:editor@example.com",
    ],
)
def test_only_absolute_http_links_and_images_survive(href: str) -> None:
    # Given a linked headline and a picture whose URLs are not absolute http(s)
    text = f'<h2><a href="{href}">Title</a></h2><img src="{href}"><p>Text.</p>'
    # When it is split
    # Then neither link nor picture comes out
    assert split_newsletter(text, "html") == [Snippet(headline="Title", teaser="Text.")]


def test_a_linked_card_gives_its_link_to_the_story() -> None:
    # Given an email card wrapped in one link
    text = '<a href="https://example.com/story"><img src="https://example.com/p.jpg"><h3>Card</h3><p>Body.</p></a>'
    # When it is split
    # Then the story has the card's link and picture
    assert split_newsletter(text, "html") == [
        Snippet(
            headline="Card",
            teaser="Body.",
            link="https://example.com/story",
            image_url="https://example.com/p.jpg",
        )
    ]


def test_caller_mistakes_are_refused() -> None:
    # Given impossible arguments / When splitting / Then a ValueError says why
    with pytest.raises(ValueError, match="teaser_budget"):
        split_newsletter("x", "html", teaser_budget=3)
    with pytest.raises(ValueError, match="max_snippets"):
        split_newsletter("x", "html", max_snippets=-1)
    with pytest.raises(ValueError, match="format"):
        split_newsletter("x", "pdf")  # type: ignore[arg-type]


def test_content_nested_deeper_than_the_limit_is_cut_off() -> None:
    # Given a story, then more tags open at once than MAX_NESTING, then another story
    text = "<h2>Title</h2><p>Text.</p>" + "<div><ul><li>" * MAX_NESTING + "<h2>Lost</h2><p>Deep.</p>"
    # When it is split
    # Then the parser never sees the deep part (it would slow quadratically), the first story stays
    assert split_newsletter(text, "html") == [Snippet(headline="Title", teaser="Text.")]


def test_content_longer_than_the_limit_is_cut_off() -> None:
    # Given a story, then padding up to MAX_CONTENT_CHARS, then another story
    text = "<h2>Title</h2><p>Text.</p>" + " " * MAX_CONTENT_CHARS + "<h2>Late</h2><p>Too far.</p>"
    # When it is split
    # Then only the first story is read
    assert split_newsletter(text, "html") == [Snippet(headline="Title", teaser="Text.")]


@pytest.mark.parametrize("format", ["html", "markdown"])
def test_lone_surrogates_and_control_characters_do_not_break_the_sanitiser(format: Format) -> None:
    # Given text as JSON may deliver it: a lone surrogate, a NUL and a bell character
    text = (
        "<h2>Caf\ud800e</h2><p>Nul\x00 and \x07bell.</p>"
        if format == "html"
        else "## Caf\ud800e\n\nNul\x00 and \x07bell."
    )
    # When it is split
    # Then the surrogate is a replacement character and the controls are gone
    assert split_newsletter(text, format) == [Snippet(headline="Caf\ufffde", teaser="Nul and bell.")]


# ------------------------------------------------------------------ to_markdown


def test_to_markdown_is_bold_headline_line_break_teaser_without_the_link() -> None:
    # Given a snippet with a link
    snippet = Snippet(headline="Prices up", teaser="Beans cost more.", link="https://example.com/p")
    # When it is rendered
    # Then the link is not repeated in the text
    assert to_markdown(snippet) == "**Prices up**\nBeans cost more."


def test_to_markdown_escapes_markup_characters() -> None:
    # Given text with the subset's markup characters
    snippet = Snippet(headline="2*3 = [six]", teaser="snake_case (and a \\ backslash)")
    # When it is rendered
    # Then each is escaped, so it is shown as typed
    assert to_markdown(snippet) == "**2\\*3 = \\[six\\]**\nsnake\\_case \\(and a \\\\ backslash\\)"


def test_to_markdown_without_headline_is_the_teaser() -> None:
    # Given a snippet of an intro without a heading / When rendered / Then no empty bold markers
    assert to_markdown(Snippet(headline="", teaser="Hello.")) == "Hello."


# ------------------------------------------------------------------ properties


def check(snippets: list[Snippet], budget: int, limit: int) -> None:
    assert len(snippets) <= limit
    for snippet in snippets:
        assert snippet.headline.strip() or snippet.teaser.strip()
        assert utf16_length(snippet.teaser) <= budget
        assert len(snippet.teaser) <= budget
        for url in (snippet.link, snippet.image_url):
            assert url is None or url.lower().startswith(("http://", "https://"))


@settings(max_examples=300, deadline=None)
@given(
    content=st.text(),
    format=st.sampled_from(["html", "markdown"]),
    budget=st.integers(min_value=16, max_value=400),
    limit=st.integers(min_value=0, max_value=5),
)
def test_any_text_never_raises_and_respects_the_limits(
    content: str, format: Format, budget: int, limit: int
) -> None:
    # Given any text at all, as either format / When it is split
    snippets = split_newsletter(content, format, teaser_budget=budget, max_snippets=limit)
    # Then nothing raised, and count, budget, non-empty snippets and http(s)-only URLs hold
    check(snippets, budget, limit)


MARK = "QQMARKQQ"  # hidden in scripts and styles
JS = "QQJSQQ"  # hidden in javascript: URLs
TEXT = st.text(st.characters(exclude_characters="<>&\"'", exclude_categories=["Cs"]), max_size=40)
HTML_MARKUP = [
    *["<h1>", "</h1>", "<h2>", "</h2>", "<h3>", "<p>", "</p>", "<div>", "</div>", "<br>", "<b>", "</b>"],
    *[
        "<strong>",
        "</strong>",
        "<table>",
        "</table>",
        "<tr>",
        "</tr>",
        "<td>",
        "</td>",
        "<th>",
        "<ul>",
        "<li>",
    ],
    *["</ul>", "</a>", "</span>", "&amp;", "&nbsp;", "&#8220;", "&zwnj;", "<!--", "-->", "<textarea>"],
    *["<noscript>", "<svg>", "<select>", "<option>", "<title>", "<head>", "<body>"],
    *[
        "<a href='https://example.com/x'>",
        "<img src='https://example.com/i.png'>",
        "<span style='display:none'>",
    ],
]
HTML_HIDING = [
    f"<script>{MARK}</script>",
    f"<style>{MARK}{{}}</style>",
    f"<script src='x'>var a='{MARK}'</script>",
    f"<STYLE type='text/css'>{MARK}</STYLE>",
    f"<a href='javascript:{JS}()'>js</a>",
    f"<img src='javascript:{JS}'>",
    f"<a href=' JAVASCRIPT:{JS}'>js</a>",
]
MARKDOWN_MARKUP = [
    *["# ", "## ", "### ", "- ", "1. ", "> ", "**", "*", "_", "`", "\\*", "[ref]", "<p>", "<br>"],
    *["\n", "\n\n", "```\n", "---\n", "| a | b |\n", "[ref]: https://example.com\n"],
    *["[link](https://example.com/a)", "![i](https://example.com/i.png)", "<https://example.com/auto>"],
]
MARKDOWN_HIDING = [
    f"<script>{MARK}</script>",
    f"<script>\n\n{MARK}\n\n</script>",
    f"<style>\n{MARK}\n</style>",
    f"[js](javascript:{JS})",
    f"![js](javascript:{JS})",
    f"[js](JavaScript:alert('{JS}'))",
]


def soup(markup: list[str], hiding: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.one_of(TEXT, st.sampled_from(markup + hiding)), max_size=60)


def only_hiding_pieces_hold_marks(pieces: list[str], hiding: list[str]) -> bool:
    """Hypothesis also tries the test's own string constants: free text must not spell a mark."""
    free = "".join(piece for piece in pieces if piece not in hiding)
    return MARK not in free and JS not in free


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=soup(HTML_MARKUP, HTML_HIDING), budget=st.integers(min_value=16, max_value=300))
def test_html_never_leaks_scripts_styles_or_javascript_links(pieces: list[str], budget: int) -> None:
    # Given HTML soup that hides marks in scripts, styles and javascript: URLs
    assume(only_hiding_pieces_hold_marks(pieces, HTML_HIDING))
    # When it is split
    snippets = split_newsletter("".join(pieces), "html", teaser_budget=budget)
    # Then neither mark is anywhere and the limits hold
    assert MARK not in everything(snippets)
    assert JS not in everything(snippets)
    check(snippets, budget, 30)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=soup(MARKDOWN_MARKUP, MARKDOWN_HIDING), budget=st.integers(min_value=16, max_value=300))
def test_markdown_never_leaks_scripts_styles_or_javascript_links(pieces: list[str], budget: int) -> None:
    # Given Markdown that hides marks in raw scripts, styles and javascript: links
    assume(only_hiding_pieces_hold_marks(pieces, MARKDOWN_HIDING))
    # When it is split
    snippets = split_newsletter("".join(pieces), "markdown", teaser_budget=budget)
    # Then no script or style text comes out, and no javascript: URL is a link or picture
    # (inside a code fence, or escaped, link syntax is literal text, shown as typed)
    assert MARK not in everything(snippets)
    assert all(JS not in f"{s.link}{s.image_url}" for s in snippets)
    check(snippets, budget, 30)


WORDS = st.lists(
    st.text(st.characters(categories=["Ll", "Lu", "Nd"]), min_size=1, max_size=14),
    min_size=1,
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(words=WORDS, stops=st.lists(st.booleans(), min_size=80, max_size=80), budget=st.integers(16, 200))
def test_a_cut_teaser_is_a_prefix_ending_at_a_word_boundary(
    words: list[str], stops: list[bool], budget: int
) -> None:
    # Given a paragraph of words, some ending a sentence
    body = " ".join(word + ("." if stop else "") for word, stop in zip(words, stops, strict=False))
    # When it is split under a budget
    [snippet] = split_newsletter(f"<h2>Story</h2><p>{body}</p>", "html", teaser_budget=budget)
    # Then the teaser is the whole text, or a prefix ending before a space, plus an ellipsis
    assert utf16_length(snippet.teaser) <= budget
    if snippet.teaser != body:
        kept = snippet.teaser.removesuffix("\u2026").rstrip()
        assert snippet.teaser.endswith("\u2026")
        assert body.startswith(kept)
        assert body[len(kept)] == " " or utf16_length(body.split(" ")[0]) > budget - 2  # one word over budget
