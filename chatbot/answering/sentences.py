"""Sentence boundaries in English and Chinese text, for whole texts and for a token stream.

A boundary is sentence-ending punctuation (. ! ? … and 。！？；) followed by space or a line
break (after Chinese punctuation, by anything), but not the dot of a decimal, a URL, an
email, an abbreviation ("e.g.", "Mr.", "No. 5"), an initial ("J. Smith") or a list number
("1. Sign in"). Citation markers written after the punctuation ("… refund. [1]") belong to
the sentence before them. A line break always ends a sentence: model output and FAQ
answers use lines for list items.

The streaming buffer releases a sentence only once the text after it proves the boundary
(a marker may still follow; an abbreviation decides by the next word's case), so the
caller can verify each released sentence before anyone sees it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ASCII_END = ".!?"
_CJK_END = "。！？；…"
_CLOSERS = "\"'”’)」』》】"
_MARKER = r"\[\s*\d{1,2}(?:\s*[,，、]\s*\d{1,2})*\s*\]"
# A citation marker as the prompt asks for it: [1], [1, 2], [1][2].
MARKER_RE = re.compile(_MARKER)
_MARKERS_AHEAD_RE = re.compile(rf"(?:[ \t]*{_MARKER})+")
# A marker while it is still being written: "[", "[1", "[1,".
_PARTIAL_MARKER_RE = re.compile(r"[ \t]*\[\s*(?:\d{1,2}(?:\s*[,，、]\s*(?:\d{1,2})?)*\s*)?")

# Never the end of a sentence: titles, "e.g.", "i.e.", "vs.", "approx. 3".
_ABBREV_ALWAYS = frozenset("mr mrs ms dr prof sr jr st vs e.g i.e eg ie cf approx ca incl".split())
# Not the end when a number follows: "No. 5", "p. 12", "ext. 204".
_ABBREV_BEFORE_NUMBER = frozenset("no nos p pp vol fig ref tel ext art sec ch".split())
# The end only when the next word starts with a capital or another script.
_ABBREV_MAYBE = frozenset(
    "etc inc ltd co corp llc a.m p.m u.s u.k e.u min mins max hrs est avg dept".split()
)
_WORD_BEFORE_RE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_LIST_NUMBER_RE = re.compile(r"(?:^|\n)[ \t]*(?:\d{1,3}|[A-Za-z])$")


@dataclass(frozen=True)
class Sentence:
    text: str  # as written, markers included, without surrounding space
    sep: str  # how it joins the sentence before: "" (first, or after Chinese), " " or "\n"


def _next_non_space(text: str, k: int) -> str | None:
    while k < len(text) and text[k] in " \t":
        k += 1
    return text[k] if k < len(text) else None


def _undecided_tail(tail: str) -> bool:
    """Only spaces, or a marker still being written: what follows may extend the sentence."""
    return tail.strip(" \t") == "" or _PARTIAL_MARKER_RE.fullmatch(tail) is not None


def _boundary_after(text: str, i: int, final: bool) -> int | None:
    """For punctuation at text[i]: where the sentence ends (exclusive, markers included),
    -1 when this is no boundary, None when the text so far cannot tell."""
    j = i + 1
    # A run of terminators ("?!", "...", "。。") and closing quotes stays with the sentence.
    while j < len(text) and text[j] in _ASCII_END + _CJK_END:
        j += 1
    while j < len(text) and text[j] in _CLOSERS:
        j += 1
    if j >= len(text):
        return j if final else None
    cjk = text[i] in _CJK_END or text[j - 1] in _CJK_END
    if not cjk and not text[j].isspace() and text[j] != "[":
        return -1  # "example.com", "4.95", "e.g.x", "?q=1"
    if text[i] == "." and not cjk and j == i + 1:
        before = text[:i]
        if _LIST_NUMBER_RE.search(before):
            return -1  # "1. Sign in": a list number
        m = _WORD_BEFORE_RE.search(before)
        word = m.group(1).lower() if m else ""
        nxt = _next_non_space(text, j)
        if word in _ABBREV_ALWAYS or (len(word) == 1 and word.upper() == before[-1]):
            return -1
        if word in _ABBREV_BEFORE_NUMBER or word in _ABBREV_MAYBE:
            if nxt is None:
                if not final:
                    return None
            elif nxt.isdigit() or (word in _ABBREV_MAYBE and nxt.islower()):
                return -1
    m = _MARKERS_AHEAD_RE.match(text, j)
    if m:
        j = m.end()
    if not final and _undecided_tail(text[j:]):
        return None
    return j


def _split(text: str, final: bool, prev_cjk: bool | None) -> tuple[list[Sentence], str]:
    """Complete sentences and the undecided rest. `prev_cjk`: None when nothing came
    before `text`, else whether the sentence before it ended in Chinese punctuation."""
    out: list[Sentence] = []
    start = 0
    i = 0

    def take(end: int) -> None:
        nonlocal prev_cjk
        chunk = text[start:end]
        piece = chunk.strip()
        if not piece:
            return
        gap = chunk[: len(chunk) - len(chunk.lstrip())]
        if prev_cjk is None:
            sep = ""
        elif "\n" in gap:
            sep = "\n"
        else:
            sep = "" if prev_cjk else " "
        out.append(Sentence(piece, sep))
        prev_cjk = _ends_cjk(piece)

    while i < len(text):
        ch = text[i]
        if ch == "\n":
            if text[start:i].strip():
                take(i)
                start = i  # the newline stays in the next sentence's gap
            i += 1
            continue
        if ch in _ASCII_END or ch in _CJK_END:
            end = _boundary_after(text, i, final)
            if end is None:
                break
            if end > 0:
                take(end)
                start = i = end
                continue
        i += 1
    if final:
        take(len(text))
        return out, ""
    return out, text[start:]


def _ends_cjk(piece: str) -> bool:
    body = MARKER_RE.sub("", piece).rstrip()
    return bool(body) and (body[-1] in _CJK_END or "\u4e00" <= body[-1] <= "\u9fff")


def split_sentences(text: str) -> list[Sentence]:
    """All sentences of a finished text (an FAQ answer, a whole draft)."""
    return _split(text, True, None)[0]


class SentenceBuffer:
    """Feed generated pieces; get back each sentence as soon as its end is certain."""

    def __init__(self) -> None:
        self._rest = ""
        self._prev_cjk: bool | None = None

    def feed(self, piece: str) -> list[Sentence]:
        self._rest += piece
        return self._take(final=False)

    def flush(self) -> list[Sentence]:
        """Generation ended: whatever is left is the last sentence."""
        return self._take(final=True)

    @property
    def pending(self) -> str:
        """Text received but not yet released as a sentence."""
        return self._rest

    def _take(self, final: bool) -> list[Sentence]:
        sentences, self._rest = _split(self._rest, final, self._prev_cjk)
        if sentences:
            self._prev_cjk = _ends_cjk(sentences[-1].text)
        return sentences


def strip_markers(text: str) -> str:
    """The sentence as the customer reads it: no [n] markers, no space before punctuation."""
    text = MARKER_RE.sub("", text)
    text = re.sub(r"\(\s*(?:see|ref\.?|reference|source)?\s*\)", "", text, flags=re.I)
    text = re.sub(r"[ \t]+([.,;:!?。，；：！？])", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text.strip()


def cited_numbers(text: str) -> list[int]:
    """1-based reference numbers named by the text's markers, in order, without repeats."""
    out: list[int] = []
    for m in MARKER_RE.finditer(text):
        for num in re.findall(r"\d{1,2}", m.group(0)):
            if int(num) not in out:
                out.append(int(num))
    return out


def join(sentences: list[Sentence]) -> str:
    return "".join(s.sep + s.text for s in sentences).strip()
