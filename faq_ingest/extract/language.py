"""Language of an FAQ record: script ranges first (fast, reliable for CJK), then langdetect."""

from __future__ import annotations

import re
from functools import lru_cache

from langdetect import DetectorFactory
from langdetect.detector_factory import init_factory
from langdetect.lang_detect_exception import LangDetectException

DetectorFactory.seed = 0  # langdetect is randomised; a fixed seed makes results repeatable

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_MD_LINK_TARGET = re.compile(r"\]\([^)]*\)|https?://\S+|`[^`]*`")
# Common English function words: a confident shortcut that skips the ~4 ms langdetect run.
_ENGLISH_WORDS = frozenset(
    {
        "the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "with", "you", "your",
        "is", "are", "be", "can", "do", "does", "how", "what", "why", "when", "where", "which",
        "who", "will", "we", "our", "it", "this", "that", "if", "not", "from", "by", "at", "my",
        "i", "has", "have", "had", "were", "been", "they", "them", "their", "there", "than",
        "then", "but", "all", "any", "us", "its", "it's", "only", "more", "most", "some",
        "these", "those", "over", "would", "should", "could", "must", "each", "every", "other",
        "about", "after", "before", "into", "out", "up", "just", "don't", "didn't", "here",
        "he", "she", "his", "her", "as",
    }
)  # fmt: skip
_NON_ASCII_LETTER = re.compile(r"(?![\x00-\x7f])[^\W\d_]")
_WORD = re.compile(r"[a-z']+")
_SAMPLE_CHARS = 600
# Fewer random trials than langdetect's default 7: same answer on sentence-sized text, faster.
_TRIALS = 3
_MIN_WORDS = 3


def _script_language(text: str) -> str:
    if text.isascii():
        return ""  # no kana, hangul or han to count
    letters = len(_LETTER.findall(text))
    if not letters:
        return ""
    kana = len(_KANA.findall(text))
    hangul = len(_HANGUL.findall(text))
    han = len(_HAN.findall(text))
    if kana and kana * 10 >= letters:
        return "ja"
    if hangul * 5 >= letters:
        return "ko"
    if han * 5 >= letters:
        return "zh"
    return ""


def _looks_english(text: str) -> bool:
    # Typographic punctuation ("’", "–", "£", "›") is common in English help pages; only
    # non-ASCII *letters* hint at another language and need langdetect.
    if not text.isascii() and _NON_ASCII_LETTER.search(text):
        return False
    words = _WORD.findall(text.lower())
    if len(words) < 4:
        return False
    hits = sum(1 for w in words if w in _ENGLISH_WORDS)
    return hits >= 3 and hits * 4 >= len(words)


@lru_cache(maxsize=4096)
def detect_language(text: str) -> str:
    """ISO 639-1 code for text, or "" when it cannot be told."""
    text = _MD_LINK_TARGET.sub(" ", text)[:_SAMPLE_CHARS]
    by_script = _script_language(text)
    if by_script:
        return by_script
    if not _LETTER.search(text):
        return ""
    if _looks_english(text):
        return "en"
    if len(text.split()) < _MIN_WORDS:
        return ""  # langdetect guesses wildly on two-word strings ("Reset password" -> "af")
    try:
        init_factory()
        from langdetect.detector_factory import _factory

        detector = _factory.create()
        detector.n_trial = _TRIALS
        detector.append(text)
        code = detector.detect()
    except LangDetectException:
        return ""
    return "" if code == "unknown" else code.split("-")[0]
