"""html_to_safe_markdown keeps useful formatting and nothing executable."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from faq_ingest.markdown import html_to_safe_markdown, safe_url, sanitise_markdown

BASE = "https://help.example/faq/billing"


def md(html: str, base: str = BASE) -> str:
    return html_to_safe_markdown(html, base)


def test_links_become_absolute_markdown_links() -> None:
    assert md('See <a href="../pricing#annual">pricing</a>.') == (
        "See [pricing](https://help.example/pricing#annual)."
    )
    assert md('<a href="#top">Top</a>') == "[Top](https://help.example/faq/billing#top)"
    assert md('<a href="mailto:help@help.example">mail</a>') == "[mail](mailto:help@help.example)"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "&#106;avascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "tel:+100",
    ],
)
def test_unsafe_link_schemes_keep_only_the_text(href: str) -> None:
    result = md(f'<p>Go <a href="{href}">there</a> now</p>')
    assert result == "Go there now"


def test_relative_links_without_base_are_dropped() -> None:
    assert md('<a href="/x">x</a>', base="") == "x"
    assert safe_url("/x") == ""
    assert safe_url("https://ok.example/a b(c)") == "https://ok.example/a%20b%28c%29"


def test_executable_and_embedded_content_is_removed() -> None:
    html = """<p>Hi<script>alert(1)</script><style>p{}</style></p>
    <iframe src="https://evil.example"></iframe><object data="x.swf"></object>
    <embed src="x.swf"><form><input value="pw"><button>Go</button></form>
    <svg onload="alert(1)"><text>svg</text></svg><template><p>tpl</p></template>
    <img src="x.png" onerror="alert(1)" alt="pic"><p onclick="alert(1)">Bye</p>"""
    result = md(html)
    assert result == "Hi\n\n![pic](https://help.example/faq/x.png)\n\nBye"


def test_images_with_unsafe_sources_keep_alt_text_only() -> None:
    assert md('<img src="javascript:alert(1)" alt="chart">') == "chart"
    assert md('<img src="data:image/png;base64,AAAA" alt="dot">') == "dot"


def test_lists_emphasis_and_code_survive() -> None:
    html = """<p><strong>Bold</strong>, <em>italic</em> and <code>x &lt; y</code>.</p>
    <ul><li>one</li><li>two <a href="https://a.example/">link</a></li></ul>
    <ol><li>first</li><li>second</li></ol><pre>line 1
line 2 ``` fence</pre>"""
    assert md(html) == (
        "**Bold**, *italic* and `x < y`.\n\n"
        "- one\n- two [link](https://a.example/)\n\n"
        "1. first\n2. second\n\n"
        "````\nline 1\nline 2 ``` fence\n````"
    )


def test_literal_markup_in_text_is_neutralised() -> None:
    result = md("<p>Type &lt;script&gt;alert(1)&lt;/script&gt; or [x](javascript:alert(1))</p>")
    assert "<script" not in result
    assert "](javascript" not in result
    assert result == "Type &lt;script>alert(1)&lt;/script> or [x]\\(javascript:alert(1))"


def test_whitespace_is_collapsed() -> None:
    html = "<div>\n\n  Lots   of\n\n\n  space  <br><br><br><p>para</p>\n\n\n<p>next</p></div>"
    result = md(html)
    assert "\n\n\n" not in result
    assert result.startswith("Lots of space")
    assert result.endswith("para\n\nnext")


def test_accepts_a_tag_and_does_not_mutate_it() -> None:
    soup = BeautifulSoup("<div id='a'><p>Keep <script>x()</script>me</p></div>", "lxml")
    before = str(soup)
    assert html_to_safe_markdown(soup.div, BASE) == "Keep me"
    assert str(soup) == before


def test_empty_inputs() -> None:
    assert md("") == ""
    assert md("   ") == ""
    assert md("<script>only()</script>") == ""


def test_sanitise_markdown_for_author_written_markdown() -> None:
    text = (
        "Read [docs](/docs) and [evil](javascript:alert(1)) and ![img](javascript:x) and "
        "<javascript:alert(1)> <https://ok.example/> <img src=x onerror=alert(1)>"
    )
    result = sanitise_markdown(text, "https://help.example/")
    assert "[docs](https://help.example/docs)" in result
    assert "javascript:" not in result.replace("javascript\\:", "")
    assert "<https://ok.example/>" in result
    assert "<img" not in result and "&lt;img" in result
