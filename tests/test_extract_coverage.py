"""Nothing on a page is silently dropped: on every fixture page and every demo help-center
page, the FAQs and passages together hold at least 95% of the page's main-content text,
and whatever they leave out is reported as skipped.

"Main content" is defined here, independently of the extractor's own rules:
- the page's <main> (or role="main") element, else <body>;
- without what every help center has around its content: <nav>, <aside>, <footer>, a
  <header> that is not an article's own, ARIA navigation/banner/contentinfo/complementary/
  search regions, and elements whose class or id names page furniture (cookie and consent
  bars, breadcrumbs, sidebars, tables of contents, pagination, share/print bars, feedback
  votes, related or recently viewed articles, author and "updated" lines);
- without UI and code that is not text to read: script, style, template, noscript, svg,
  iframe, forms and their controls and labels, and buttons other than disclosure toggles
  (an accordion's button is its question);
- without text hidden by the page (hidden, display:none) unless a control on the page
  reveals it (a collapsed accordion panel is content);
- without link bars: blocks that are nothing but two or more links, and lists of links to
  places on the same page;
- without the stock phrases of help-center widgets ("Was this article helpful?",
  "12 out of 15 found this helpful", "Have more questions? Submit a request", "返回顶部",
  a "Loading…" placeholder);
- entry labels ("Q:", "A:", "问：", "答：") are markup, not content.

Coverage is measured on word trigrams (Chinese: character trigrams) inside each block of
main content: the share of the main content's trigrams found in the records' heading paths,
questions and answers, each record trigram covering one occurrence. Word order and wording
must survive, not just the vocabulary, and a phrase the page repeats must be kept as often.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Doctype, ProcessingInstruction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faq_ingest.extract import ExtractedFaq, extract_page

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "html"
DEMO = ROOT / "faq_ingest" / "demo_site"
MIN_COVERAGE = 0.95

_FURNITURE_TAGS = {"nav", "aside", "footer"}
_FURNITURE_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search"}
_FURNITURE_NAME = re.compile(
    r"(?<![a-z])(?:cookie|consent|gdpr|breadcrumbs?|sidebar|toc|table-of-contents|pagination"
    r"|pager|share|social|print|newsletter|votes?|feedback|helpful|reaction|related|recent"
    r"|skip|edit-this|back-?to-?top|announcement|author|avatar|byline|updated|top-?bar"
    r"|nav(?:bar|-bar)?|menu|masthead|site-header|site-footer|promo-bar|header|footer)(?![a-z])",
    re.IGNORECASE,
)
_UI_TAGS = {"script", "style", "template", "noscript", "svg", "iframe", "form", "select", "label"}
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_STOCK_PHRASES = re.compile(
    r"^(?:was this (?:article|page|section|answer) helpful\??|did this answer your question\??"
    r"|\d+ out of \d+ found this helpful|have more questions\?? submit a request|loading\b.{0,20}"
    r"|返回顶部|回到顶部)$",
    re.IGNORECASE,
)
_LABEL = re.compile(r"(?:^|(?<=\s))(?:Q|A|Question|Answer|问|答|問|回答)\s*[:：]", re.IGNORECASE)
_BLOCKS = {
    "p", "li", "dt", "dd", "td", "th", "pre", "blockquote", "figcaption", "caption", "summary",
    "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "article", "details", "dl", "ul",
    "ol", "table", "tr", "header", "main", "body", "button", "label",
}  # fmt: skip
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+")
_MD_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|])")
_IS_TOGGLE = ("aria-controls", "aria-expanded", "data-bs-target", "data-target", "data-toggle")


def _tokens(tag: Tag) -> list[str]:
    classes = tag.get("class") or []
    ident = tag.get("id")
    return [*classes, ident] if isinstance(ident, str) else list(classes)


def _is_furniture(tag: Tag) -> bool:
    if tag.name in _FURNITURE_TAGS:
        return True
    if tag.name == "header":
        return tag.find_parent(["article", "section", "main"]) is None
    if tag.get("role") in _FURNITURE_ROLES:
        return True
    if tag.name in ("main", "article", "body"):
        return False
    return any(_FURNITURE_NAME.search(t) for t in _tokens(tag))


def _is_link_bar(tag: Tag) -> bool:
    links = tag.find_all("a")
    if not links:
        return False
    text = tag.get_text(" ", strip=True)
    link_text = [a.get_text(" ", strip=True) for a in links]
    if tag.name in ("ul", "ol") and len(links) >= 2:
        items = tag.find_all("li", recursive=False)
        same_page = all(str(a.get("href", "")).startswith("#") for a in links)
        if items and same_page and all(len(li.find_all("a")) == 1 for li in items):
            return True
    rest = text
    for piece in link_text:
        rest = rest.replace(piece, "", 1)
    return len(links) >= 2 and not any(ch.isalnum() for ch in rest)


def main_content_blocks(page_html: str) -> list[str]:
    """The page's main-content text, one string per block (see the module docstring)."""
    soup = BeautifulSoup(page_html, "lxml")
    root = soup.find("main") or soup.find(attrs={"role": "main"}) or soup.body or soup
    revealed = set()
    for control in soup.find_all(True):
        for attr in ("aria-controls", "data-bs-target", "data-target"):
            value = control.get(attr)
            if isinstance(value, str):
                revealed.update(v.lstrip("#") for v in value.split())
    doomed = []
    for tag in root.find_all(True):
        hidden = tag.has_attr("hidden") or bool(_HIDDEN.search(str(tag.get("style", ""))))
        if (
            tag.name in _UI_TAGS
            or (tag.name == "button" and not any(tag.has_attr(a) for a in _IS_TOGGLE))
            or tag.name in ("input", "textarea")
            or _is_furniture(tag)
            or (hidden and tag.get("id") not in revealed)
            or (tag.name in ("ul", "ol", "div", "p") and _is_link_bar(tag))
        ):
            doomed.append(tag)
    for tag in doomed:
        if not tag.decomposed:
            tag.decompose()
    blocks: list[str] = []
    current: list[str] = []

    def walk(node: Tag) -> Iterator[None]:
        for child in node.children:
            if isinstance(child, Comment | Doctype | ProcessingInstruction):
                continue
            if isinstance(child, NavigableString):
                current.append(str(child))
            elif isinstance(child, Tag):
                if child.name in _BLOCKS:
                    blocks.append(" ".join(current))
                    current.clear()
                yield from walk(child)
                if child.name in _BLOCKS:
                    blocks.append(" ".join(current))
                    current.clear()
        yield None

    for _ in walk(root):
        pass
    blocks.append(" ".join(current))
    cleaned = [" ".join(_LABEL.sub(" ", b).split()) for b in blocks]
    return [b for b in cleaned if b and not _STOCK_PHRASES.match(b)]


def _words(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


def _grams(words: list[str]) -> list[tuple[str, ...]]:
    n = min(3, len(words))
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)] if n else []


def _record_words(record: ExtractedFaq) -> list[str]:
    """A record's words: heading path, question and answer in order, as one sequence (a
    block holding title and answer together matches across the seam). Markdown syntax and
    escapes go; link targets are not text on the page."""
    answer = html.unescape(_MD_ESCAPE.sub(r"\1", _MD_LINK_TARGET.sub("]", record.answer)))
    return [w for t in (*record.heading_path, record.question, answer) for w in _words(t)]


def coverage(
    page_html: str, url: str, records: list[ExtractedFaq] | None = None
) -> tuple[float, list[str]]:
    """(share of main-content trigrams found in the records, the blocks least covered).
    records: what extraction produced (extract_page's records unless given). Each trigram of
    the records covers one occurrence on the page: a phrase the page says twice must be kept
    twice."""
    if records is None:
        records = extract_page(page_html, url).records
    found: Counter[tuple[str, ...]] = Counter()
    for record in records:
        words = _record_words(record)
        for n in (1, 2, 3):
            found.update(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    total = hit = 0
    misses: list[tuple[int, str]] = []
    for block in main_content_blocks(page_html):
        grams = _grams(_words(block))
        covered = 0
        for gram in grams:
            if found[gram] > 0:
                found[gram] -= 1
                covered += 1
        total += len(grams)
        hit += covered
        if covered < len(grams):
            misses.append((len(grams) - covered, block[:100]))
    misses.sort(reverse=True)
    return (hit / total if total else 1.0), [m[1] for m in misses[:5]]


def _fixture_pages() -> list[tuple[str, str, str]]:
    pages = []
    for spec in sorted(FIXTURES.glob("*.expected.json")):
        expected = json.loads(spec.read_text(encoding="utf-8"))
        name = spec.name.removesuffix(".expected.json")
        html = (FIXTURES / f"{name}.html").read_bytes().decode(expected.get("encoding", "utf-8"))
        pages.append((f"fixture:{name}", html, expected["url"]))
    for path in sorted(DEMO.rglob("*.html")):
        relative = path.relative_to(DEMO).as_posix()
        pages.append(
            (f"demo:{relative}", path.read_text(encoding="utf-8"), f"http://demo/{relative}")
        )
    return pages


PAGES = _fixture_pages()


def test_the_corpus_is_all_there() -> None:
    names = {name for name, _, _ in PAGES}
    assert sum(n.startswith("fixture:") for n in names) >= 28
    assert sum(n.startswith("demo:") for n in names) >= 9


@pytest.mark.parametrize(("name", "html", "url"), PAGES, ids=[p[0] for p in PAGES])
def test_records_cover_the_main_content(name: str, html: str, url: str) -> None:
    share, least_covered = coverage(html, url)
    assert share >= MIN_COVERAGE, f"{name}: {share:.1%} covered; missing e.g. {least_covered}"


def test_the_measure_notices_a_dropped_entry() -> None:
    """The coverage measure itself fails a page whose records lost one entry in twelve."""
    topics = [
        "parcel", "refund", "voucher", "warranty", "invoice", "account",
        "delivery", "exchange", "payment", "discount", "repair", "stock",
    ]  # fmt: skip
    entries = "".join(
        f"<h3>About the {t}</h3><p>The {t} rules are explained here for every {t} holder.</p>"
        for t in topics
    )
    page_html = f"<main><h1>Help</h1><div class='faq'>{entries}</div></main>"
    records = extract_page(page_html, "").records
    assert len([r for r in records if r.kind == "faq"]) == 12
    assert coverage(page_html, "", records)[0] >= MIN_COVERAGE
    assert coverage(page_html, "", records[:5] + records[6:])[0] < MIN_COVERAGE


# --- generated FAQ pages: every entry survives, whatever its title and markup -----------------

QUESTIONS = [
    "How can I change my delivery address?",
    "Can I pay by bank transfer?",
    "What happens if my parcel is lost?",
    "如何修改收货地址？",
    "可以开发票吗？",
]
STATEMENTS = [
    "Order tracking",
    "Returns policy",
    "Talk to our team",
    "I want to cancel my order",
    "Find out which items are still in stock",
    "退货政策",
    "联系客服",
]
ANSWERS = [
    "Email us your order number and we update it before dispatch.",
    "Every parcel gets a tracking link by text message on the day it leaves.",
    "Unused items can be returned within sixty days for a full refund.",
    "订单发货前可以在我的订单中修改地址。",
    "在线客服每天早上九点到晚上九点为您服务。",
]


def _entry(markup: str, level: int, title: str, answer: str, index: int) -> str:
    if markup == "heading":
        return f"<h{level} class='q'>{title}</h{level}><p>{answer}</p>"
    if markup == "section":
        return f"<section class='item'><h{level}>{title}</h{level}><div class='body'><p>{answer}</p></div></section>"
    if markup == "details":
        return f"<details><summary>{title}</summary><p>{answer}</p></details>"
    if markup == "accordion":
        return (
            f"<h{level}><button aria-controls='panel{index}' aria-expanded='false'>{title}"
            f"</button></h{level}><div id='panel{index}' hidden><p>{answer}</p></div>"
        )
    return f"<dt>{title}</dt><dd>{answer}</dd>"  # dl


@st.composite
def faq_pages(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    markup = draw(st.sampled_from(["heading", "section", "details", "accordion", "dl"]))
    level = draw(st.integers(min_value=2, max_value=4))
    titles = draw(
        st.lists(st.sampled_from(QUESTIONS + STATEMENTS), min_size=2, max_size=8, unique=True)
    )
    # At least one entry asks, so the statement-titled ones are known to be entries.
    titles[draw(st.integers(0, len(titles) - 1))] = draw(st.sampled_from(QUESTIONS))
    titles = list(dict.fromkeys(titles))
    if len(titles) < 2:
        titles.append(draw(st.sampled_from([s for s in STATEMENTS if s not in titles])))
    entries = [(t, draw(st.sampled_from(ANSWERS)) + f" ({i})") for i, t in enumerate(titles)]
    body = "".join(_entry(markup, level, t, a, i) for i, (t, a) in enumerate(entries))
    if markup == "dl":
        body = f"<dl>{body}</dl>"
    intro = draw(st.sampled_from(["", "<p>Answers to the questions we hear most.</p>"]))
    html = f"<html><body><main><h1>Help centre</h1>{intro}<div class='list'>{body}</div></main></body></html>"
    return html, entries


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(faq_pages())
def test_every_entry_of_a_generated_page_becomes_a_faq(
    page: tuple[str, list[tuple[str, str]]],
) -> None:
    html, entries = page
    result = extract_page(html, "https://shop.example/help")
    faqs = {r.question: r.answer for r in result.records if r.kind == "faq"}
    for title, answer in entries:
        assert title in faqs, f"{title!r} dropped: {[r.question for r in result.records]}"
        assert faqs[title] == answer
    share, missing = coverage(html, "https://shop.example/help")
    assert share >= MIN_COVERAGE, missing
