"""Build the English `software_faq_en` dataset from the Debian FAQ and the Python FAQ.

Raw input (both from Debian's package archive, fetched with `apt-get download`, unpacked with
`dpkg-deb -x PKG DIR`):
  * debian-faq 11.1        -> usr/share/doc/debian/FAQ/*.en.html
  * python3.11-doc 3.11.2  -> usr/share/doc/python3.11/html/_sources/faq/*.rst.txt
    (the reStructuredText sources of https://docs.python.org/3.11/faq/)

Usage:
    python bench/datasets/convert_software_faq_en.py --debian-dir DIR --python-faq-dir DIR

The two FAQs are merged into one knowledge base (like a help centre covering two products).
Queries come from authored_queries.jsonl (hand-written paraphrases, see SOURCE.md).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from convert_debian_faq import load_language
from dataset_builder import build_dataset

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "software_faq_en"
UNDERLINE = re.compile(r"^([=\-^~*#\"+])\1{2,}\s*$")
MIN_ANSWER_CHARS = 40

# FAQs removed from the knowledge base so that their paraphrased queries become realistic
# in-domain-but-not-covered questions (gold == []). Chosen to have no near-duplicate FAQ left.
HOLDOUT_IDS = [
    "debian-pronunciation",
    "debian-papersize",
    "debian-sellcds",
    "debian-googleearth",
    "debian-aptcacher",
    "debian-java",
    "debian-keepingalog",
    "debian-voip",
    "python-general-why-is-it-called-python",
    "python-general-how-stable-is-python",
    "python-programming-how-do-i-create-a-pyc-file",
    "python-programming-how-do-i-convert-a-string-to-a-number",
    "python-library-how-do-i-send-mail-from-a-python-script",
    "python-library-how-do-i-generate-random-numbers-in-python",
    "python-design-why-is-there-no-goto",
    "python-library-how-do-i-access-the-serial-rs232-port",
    "python-library-how-do-i-delete-a-file-and-other-file-questions",
    "python-programming-how-do-i-copy-an-object-in-python",
]


def _strip_rst(text: str) -> str:
    """Reduce reStructuredText markup to the plain text a web page would show."""
    text = re.sub(r"^\.\. [\w-]+::.*$", "", text, flags=re.M)  # directives
    text = re.sub(r"^\s*:\w[\w-]*:.*$", "", text, flags=re.M)  # directive options
    text = re.sub(r":[\w:.-]+:`~?([^`<]*?)\s*<[^>]*>`", r"\1", text)  # :ref:`text <target>`
    text = re.sub(r":[\w:.-]+:`~?!?([^`]*)`", r"\1", text)  # :func:`name`
    text = re.sub(r"`([^`<]*?)\s*<[^>]*>`_+", r"\1", text)  # `text <url>`_
    text = re.sub(r"``([^`]*)``", r"\1", text)
    text = re.sub(r"`([^`]*)`_?", r"\1", text)
    text = re.sub(r"\*\*([^*]+)\*\*|\*([^*]+)\*", lambda m: m.group(1) or m.group(2), text)
    text = text.replace("::\n", ":\n")
    return re.sub(r"\s+", " ", text).strip()


def _slug(text: str) -> str:
    # "++" must survive slugging or the C and C++ questions get the same id.
    text = text.lower().replace("++", "pp")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60].rstrip("-")


def extract_python_faq(path: Path) -> list[dict]:
    """Question headings (underlined with '-', or '=' when phrased as a question) and bodies."""
    chapter = path.name.split(".")[0]
    lines = path.read_text(encoding="utf-8").splitlines()
    headings = []  # (line index of title, title, level char)
    for i in range(1, len(lines)):
        title = lines[i - 1].strip()
        if not title or UNDERLINE.match(lines[i - 1]) or not UNDERLINE.match(lines[i]):
            continue
        overlined = i >= 2 and UNDERLINE.match(lines[i - 2])
        if not overlined:
            headings.append((i - 1, title, lines[i][0]))
    faqs = []
    for n, (start, title, level) in enumerate(headings):
        end = headings[n + 1][0] if n + 1 < len(headings) else len(lines)
        is_question = level == "-" or (level == "=" and title.endswith("?"))
        if not is_question:
            continue
        answer = _strip_rst("\n".join(lines[start + 2 : end]))
        if len(answer) < MIN_ANSWER_CHARS:
            continue
        question = _strip_rst(title)
        faqs.append(
            {
                "id": f"python-{chapter}-{_slug(question)}",
                "question": question,
                "answer": answer,
                "lang": "en",
            }
        )
    return faqs


def load_python_faq(directory: Path) -> list[dict]:
    faqs = []
    for path in sorted(directory.glob("*.rst.txt")):
        if not path.name.startswith("index"):
            faqs.extend(extract_python_faq(path))
    return faqs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--debian-dir", type=Path, required=True)
    parser.add_argument("--python-faq-dir", type=Path, required=True)
    parser.add_argument("--dump-only", action="store_true", help="print extracted FAQs and stop")
    args = parser.parse_args()
    faqs = load_language(args.debian_dir, "*.en.html", "en") + load_python_faq(args.python_faq_dir)
    if args.dump_only:
        for faq in faqs:
            print(faq["id"], "|", faq["question"], "|", len(faq["answer"]))
        return
    build_dataset(OUT_DIR, faqs, HOLDOUT_IDS)


if __name__ == "__main__":
    main()
