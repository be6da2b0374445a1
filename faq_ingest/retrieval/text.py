"""Language-aware tokenisation for BM25.

Customers mix scripts in one message, so the text is split into runs by script: Latin
and other alphabetic runs get Unicode-aware word tokens, English stopword removal and
Snowball stemming; CJK runs are folded from Traditional to Simplified Chinese (so either
script matches the other) and segmented with jieba, plus character bigrams so that a
segmentation mismatch between query and FAQ still leaves shared terms.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from functools import lru_cache

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")


def _mark_class() -> str:
    """All Unicode combining marks (category M) as a character class body. Python's \\w
    excludes them, which would cut Devanagari or Thai words at every vowel sign."""
    ranges: list[tuple[int, int]] = []
    for cp in range(0x300, 0x1F000):
        if unicodedata.category(chr(cp)).startswith("M"):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(
        f"\\u{a:04x}-\\u{b:04x}" if a != b else f"\\u{a:04x}" for a, b in ranges if b <= 0xFFFF
    )


_MARKS = _mark_class()
_WORD_PART = rf"[^\W_](?:[^\W_]|[{_MARKS}])*"
_WORD_RE = re.compile(rf"{_WORD_PART}(?:['’]{_WORD_PART})*", re.UNICODE)

# A compact English stopword list: BM25 idf already discounts common words, but removing
# them keeps short queries ("how do I return it") from matching on "how" and "do".
ENGLISH_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    im ive id youre dont cant wont please hi hello thanks thank""".split()
)

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def _opencc():
    from opencc import OpenCC

    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


# OpenCC's t2s folds 帳 to 帐, but mainland text writes 账 for "account" (账户, 账号);
# fold both to one so Taiwanese 帳戶 meets mainland 账户.
_VARIANT_FOLD = str.maketrans({"帐": "账"})


@lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    return _opencc().convert(text).translate(_VARIANT_FOLD)


def _cjk_tokens(run: str) -> list[str]:
    simplified = to_simplified(run)
    with _lock:  # jieba's lazy dictionary load is not thread-safe
        words = [w for w in _jieba().lcut(simplified) if w.strip()]
    bigrams = [simplified[i : i + 2] for i in range(len(simplified) - 1)]
    if len(simplified) == 1:
        bigrams = [simplified]
    return words + bigrams


def tokenize(text: str, *, stem: bool = True) -> list[str]:
    """Tokens of `text` for BM25, in order of appearance (duplicates kept: tf matters)."""
    text = normalise(text)
    tokens: list[str] = []
    pos = 0
    for match in _CJK_RE.finditer(text):
        tokens.extend(_word_tokens(text[pos : match.start()], stem))
        tokens.extend(_cjk_tokens(match.group()))
        pos = match.end()
    tokens.extend(_word_tokens(text[pos:], stem))
    return tokens


def _word_tokens(segment: str, stem: bool) -> list[str]:
    words = [w.replace("’", "'") for w in _WORD_RE.findall(segment)]
    words = [w.replace("'", "") for w in words]
    words = [w for w in words if w and w not in ENGLISH_STOPWORDS]
    if stem and words:
        return _stemmer().stemWords(words)
    return words


def is_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))


def is_mostly_non_latin(text: str) -> bool:
    """True for CJK text, and for text whose letters are mostly outside the Latin script
    (Cyrillic, Arabic, Hangul, kana, Thai...).

    Retrieval uses it to pick the fusion fitted for queries the default English-only
    embedder cannot read: with no training queries in such a language, the English fusion
    trusts dense similarity, and leave-one-dataset-out showed that cutting hit@1 on
    Chinese from 0.61 (BM25) to 0.26 (docs/evaluation.md). Words pasted in Latin script
    (product names, error codes) do not flip a Russian question to "Latin".
    """
    if is_cjk(text):
        return True
    latin = other = 0
    for ch in text:
        if ch.isalpha():
            if ch.isascii() or unicodedata.name(ch, "").startswith("LATIN"):
                latin += 1
            else:
                other += 1
    return other > latin
