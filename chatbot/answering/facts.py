"""The checkable facts in a sentence: quantities, links, emails, phone numbers, names,
and whether a clause is negated.

These are where a small model's inventions hurt most (a wrong price, a made-up support
address, "can" for "cannot"), and they are exactly checkable against the FAQ text, so the
verifier treats each one as a hard requirement rather than a similarity score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatbot.answering.sentences import MARKER_RE

# --- numbers ---------------------------------------------------------------------------
EN_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}  # fmt: skip
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}

# Units whose mix-up changes the claim ("30 days" is not "30 hours"); normalised to a family.
_UNITS = {
    "business day": "bday", "business days": "bday", "working day": "bday",
    "working days": "bday", "工作日": "bday", "个工作日": "bday",
    "day": "day", "days": "day", "天": "day", "日": "day",
    "week": "week", "weeks": "week", "周": "week", "星期": "week", "个星期": "week",
    "month": "month", "months": "month", "个月": "month", "月": "month",
    "year": "year", "years": "year", "yr": "year", "yrs": "year", "年": "year",
    "hour": "hour", "hours": "hour", "hr": "hour", "hrs": "hour", "小时": "hour",
    "个小时": "hour", "h": "hour",
    "minute": "minute", "minutes": "minute", "min": "minute", "mins": "minute",
    "分钟": "minute", "second": "second", "seconds": "second", "秒": "second",
    "%": "percent", "percent": "percent", "per cent": "percent", "％": "percent",
    "kg": "kg", "kilogram": "kg", "kilograms": "kg", "公斤": "kg", "lb": "lb", "lbs": "lb",
    "pound": "lb", "pounds": "lb", "km": "km", "kilometers": "km", "mile": "mile",
    "miles": "mile", "gb": "gb", "mb": "mb", "元": "yuan", "块": "yuan",
}  # fmt: skip
_CURRENCIES = {"$": "usd", "us$": "usd", "usd": "usd", "€": "eur", "eur": "eur", "£": "gbp",
               "gbp": "gbp", "¥": "cny", "￥": "cny", "rmb": "cny", "cny": "cny"}  # fmt: skip

_NUM = r"\d+(?:[.,]\d+)*"
_WORDNUM = "|".join(sorted(EN_NUMBER_WORDS, key=len, reverse=True))
_ZHNUM = r"[零〇一二两三四五六七八九十百千万]+"
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_QUANTITY_RE = re.compile(
    rf"(?P<cur>US\$|\$|€|£|¥|￥|\b(?:USD|EUR|GBP|RMB|CNY)\s?)?"
    rf"(?P<num>{_NUM}|\b(?:{_WORDNUM})\b|{_ZHNUM})"
    rf"(?:[ \t]?[-–~至到][ \t]?(?P<num2>{_NUM}|{_ZHNUM}))?"
    rf"(?:[ \t]?-?[ \t]?(?P<unit>(?:{_UNIT_ALT})(?![A-Za-z])))?",
    re.I,
)
_LIST_MARKER_RE = re.compile(r"^\s*(?:\d{1,3}[.)]|[-*•])\s+")
_PHONE_RE = re.compile(r"(?<![\w.])\+?\(?\d[\d \t().\-]{5,}\d(?![\w])")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.U)
_URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'\]\[)(]+"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|org|net|io|co|uk|de|eu|cn|info|app|dev|shop|store|help|"
    r"example|test|invalid)\b(?:/[^\s<>\"'\])(]*)?",
    re.I,
)
_MD_LINK_RE = re.compile(r"\]\(([^)\s]+)\)")


def _zh_number(text: str) -> float | None:
    total, section, digit = 0, 0, None
    for ch in text:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch in _ZH_UNITS:
            unit = _ZH_UNITS[ch]
            if unit == 10000:
                total += (section + (digit or 0)) * unit
                section, digit = 0, None
            else:
                section += (1 if digit is None else digit) * unit
                digit = None
        else:
            return None
    return float(total + section + (digit or 0))


def number_value(raw: str) -> float | None:
    raw = raw.strip()
    low = raw.lower()
    if low in EN_NUMBER_WORDS:
        return float(EN_NUMBER_WORDS[low])
    if raw and raw[0] in _ZH_DIGITS or raw[:1] in _ZH_UNITS:
        return _zh_number(raw)
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", raw):
        raw = raw.replace(",", "")  # 1,000 and 1,000.50
    elif "," in raw:
        raw = raw.replace(",", ".")  # 4,95 (European decimal comma)
    try:
        return float(raw)
    except ValueError:
        return None


@dataclass(frozen=True)
class Quantity:
    value: float
    currency: str = ""
    unit: str = ""  # a unit family from _UNITS, "" when none follows
    text: str = ""


def quantities(text: str) -> list[Quantity]:
    """Numbers with their currency and unit. Phone numbers, links and emails are checked
    on their own and taken out first; list numbering ("1. Sign in") is not a claim."""
    text = MARKER_RE.sub(" ", text)
    for pattern in (_URL_RE, _EMAIL_RE):
        text = pattern.sub(" ", text)
    text = _PHONE_RE.sub(lambda m: " " if _is_phone(m.group(0)) else m.group(0), text)
    text = "\n".join(_LIST_MARKER_RE.sub("", line) for line in text.split("\n"))
    out: list[Quantity] = []
    for m in _QUANTITY_RE.finditer(text):
        cur = _CURRENCIES.get((m.group("cur") or "").strip().lower(), "")
        unit = _UNITS.get((m.group("unit") or "").lower(), "")
        for key in ("num", "num2"):
            raw = m.group(key)
            if raw is None:
                continue
            value = number_value(raw)
            if value is None:
                continue
            if not re.match(r"\d", raw) and not (unit or cur):
                # "one of our stores", "一些": a number word is a claim only with a unit.
                continue
            out.append(Quantity(value, cur, unit, m.group(0).strip()))
    return out


def unsupported_quantities(sentence: str, reference: str) -> list[str]:
    """The sentence's quantities that the reference does not state: the value must be
    there, with the same currency and unit when the sentence gives one."""
    ref = quantities(reference)
    missing: list[str] = []
    for q in quantities(sentence):
        same = [r for r in ref if abs(r.value - q.value) < 1e-9]
        wrong_currency = q.currency and not any(r.currency == q.currency for r in same)
        wrong_unit = q.unit and not any(r.unit in (q.unit, "") for r in same)
        if not same or wrong_currency or wrong_unit:
            missing.append(q.text)
    return missing


# --- links, emails, phones ---------------------------------------------------------------
def _norm_url(url: str) -> str:
    url = url.strip().rstrip(".,;:!?").lower()
    url = re.sub(r"^https?://", "", url)
    url = re.sub(r"^www\.", "", url)
    return url.rstrip("/")


def urls(text: str) -> list[str]:
    found = [m.group(0) for m in _URL_RE.finditer(text)]
    found += [m.group(1) for m in _MD_LINK_RE.finditer(text)]
    return [u for u in dict.fromkeys(found) if _norm_url(u)]


def emails(text: str) -> list[str]:
    return list(dict.fromkeys(m.group(0).rstrip(".").lower() for m in _EMAIL_RE.finditer(text)))


def _is_phone(candidate: str) -> bool:
    return 7 <= len(re.sub(r"\D", "", candidate)) <= 15


def phones(text: str) -> list[str]:
    return [m.group(0).strip() for m in _PHONE_RE.finditer(text) if _is_phone(m.group(0))]


def unsupported_contacts(sentence: str, reference: str) -> list[str]:
    """Links, emails and phone numbers in the sentence that the reference does not have."""
    ref_urls = {_norm_url(u) for u in urls(reference)}
    ref_emails = set(emails(reference))
    ref_phones = {re.sub(r"\D", "", p) for p in phones(reference)}
    missing = [u for u in urls(sentence) if _norm_url(u) not in ref_urls]
    missing += [e for e in emails(sentence) if e not in ref_emails]
    for p in phones(sentence):
        digits = re.sub(r"\D", "", p)
        # "+1 800 555 0199" and "800-555-0199" are the same number.
        if not any(digits.endswith(r[-10:]) or r.endswith(digits[-10:]) for r in ref_phones):
            missing.append(p)
    return missing


# --- names ---------------------------------------------------------------------------------
_NAME_RE = re.compile(
    r"\b(?:[A-Z][a-z]+(?:[A-Z][a-z]+)+|[a-z]+[A-Z][A-Za-z]*|[A-Z]{2,}[a-z]?|[A-Z][a-z'’]+)\b"
)
_NOT_NAMES = frozenset(
    "I I'm I’m I've I'll I'd OK FAQ FAQs Q A Yes No Note Please Thanks Hi Hello Sorry".split()
)


def names(sentence: str) -> list[str]:
    """Capitalised words past the start of a sentence or clause, and CamelCase or
    all-caps words anywhere: brands, places, products, people."""
    text = MARKER_RE.sub(" ", sentence)
    for pattern in (_URL_RE, _EMAIL_RE):
        text = pattern.sub(" ", text)
    out = []
    for m in _NAME_RE.finditer(text):
        word = m.group(0)
        if word in _NOT_NAMES:
            continue
        mixed = word.isupper() or any(c.isupper() for c in word[1:])
        before = text[: m.start()].rstrip(" \t*_\"'“‘(")
        at_start = before == "" or before[-1] in ".!?:;\n-•" or re.search(r"\n\s*\d+[.)]$", before)
        if at_start and not mixed:
            continue
        out.append(word)
    return list(dict.fromkeys(out))


def unsupported_names(sentence: str, reference: str) -> list[str]:
    ref_words = {w.lower() for w in re.findall(r"[\w'’]+", reference)}
    ref_low = reference.lower()
    missing = []
    for name in names(sentence):
        low = name.lower()
        stem = low.rstrip("s").rstrip("'’")
        if low in ref_words or stem in ref_words or (len(low) > 3 and low in ref_low):
            continue
        missing.append(name)
    return missing


# --- negation --------------------------------------------------------------------------------
_EN_NEGATION_RE = re.compile(
    r"\b(?:not|no|never|cannot|none|nothing|nobody|nowhere|neither|nor|without|unable)\b"
    r"|n['’]t\b|\bnon-|\b(?:cant|dont|wont|doesnt|isnt|arent|didnt|shouldnt)\b",
    re.I,
)
_ZH_NEGATION_RE = re.compile(r"不|没|無|无|非|未|别|勿|禁止")
_ZH_NOT_NEGATION_RE = re.compile(
    r"不过|不同|不仅|不但|不少|不错|不断|不久|不管|无论|非常|未来|差不多|并非常"
)


def negated(clause: str) -> bool:
    if _EN_NEGATION_RE.search(clause):
        return True
    return bool(_ZH_NEGATION_RE.search(_ZH_NOT_NEGATION_RE.sub("", clause)))


_CLAUSE_SPLIT_RE = re.compile(
    r"[,;:，；：、]|\s[-–—]\s|\b(?:but|however|although|though|except|unless|whereas)\b|但|但是|除非|不过",
    re.I,
)


def clauses(sentence: str) -> list[str]:
    return [c.strip() for c in _CLAUSE_SPLIT_RE.split(sentence) if c and c.strip()]


_YES_RE = re.compile(
    r"^\s*(?:yes|yeah|yep|sure|certainly|absolutely|of course|correct|是的|是|对|可以|能)(?:\b|[,，!！.。])",
    re.I,
)
_NO_RE = re.compile(
    r"^\s*(?:no|nope|unfortunately(?:,)? no|不是|不可以|不能|不行|没有|不)(?:\b|[,，!！.。])",
    re.I,
)


def strip_yes_no(sentence: str) -> str:
    """The sentence without its opening yes/no: "Yes, you can." -> "you can."."""
    m = _NO_RE.match(sentence) or _YES_RE.match(sentence)
    return sentence[m.end() :].lstrip(" ,，!！.。") if m else sentence


def yes_no_lead(sentence: str) -> bool | None:
    """True for a sentence that opens by answering yes, False for no, None otherwise."""
    if _NO_RE.match(sentence):
        return False
    if _YES_RE.match(sentence):
        return True
    return None


# Words that widen or narrow a claim: "only", "any", "always", "free". A sentence that
# adds one the reference passage it restates does not have says something else.
_QUALIFIER_RE = re.compile(
    r"\b(?:only|always|all|every|any|must|guaranteed|automatically|immediately|instantly|"
    r"free|unlimited|lifetime)\b|只|仅|必须|总是|所有|免费|任何|立即",
    re.I,
)


def qualifiers(text: str) -> set[str]:
    return {m.group(0).lower() for m in _QUALIFIER_RE.finditer(text)}


# Words that narrow a claim: "most unused items", "usually within 24 hours", "may be
# covered". A sentence that restates a reference clause without them claims more.
_HEDGE_RE = re.compile(
    r"\b(?:most|some|many|certain|usually|typically|generally|normally|often|may|might|"
    r"only|except|up to|at least|at most)\b|大多数|大部分|部分|一般|通常|可能|最多|至少",
    re.I,
)


def hedges(text: str) -> set[str]:
    return {m.group(0).lower() for m in _HEDGE_RE.finditer(text)}
