"""Text helpers shared by the extractors: visible text of a node, question detection, identity."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bs4 import NavigableString, PageElement, Tag
from bs4.element import PreformattedString, Script, Stylesheet

from faq_ingest.markdown import PERMALINK_CLASSES

# Tags whose boundaries separate words even when the HTML has no whitespace between them.
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
MAX_QUESTION_CHARS = 300

_WS = re.compile(r"\s+")
_UNREAD_STRINGS = (PreformattedString, Script, Stylesheet)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([?？!！.,;:，。；：、)）\]])")
# Zero-width characters and permalink glyphs that doc generators put into headings.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\u00ad]")
_TRAILING_PERMALINK = re.compile(r"\s*[¶#§🔗]+\s*$")

# "Q:", "Q1.", "Q：", "问：", "問:", "问题1：" style prefixes on questions.
QUESTION_PREFIX = re.compile(
    r"^\s*(?:(?:Q|Question)\s*\d{0,3}\s*[:：.、)）]|(?:问题|問題|问|問)\s*\d{0,3}\s*(?:[:：.、]|\s))\s*",
    re.IGNORECASE,
)
# "A:", "A1.", "答：", "回答：", "Answer:" prefixes on answers.
ANSWER_PREFIX = re.compile(
    r"^\s*(?:(?:A|Answer)\s*\d{0,3}\s*[:：.、)）]|(?:回答|答复|答覆|答)\s*\d{0,3}\s*(?:[:：.、]|\s))\s*",
    re.IGNORECASE,
)
# The same answer labels as Markdown renders them: "**答：**", "**A**:", "__Answer:__", "*A:*".
_MARKDOWN_ANSWER_LABEL = re.compile(
    r"^\s*(?P<o>\*\*|__|\*|_)?\s*(?:A|Answer|答|回答|答复|答覆|解答)\s*\d{0,3}\s*"
    r"(?:(?(o)(?P=o))\s*[:：]|[:：]\s*(?(o)(?P=o)))\s*",
    re.IGNORECASE,
)
_LEADING_SYMBOLS = re.compile(r"^[^\w¿¡\"'“‘(（\[【「『]+")
_ENUMERATOR = re.compile(r"^\s*\d{1,3}\s*[.)、．]\s+")

INTERROGATIVES = frozenset(
    {
        "how", "what", "why", "can", "could", "do", "does", "did", "is", "are", "was", "were",
        "where", "when", "which", "who", "whom", "whose", "should", "will", "would", "may",
        "might", "shall", "has", "have", "am", "isn't", "aren't", "can't", "don't", "doesn't",
        "what's", "how's", "where's", "who's", "when's", "why's",
    }
)  # fmt: skip
# Section titles that open with an interrogative without asking anything.
_NOT_QUESTIONS = re.compile(
    r"^(what'?s new|what is new|what'?s next|how it works|who we are|what we do|how we work)\b",
    re.IGNORECASE,
)
_CJK_QUESTION_START = re.compile(
    r"^(如何|怎么|怎样|怎麼|怎樣|为什么|為什麼|为何|為何|什么|什麼|是否|能否|可否|可以|能不能|哪|谁|誰)"
)
_CJK_QUESTION_END = re.compile(r"(吗|嗎|呢)$")
_FIRST_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
# A word of Latin-like text, or one Han character (Chinese has no spaces to count by).
# "3.4.1", "e-mail" and "24/7" are one word each.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD_OR_HAN = re.compile(rf"[{_HAN}]|[^\W_{_HAN}]+(?:[.,:/'’-][^\W_{_HAN}]+)*")


# Whole blocks of help-center boilerplate, in the words the common platforms use.
_BOILERPLATE_TEXT = re.compile(
    r"^(?:was this (?:article|page|answer|information) (?:helpful|useful)"
    r"|did this (?:article|answer|page) (?:help|answer)|is this (?:page|article) helpful"
    r"|(?:\d+ )?(?:out of \d+ )?(?:people )?found this (?:helpful|useful)"
    r"|last updated|updated (?:on )?\d|print(?: this page)?$|share(?: this)?(?: article| page)?:?$"
    r"|have more questions\?? submit a request$"
    r"|written by [^.!?]{1,60}$|updated (?:over |about |almost )?(?:a |an |\d+ )"
    r"(?:minute|hour|day|week|month|year)s? ago$"
    r"|(?:back|return) to top|这篇文章(?:对您)?(?:有帮助|是否有帮助)|這篇文章(?:對您)?(?:有幫助|是否有幫助)"
    r"|本文(?:是否)?有帮助|此文章是否有帮助|返回顶部|回到顶部|回到頂部)",
    re.IGNORECASE,
)
_MAX_BOILERPLATE_TEXT = 160


def is_boilerplate_text(text: str) -> bool:
    """A whole block of help-center widget text ("Was this article helpful?")."""
    return bool(text) and len(text) <= _MAX_BOILERPLATE_TEXT and bool(_BOILERPLATE_TEXT.match(text))


# clean_question, looks_like_question and normalise_question are pure and see the same few
# strings many times per page (extractors probe, merging and heading paths re-key them).


_NOT_ALNUM = re.compile(r"[\W_]+")


def fingerprint(text: str) -> str:
    """Letters and digits only, casefolded: text compared regardless of markup and spacing."""
    return _NOT_ALNUM.sub("", text.casefold())


def count_words(text: str) -> int:
    return len(_WORD_OR_HAN.findall(text))


def collapse_whitespace(text: str) -> str:
    return _WS.sub(" ", _INVISIBLE.sub("", text)).strip()


def node_text(node: Tag | NavigableString, include_templates: bool = True) -> str:
    """Visible-ish text of a node with words at block boundaries kept apart.

    Hidden panels count (collapsed accordions are hidden until clicked) but script, style,
    comments and permalink glyphs do not.
    """
    if isinstance(node, NavigableString):
        if isinstance(node, _UNREAD_STRINGS):
            return ""
        return collapse_whitespace(str(node))
    # An explicit stack rather than dom.walk(): this runs for every candidate element and the
    # generator's per-node overhead was most of its cost. Same pre-order as walk().
    parts: list[str] = []
    stack: list[PageElement] = node.contents[::-1]
    while stack:
        item = stack.pop()
        if isinstance(item, Tag):
            if item.name in BLOCK_TAGS:
                parts.append(" ")
            if item.contents:
                stack.extend(item.contents[::-1])
            continue
        if type(item) is not NavigableString and isinstance(item, _UNREAD_STRINGS):
            continue
        parent = item.parent
        if parent is not None:
            if parent.name == "a" and PERMALINK_CLASSES.intersection(parent.get("class") or ()):
                continue
            if not include_templates and parent.name == "template":
                continue
        parts.append(item)
    text = collapse_whitespace("".join(parts))
    return _SPACE_BEFORE_PUNCT.sub(r"\1", text)


@lru_cache(maxsize=8192)
def clean_question(text: str) -> str:
    """Question text as stored: whitespace collapsed, Q-prefix/numbering/permalinks removed."""
    text = collapse_whitespace(text)
    text = _TRAILING_PERMALINK.sub("", text)
    text = QUESTION_PREFIX.sub("", text, count=1)
    text = _ENUMERATOR.sub("", text, count=1)
    # Expander glyphs ("+", "▸", "›") rendered before the question text.
    text = _LEADING_SYMBOLS.sub("", text)
    return text.strip(" :：-–—")


def strip_answer_prefix(text: str) -> str:
    return ANSWER_PREFIX.sub("", text, count=1)


def strip_answer_label(markdown: str) -> str:
    """An answer's Markdown without the "A:"/"答：" label that marks it, bold or not."""
    stripped = _MARKDOWN_ANSWER_LABEL.sub("", markdown, count=1)
    return stripped if stripped.strip() else markdown


def has_question_prefix(text: str) -> bool:
    return bool(QUESTION_PREFIX.match(text))


def has_answer_prefix(text: str) -> bool:
    return bool(ANSWER_PREFIX.match(text))


@lru_cache(maxsize=8192)
def looks_like_question(text: str) -> bool:
    """True for text that asks something: ends with ?/？, opens with an interrogative, or
    carries a Q-prefix. Plain section titles ("Shipping", "Getting started") are not."""
    raw = collapse_whitespace(text).replace("’", "'")
    if not raw or len(raw) > MAX_QUESTION_CHARS:
        return False
    if has_question_prefix(raw):
        return True
    cleaned = clean_question(raw)
    if not cleaned:
        return False
    if cleaned.rstrip(" )）\"'”」").endswith(("?", "？")):
        return True
    if _NOT_QUESTIONS.match(cleaned):
        return False
    first = _FIRST_WORD.match(cleaned)
    if first and first.group(0).lower() in INTERROGATIVES:
        return len(cleaned.split()) >= 3
    return bool(_CJK_QUESTION_START.match(cleaned) or _CJK_QUESTION_END.search(cleaned))


@lru_cache(maxsize=8192)
def normalise_question(text: str) -> str:
    """Identity key for a question: casefolded, NFKC, punctuation/whitespace-insensitive.

    Used to merge duplicates on a page and as the stable FAQ identity across re-crawls."""
    text = unicodedata.normalize("NFKC", text or "")
    text = clean_question(text)
    return "".join(ch for ch in text.casefold() if ch.isalnum())
