"""Convert the Debian FAQ (English + Simplified Chinese HTML) into FAQ-retrieval datasets.

Raw input: the Debian packages `debian-faq` and `debian-faq-zh-cn` (version 11.1), fetched with
`apt-get download debian-faq debian-faq-zh-cn` and unpacked with `dpkg-deb -x PKG DIR`.
The HTML lives under usr/share/doc/debian/FAQ/ (English: *.en.html; Chinese: zh-cn/*.html).
Section anchors (<a id="...">) are the same in both languages, so they become the FAQ ids and
align the two datasets.

Usage:
    python bench/datasets/convert_debian_faq.py --en-dir DIR_EN --zh-dir DIR_ZH

Writes bench/datasets/debian_faq_zh/ (the English side is used by convert_software_faq_en.py).
Needs beautifulsoup4 and opencc-python-reimplemented (both project dependencies). Queries come
from the hand-written authored_queries.jsonl; rows tagged "script": "zh-Hant" are converted
from Simplified to Traditional Chinese (Taiwan phrasing) with OpenCC at build time.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from bs4 import BeautifulSoup, Tag
from dataset_builder import build_dataset

HERE = Path(__file__).resolve().parent
# Administrative chapters about the FAQ document itself, not about Debian.
SKIP_FILES = {"faqinfo", "index"}
SECTION_NUMBER = re.compile(r"^\s*[\d.]+\s*")
MIN_ANSWER_CHARS = 40

# FAQs removed from the knowledge base so that their queries become in-domain-but-not-covered
# questions (gold == []). Chosen to have no near-duplicate FAQ left in the set.
HOLDOUT_IDS = [
    "debian-pronunciation",
    "debian-papersize",
    "debian-sellcds",
    "debian-googleearth",
    "debian-aptcacher",
    "debian-java",
    "debian-keepingalog",
    "debian-voip",
    "debian-qmail",
    "debian-upgradesingle",
]


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _own_text(section: Tag) -> str:
    """Text of a section without its title and without nested subsections."""
    parts = []
    for child in section.children:
        if not isinstance(child, Tag):
            parts.append(str(child))
            continue
        classes = child.get("class") or []
        if "titlepage" in classes or "section" in classes:
            continue
        parts.append(child.get_text(" "))
    return _clean(" ".join(parts))


def extract_sections(html: str) -> list[dict]:
    """(id, title, answer) for every titled section with enough body text."""
    soup = BeautifulSoup(html, "html.parser")
    items = []
    for section in soup.find_all("div", class_="section"):
        title_tag = section.find(["h2", "h3", "h4"], class_="title")
        if title_tag is None or title_tag.find_parent("div", class_="section") is not section:
            continue
        anchor = title_tag.find("a", id=True)
        if anchor is None:
            continue
        title = _clean(SECTION_NUMBER.sub("", title_tag.get_text(" ")))
        answer = _own_text(section)
        if len(answer) < MIN_ANSWER_CHARS:
            continue
        items.append({"id": f"debian-{anchor['id']}", "question": title, "answer": answer})
    return items


def load_language(directory: Path, pattern: str, lang: str) -> list[dict]:
    faqs = []
    for path in sorted(directory.glob(pattern)):
        stem = path.name.split(".")[0]
        if stem in SKIP_FILES:
            continue
        for item in extract_sections(path.read_text(encoding="utf-8")):
            item["lang"] = lang
            faqs.append(item)
    return faqs


def to_traditional(row: dict) -> str:
    """Traditional-script queries are authored in Simplified and converted reproducibly."""
    if row.get("script") != "zh-Hant":
        return row["query"]
    import opencc  # imported lazily: only this dataset needs it

    return opencc.OpenCC("s2twp").convert(row["query"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--en-dir", type=Path, required=True)
    parser.add_argument("--zh-dir", type=Path, required=True)
    parser.add_argument("--dump-only", action="store_true", help="print extracted FAQs and stop")
    args = parser.parse_args()
    english = load_language(args.en_dir, "*.en.html", "en")
    chinese = load_language(args.zh_dir, "*.zh-cn.html", "zh")
    if args.dump_only:
        for en in english:
            print(en["id"], "|", en["question"], "|", len(en["answer"]))
        for zh in chinese:
            print(zh["id"], "|", zh["question"], "|", len(zh["answer"]))
        return
    build_dataset(HERE / "debian_faq_zh", chinese, HOLDOUT_IDS, query_transform=to_traditional)


if __name__ == "__main__":
    main()
