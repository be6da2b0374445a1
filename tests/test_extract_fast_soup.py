"""parse_html builds the very tree BeautifulSoup(html, "lxml") builds: same nodes, classes,
strings, attributes and links, so every extractor sees the page exactly as before."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, PageElement, Tag, XMLParsedAsHTMLWarning
from bs4.builder._lxml import LXMLTreeBuilder
from hypothesis import given, settings
from hypothesis import strategies as st

from faq_ingest.extract.soup import parse_html

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "html"
LINKS = ("parent", "previous_element", "next_element", "previous_sibling", "next_sibling")

TRICKY = [
    "",
    " ",
    "plain text, no markup",
    "\ufeff<p>byte order mark</p>",
    "<!DOCTYPE html PUBLIC '-//W3C//DTD XHTML 1.0 Strict//EN' "
    "'http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd'><html><p>x",
    "<?xml version='1.0' encoding='utf-8'?><html><body><p>declared</p></body></html>",
    "<!-- lead --><pre>\n\n  kept  \n</pre> \n <textarea>  </textarea>\t\n<p> </p>",
    "<div class='a  b' rel='x y' id=' i '><a rel='nofollow  me' class=''>t</a></div>",
    "<meta charset='gbk'><meta http-equiv='Content-Type' content='text/html; charset=x'>",
    "<table><tr><td headers='a b'>x</td></tr></table><p>a<p>b<li>c</ul></b>",
    "<svg xmlns='http://www.w3.org/2000/svg'><rect x:y='1'/></svg><o:p>office</o:p>",
    "<template><p>t</p></template><ruby>漢<rt>kan</rt><rp>(</rp></ruby>",
    "<script>if (a<b) {}</script><style> </style><noscript><p>n</p></noscript>",
    "<![CDATA[x]]><p>&amp;&lt;&#x1F600;&nbsp;</p><?php echo 1 ?>",
    "<div hidden aria-hidden=true>x</div><input disabled><br/><br>",
    "<body><p>x</body><p>after body</p></html><p>after html",
    "<pre><pre>nested</pre> tail </pre><textarea><b>raw</b></textarea>",
]


def _chain(soup: BeautifulSoup) -> list[PageElement]:
    nodes: list[PageElement] = [soup]
    node = soup.contents[0] if soup.contents else None
    while node is not None:
        nodes.append(node)
        node = node.next_element
    return nodes


def assert_same_tree(html: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        expected = BeautifulSoup(html, "lxml")
    actual = parse_html(html)
    want, got = _chain(expected), _chain(actual)
    assert len(got) == len(want)
    want_at = {id(n): i for i, n in enumerate(want)}
    got_at = {id(n): i for i, n in enumerate(got)}

    def where(node: object, index: dict[int, int]) -> int | None:
        return None if node is None else index[id(node)]

    assert [where(c, got_at) for c in actual.contents] == [
        where(c, want_at) for c in expected.contents
    ]
    for w, g in zip(want[1:], got[1:], strict=True):
        assert type(g) is type(w)
        if not isinstance(w, Tag):
            assert str(g) == str(w)
        w_vars, g_vars = vars(w), vars(g)
        assert g_vars.keys() == w_vars.keys()
        for key, value in w_vars.items():
            if key in LINKS:
                assert where(g_vars[key], got_at) == where(value, want_at), key
            elif key == "contents":
                assert [where(c, got_at) for c in g_vars[key]] == [where(c, want_at) for c in value]
            elif key == "attrs":
                assert type(g_vars[key]) is type(value)
                assert list(g_vars[key].items()) == list(value.items())
                assert [type(v) for v in g_vars[key].values()] == [type(v) for v in value.values()]
            else:
                assert g_vars[key] == value, key


def _fixture_pages() -> list[tuple[str, str]]:
    pages = []
    for spec in sorted(FIXTURES.glob("*.expected.json")):
        encoding = json.loads(spec.read_text(encoding="utf-8")).get("encoding", "utf-8")
        page = spec.with_name(spec.name.removesuffix(".expected.json") + ".html")
        pages.append((page.name, page.read_bytes().decode(encoding)))
    for page in sorted((ROOT / "faq_ingest" / "demo_site").rglob("*.html")):
        pages.append((page.name, page.read_text(encoding="utf-8")))
    return pages


@pytest.mark.parametrize(("name", "html"), _fixture_pages(), ids=lambda v: str(v)[:30])
def test_fixture_and_demo_pages_build_identical_trees(name: str, html: str) -> None:
    assert_same_tree(html)


@pytest.mark.parametrize("html", TRICKY)
def test_tricky_markup_builds_identical_trees(html: str) -> None:
    assert_same_tree(html)


def test_namespaced_names_fall_back_to_beautifulsoup(monkeypatch: pytest.MonkeyPatch) -> None:
    # lxml reports an attribute written "{uri}name" the way it reports namespaced names; bs4
    # turns those into NamespacedAttribute objects, which the fast builder leaves to bs4.
    slow_feeds = []
    original = LXMLTreeBuilder.feed

    def spy(self: LXMLTreeBuilder, markup: str | bytes) -> None:
        slow_feeds.append(markup)
        original(self, markup)

    monkeypatch.setattr(LXMLTreeBuilder, "feed", spy)
    html = "<p {urn:x}lang='en'>text</p>"
    assert_same_tree(html)
    assert parse_html(html).p.get_text() == "text"
    assert slow_feeds  # bs4's own builder produced the tree


_NAMES = st.sampled_from(
    ["p", "div", "span", "a", "b", "ul", "li", "pre", "textarea", "script", "style", "template",
     "h2", "dl", "dt", "dd", "details", "summary", "br", "table", "td", "meta", "rt"]
)  # fmt: skip
_TEXT = st.sampled_from(["", " ", "\n", "  \n\t", "Q: why?", "a&amp;b", "<", "x  y", "問：嗎"])
_ATTRS = st.sampled_from(["", " class='faq  item'", " id=q1", " rel='a b'", " hidden", " style=x"])


@st.composite
def _markup(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        if depth < 4 and draw(st.booleans()):
            name = draw(_NAMES)
            inner = draw(_markup(depth + 1))
            close = draw(st.sampled_from([f"</{name}>", "", "</p>"]))
            parts.append(f"<{name}{draw(_ATTRS)}>{inner}{close}")
        else:
            parts.append(draw(_TEXT))
    return "".join(parts)


@settings(max_examples=150, deadline=None)
@given(_markup())
def test_random_markup_builds_identical_trees(html: str) -> None:
    assert_same_tree(html)
