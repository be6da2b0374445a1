"""Tree walks that stay linear on pathological nesting.

bs4's find()/descendants first locate the subtree's last descendant, an O(subtree) step taken
on every call; inside per-element loops that turns a 5,000-deep page quadratic. These helpers
walk .contents directly and stop at the first match.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator

from bs4 import PageElement, Tag


def walk(tag: Tag) -> Iterator[PageElement]:
    """Every node below tag (elements and strings) in document order."""
    stack: list[PageElement] = list(reversed(tag.contents))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Tag) and node.contents:
            stack.extend(reversed(node.contents))


def all_tags(root: Tag) -> list[Tag]:
    """Every element below root in document order: find_all(True) without bs4's per-element
    filter machinery, which cost more than the walk itself."""
    if root.parent is not None:
        return [node for node in root.descendants if isinstance(node, Tag)]
    # A document (or detached) root: its last descendant ends the next_element chain.
    tags: list[Tag] = []
    node = root.contents[0] if root.contents else None
    while node is not None:
        if isinstance(node, Tag):
            tags.append(node)
        node = node.next_element
    return tags


def tags_below(tag: Tag, names: Collection[str] | None = None) -> Iterator[Tag]:
    for node in walk(tag):
        if isinstance(node, Tag) and (names is None or node.name in names):
            yield node


def first_below(
    tag: Tag, names: Collection[str] | None = None, match: Callable[[Tag], bool] | None = None
) -> Tag | None:
    for node in tags_below(tag, names):
        if match is None or match(node):
            return node
    return None


def has_class(tag: Tag, *names: str) -> bool:
    classes = tag.attrs.get("class") or ()
    if isinstance(classes, str):
        classes = classes.split()
    return any(name in classes for name in names)
