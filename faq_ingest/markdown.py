"""Safe HTML -> Markdown for FAQ answers.

Answers end up in chat bubbles and LLM prompts, so the output must never carry anything a
Markdown renderer could turn into executable content: no raw tags, no script-ish URLs, no
embedded frames. Links, lists, emphasis and code survive because they are the useful part of
a help-centre answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from types import SimpleNamespace
from urllib.parse import quote, urljoin, urlsplit

from bs4 import BeautifulSoup, NavigableString, PageElement, Tag
from bs4.element import Comment, Doctype
from markdownify import (
    ATX,
    MarkdownConverter,
    re_all_whitespace,
    re_extract_newlines,
    re_html_heading,
    should_remove_whitespace_inside,
)

__all__ = ["html_to_safe_markdown", "nodes_to_safe_markdown", "safe_url", "sanitise_markdown"]

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})

# Everything that is executable, interactive or an embedding vanishes with its content.
DROPPED_TAGS = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "applet",
        "form", "button", "select", "option", "textarea", "label", "noscript", "template",
        "svg", "math", "canvas", "audio", "video", "portal", "dialog", "head", "title",
    }
)  # fmt: skip
# Void elements are dropped too, but libxml2 sometimes nests the rest of the page inside them
# (an unclosed <embed> swallows its following siblings), so their "children" are kept.
DROPPED_VOID_TAGS = frozenset({"embed", "input", "source", "track", "link", "meta", "base"})
# Permalink decorations ("¶", "#") add noise to every heading in Sphinx/MkDocs/Docusaurus.
PERMALINK_CLASSES = frozenset({"headerlink", "hash-link", "anchor-link", "anchorjs-link"})

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
# A "<" that a renderer could read as the start of a tag, comment or autolink.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_LINK_OPENER = re.compile(r"\]\(")
_BLANK_RUNS = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_BACKTICK_RUN = re.compile(r"`{3,}")


def safe_url(href: str | None, base_url: str = "") -> str:
    """Absolute http/https/mailto URL for href, or "" when it is unsafe or unresolvable."""
    if not href:
        return ""
    # Browsers trim C0 controls and spaces and drop tabs/newlines anywhere, so
    # " java\tscript:" is javascript:. Do the same before looking at the scheme.
    href = _CONTROL.sub("", href.strip("".join(map(chr, range(0x21)))))
    if not href:
        return ""
    try:
        scheme = urlsplit(href).scheme.lower()
        if not scheme:
            if not base_url:
                return ""
            href = urljoin(base_url, href)
            scheme = urlsplit(href).scheme.lower()
    except ValueError:
        return ""
    if scheme not in SAFE_SCHEMES:
        return ""
    # Parentheses and angle brackets would end or confuse the Markdown link destination.
    return quote(href, safe="/:?#[]@!$&'*+,;=%~.-_")


@lru_cache(maxsize=1024)
def _is_heading_name(name: str) -> bool:
    return re_html_heading.match(name) is not None


@lru_cache(maxsize=1024)
def _is_block_name(name: str) -> bool:
    # markdownify's own list, asked once per tag name rather than once per sibling test.
    return bool(should_remove_whitespace_inside(SimpleNamespace(name=name)))


def _removes_inside(el: PageElement | None) -> bool:
    """markdownify's should_remove_whitespace_inside (a Tag is always truthy; strings have no
    name)."""
    return isinstance(el, Tag) and _is_block_name(el.name)


def _removes_outside(el: PageElement | None) -> bool:
    """markdownify's should_remove_whitespace_outside, as a bool."""
    return isinstance(el, Tag) and (el.name == "pre" or _is_block_name(el.name))


def _inside_pre(node: Tag) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.name == "pre":
            return True
        parent = parent.parent
    return False


class _SafeConverter(MarkdownConverter):
    def __init__(self, base_url: str) -> None:
        # wrap=True with no width: source newlines collapse to spaces, <br> still breaks lines.
        super().__init__(
            heading_style=ATX,
            bullets="-",
            autolinks=False,
            strip_document="strip",
            wrap=True,
            wrap_width=None,
        )
        self.base_url = base_url

    def process_tag(self, node: Tag, parent_tags: set[str] | None = None) -> str:  # type: ignore[override]
        name = node.name
        if name in DROPPED_TAGS:
            return ""
        if name in DROPPED_VOID_TAGS:
            return "".join(self.process_element(child, parent_tags) for child in node.children)
        if name == "a" and PERMALINK_CLASSES.intersection(node.attrs.get("class") or ()):
            return ""
        return self._convert_tag(node, parent_tags if parent_tags is not None else set())

    def _convert_tag(self, node: Tag, parent_tags: set[str]) -> str:
        """markdownify 1.2.3's process_tag, minus its per-tag `node.find_parent("pre")`: that
        bs4 search built a filter object for every element and was a third of the cost of
        converting an answer. The ancestor walk below answers the same question, and only
        when there are several child strings whose boundaries could be collapsed."""
        name = node.name
        remove_inside = _removes_inside(node)
        children: list[PageElement] = []
        for el in node.contents:
            # markdownify's _can_ignore, with its block-element tests on names, not regexes.
            if isinstance(el, Tag):
                children.append(el)
            elif isinstance(el, Comment | Doctype):
                continue
            elif isinstance(el, NavigableString) and not el.strip():
                previous, following = el.previous_sibling, el.next_sibling
                if remove_inside and (not previous or not following):
                    continue
                if _removes_outside(previous) or _removes_outside(following):
                    continue
                children.append(el)
            else:
                children.append(el)
        child_tags = set(parent_tags)
        child_tags.add(name)
        if _is_heading_name(name) or name in ("td", "th"):
            child_tags.add("_inline")
        if name in ("pre", "code", "kbd", "samp"):
            child_tags.add("_noformat")
        strings: list[str] = []
        for el in children:
            text = (
                self.process_text(el, child_tags)
                if isinstance(el, NavigableString)
                else self.process_tag(el, child_tags)
            )
            if text:
                strings.append(text)
        # Collapsing newlines at child boundaries cannot change a single child's text.
        if len(strings) > 1 and not (name == "pre" or _inside_pre(node)):
            collapsed = [""]
            for text in strings:
                if text[0] != "\n" and text[-1] != "\n":
                    collapsed.extend(("", text, ""))  # what re_extract_newlines would split
                    continue
                leading, content, trailing = re_extract_newlines.match(text).groups()
                if collapsed[-1] and leading:
                    previous_text = collapsed.pop()
                    leading = "\n" * min(2, max(len(previous_text), len(leading)))
                collapsed.extend((leading, content, trailing))
            strings = collapsed
        text = "".join(strings)
        convert = self.get_conv_fn_cached(name)
        return convert(node, text, parent_tags=parent_tags) if convert is not None else text

    def process_text(self, el: NavigableString, parent_tags: set[str] | None = None) -> str:  # type: ignore[override]
        """markdownify 1.2.3's process_text for this converter's options (wrap=True), with
        its block-element tests on names rather than a regex per sibling."""
        if parent_tags is None:
            parent_tags = set()
        text = str(el) or ""
        if "pre" not in parent_tags:
            text = re_all_whitespace.sub(" ", text)
        if "_noformat" not in parent_tags:
            text = self.escape(text, parent_tags)
        previous, following = el.previous_sibling, el.next_sibling
        if _removes_outside(previous) or (not previous and _removes_inside(el.parent)):
            text = text.lstrip(" \t\r\n")
        if _removes_outside(following) or (not following and _removes_inside(el.parent)):
            text = text.rstrip()
        return text

    def escape(self, text: str, parent_tags: set[str]) -> str:  # type: ignore[override]
        text = super().escape(text, parent_tags)
        # "&lt;" rather than a backslash escape: still literal in Markdown, and inert even if a
        # consumer pastes the answer into HTML without rendering it.
        if "<" in text:
            text = _TAG_START.sub("&lt;", text)
        # Literal "[x](javascript:...)" in page text must not become a link once rendered.
        return _LINK_OPENER.sub(r"]\\(", text) if "](" in text else text

    def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:  # type: ignore[override]
        if "_noformat" in parent_tags:
            return text
        href = safe_url(el.get("href"), self.base_url)
        stripped = text.strip()
        if not stripped:
            return ""
        if not href:
            return text
        prefix = " " if text[:1] == " " else ""
        suffix = " " if text[-1:] == " " else ""
        return f"{prefix}[{stripped}]({href}){suffix}"

    def convert_img(self, el: Tag, text: str, parent_tags: set[str]) -> str:  # type: ignore[override]
        alt = (el.get("alt") or "").replace("]", "").replace("[", "")
        src = safe_url(el.get("src"), self.base_url)
        if not src or src.startswith("mailto:") or "_inline" in parent_tags:
            return alt
        return f"![{alt}]({src})"

    def convert_pre(self, el: Tag, text: str, parent_tags: set[str]) -> str:  # type: ignore[override]
        # A fence longer than any backtick run inside keeps the code from closing it early.
        longest = max((len(m) for m in _BACKTICK_RUN.findall(text)), default=2)
        fence = "`" * max(3, longest + 1)
        body = text.strip("\n")
        return f"\n\n{fence}\n{body}\n{fence}\n\n" if body.strip() else ""


def _tidy(markdown: str) -> str:
    markdown = markdown.replace("\r\n", "\n").replace("\u00a0", " ")
    markdown = _TRAILING_SPACE.sub("\n", markdown)
    markdown = _BLANK_RUNS.sub("\n\n", markdown)
    # Whitespace left between dropped elements would indent a paragraph, which Markdown reads
    # as a code block. Only paragraph starts are touched: list nesting and code keep indents.
    lines = markdown.strip().split("\n")
    in_fence = False
    for index, line in enumerate(lines):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if not in_fence and (index == 0 or not lines[index - 1].strip()):
            lines[index] = line.lstrip()
    return "\n".join(lines).strip()


@lru_cache(maxsize=64)
def _converter(base_url: str) -> _SafeConverter:
    # Converters hold only options and a per-tag function cache, so one per base URL can be
    # shared; building one (markdownify merges its option classes each time) cost as much as
    # converting a short answer.
    return _SafeConverter(base_url)


def nodes_to_safe_markdown(nodes: Iterable[Tag | NavigableString], base_url: str = "") -> str:
    """Convert a run of sibling nodes (an answer that has no single wrapper) to safe Markdown."""
    nodes = list(nodes)
    converter = _converter(base_url)
    parts: list[str] = []
    try:
        for node in nodes:
            if isinstance(node, Tag):
                parts.append(converter.process_tag(node, parent_tags=set()))
            elif isinstance(node, NavigableString) and type(node) is NavigableString:
                parts.append(converter.process_text(node, parent_tags=set()))
    except RecursionError:
        # markdownify recurses per nesting level; absurdly deep answers degrade to plain text.
        return _plain_text(nodes)
    return _tidy("".join(parts))


def _plain_text(nodes: list[Tag | NavigableString]) -> str:
    words: list[str] = []
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        if isinstance(node, Tag):
            if node.name not in DROPPED_TAGS:
                stack.extend(reversed(node.contents))
        elif type(node) is NavigableString:
            words.append(str(node))
    text = " ".join(" ".join(words).split())
    return _LINK_OPENER.sub(r"]\\(", _TAG_START.sub("&lt;", text))


def html_to_safe_markdown(fragment: Tag | str, base_url: str = "") -> str:
    """Convert an answer's HTML to Markdown keeping links (made absolute against base_url; only
    http/https/mailto kept), lists, emphasis and code; drop script/style/iframe/forms/event
    handlers/javascript: URLs; collapse whitespace."""
    if isinstance(fragment, str):
        if not fragment.strip():
            return ""
        if "<" not in fragment and "&" not in fragment:
            return sanitise_markdown(fragment, base_url)
        soup = BeautifulSoup(fragment, "lxml")
        root: Tag = soup.body or soup
        return nodes_to_safe_markdown(root.contents, base_url)
    return nodes_to_safe_markdown([fragment], base_url)


_MD_LINK = re.compile(
    r"(!?)\[([^\]\n]*)\]\(\s*<?((?:[^()\s>]|\([^()\s]*\))*)>?(?:\s+\"[^\"\n]*\")?\s*\)"
)
_MD_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]*:[^>\s]*)>")


def sanitise_markdown(text: str, base_url: str = "") -> str:
    """Make author-written Markdown (e.g. from a hidden block) as safe as converted HTML:
    unsafe link targets are reduced to their text and raw HTML tags are escaped."""

    def _link(match: re.Match[str]) -> str:
        bang, label, target = match.groups()
        url = safe_url(target, base_url)
        if not url or (bang and url.startswith("mailto:")):
            return label
        return f"{bang}[{label}]({url})"

    def _autolink(match: re.Match[str]) -> str:
        url = safe_url(match.group(1), base_url)
        return f"<{url}>" if url else match.group(1).replace(":", "\\:", 1)

    text = _MD_LINK.sub(_link, text)
    text = _MD_AUTOLINK.sub(_autolink, text)
    # Any tag-like "<" left is raw HTML; escape it so renderers show it as text.
    text = re.sub(r"<(?=[A-Za-z/!?])(?!https?:|mailto:)", "&lt;", text)
    return _tidy(text)
