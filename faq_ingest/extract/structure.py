"""Repeated structure: which FAQ-like elements on a page are entries of one list.

Help centers write each entry of a list with the same markup: the same heading tag and
class, wrapped the same way (a <section>, a <div class="item">), as siblings under one
container. An element that repeats its siblings' structure is an entry whatever its title
says ("Order tracking" next to "How do I change my address?"); reading the title as a
question only decides for an element with no such siblings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bs4 import Tag

from faq_ingest.extract.text import looks_like_question

# Classes that differ between otherwise identical entries: state, position, numbering,
# emphasis ("article-promoted"), BEM modifiers ("card--wide").
_VOLATILE_CLASS = re.compile(
    r"\d|--|^(?:active|open|opened|closed|show|shown|hide|hidden|collapsed|expanded|in|current"
    r"|selected|first|last|odd|even|new|top|is-[\w-]+|has-[\w-]+|js-[\w-]+)$"
    r"|(?:^|[-_])(?:promoted|featured|highlight(?:ed)?|pinned|sticky|popular)$",
    re.IGNORECASE,
)
# Wrappers that hold a whole page or article; climbing into them would make one "entry" of
# everything on the page.
_PAGE_WRAPPERS = frozenset({"html", "body", "main", "article", "[document]"})
# How far an entry's wrapper may be above its title (<li><div><h3>…).
MAX_WRAPPER_DEPTH = 4

# FAQ context: words a page, section title or container uses for a list of questions.
FAQ_WORDS = re.compile(
    r"\bfaqs?\b|frequently[\s-]+asked|\bquestions\b|\bq\s*&\s*a\b|常见问题|常見問題|问答|問答"
    r"|问与答|問與答|疑问|疑問|よくある(?:ご)?質問|자주\s*묻는",
    re.IGNORECASE,
)
_FAQ_TOKEN = re.compile(
    r"faq|question|(?<![a-z])q-?a(?![a-z])|accordion|collaps|toggle|article-?list|knowledge",
    re.IGNORECASE,
)

StructureKey = tuple[int, tuple[tuple[str, tuple[str, ...]], ...]]


def stable_classes(tag: Tag) -> tuple[str, ...]:
    """The class a list's entries share: the first one that is not a state or modifier.
    (Themes add modifiers after the base class: "article-list-item article-promoted".)"""
    classes = tag.attrs.get("class") or ()
    if isinstance(classes, str):
        classes = classes.split()
    base = next((c.lower() for c in classes if not _VOLATILE_CLASS.search(c)), None)
    return (base,) if base else ()


def structure_keys(elements: Sequence[Tag], rivals: Iterable[Tag] = ()) -> dict[int, StructureKey]:
    """For each element, (container, path) where path is the tag/class chain from the element
    up to its entry wrapper. Elements with equal keys are entries of one list.

    The wrapper is the highest ancestor (at most MAX_WRAPPER_DEPTH up) that holds no other
    element of `elements` or `rivals` (e.g. a higher-level heading): a <section> or
    <div class="item"> around one title and its answer. Its parent is the container.
    """
    counts: dict[int, int] = {}
    for element in (*elements, *rivals):
        node = element.parent
        for _ in range(MAX_WRAPPER_DEPTH + 1):
            if node is None:
                break
            counts[id(node)] = counts.get(id(node), 0) + 1
            node = node.parent
    keys: dict[int, StructureKey] = {}
    for element in elements:
        path = [(element.name, stable_classes(element))]
        unit = element
        for _ in range(MAX_WRAPPER_DEPTH):
            parent = unit.parent
            if (
                parent is None
                or parent.parent is None
                or parent.name in _PAGE_WRAPPERS
                or counts.get(id(parent), 0) != 1
            ):
                break
            unit = parent
            path.append((unit.name, stable_classes(unit)))
        container = unit.parent
        keys[id(element)] = (id(container) if container is not None else 0, tuple(path))
    return keys


def group_by_structure(elements: Sequence[Tag], rivals: Iterable[Tag] = ()) -> list[list[Tag]]:
    """elements split into lists of same-structure siblings, each in document order."""
    keys = structure_keys(elements, rivals)
    groups: dict[StructureKey, list[Tag]] = {}
    for element in elements:
        groups.setdefault(keys[id(element)], []).append(element)
    return list(groups.values())


def _tokens(tag: Tag) -> Iterable[str]:
    classes = tag.attrs.get("class") or ()
    yield from classes.split() if isinstance(classes, str) else classes
    ident = tag.attrs.get("id")
    if isinstance(ident, str):
        yield ident


def in_faq_container(element: Tag, memo: dict[int, bool] | None = None) -> bool:
    """True when element or an ancestor is named like a FAQ list (class or id). memo, kept
    per page, saves re-reading the same ancestors for every list."""
    memo = {} if memo is None else memo
    path: list[Tag] = []
    node: Tag | None = element
    verdict = False
    while node is not None:
        known = memo.get(id(node))
        if known is not None:
            verdict = known
            break
        if node.attrs and any(_FAQ_TOKEN.search(tok) for tok in _tokens(node)):
            verdict = True
            break
        path.append(node)
        node = node.parent
    for seen in path:
        memo[id(seen)] = verdict
    return verdict


def any_question(titles: Iterable[str]) -> bool:
    return any(looks_like_question(title) for title in titles)


def accept_group(titles: Sequence[str], faq_context: bool) -> bool:
    """Whether a list of same-structure siblings are all entries.

    One member asking a question makes its statement-titled siblings entries too. A list in
    which none asks is a list of entries only in a FAQ context (a FAQ page, section or
    container); elsewhere it is a document's sections and becomes passages.
    """
    if len(titles) < 2:
        return False
    return faq_context or any_question(titles)
