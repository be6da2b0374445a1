"""Validate the demo evaluation set against itself and against the bundled demo site.

Run with the project venv: `.venv/bin/python bench/datasets/demo/check.py`.
Exits non-zero with a list of problems if the queries, the knowledge base (faqs.jsonl) and
the HTML in faq_ingest/demo_site/ have drifted apart; hand edits to any of them are expected,
so this is the guard that keeps gold labels pointing at real, visible FAQs.
"""

from __future__ import annotations

import json
import re
import sys
from collections import deque
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

from bs4 import BeautifulSoup

HERE = Path(__file__).resolve().parent
SITE = HERE.parents[2] / "faq_ingest" / "demo_site"

MIN_ANSWERABLE = 80
MIN_UNANSWERABLE = 25
# Chinese and English FAQ pages often label entries "问：" / "Q:"; the label is not the question.
QUESTION_LABEL = re.compile(r"^\s*(?:问[:：]|Q[:.]\s)\s*")
LIST_PREFIX = re.compile(r"^(?:- |\d+\. )")


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def load_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def check_faqs(faqs: list[dict]) -> list[str]:
    problems = []
    seen_ids: set[str] = set()
    seen_questions: set[str] = set()
    for row in faqs:
        if set(row) != {"id", "question", "answer", "lang"}:
            problems.append(f"faq {row.get('id')}: unexpected keys {sorted(row)}")
        if row["id"] in seen_ids:
            problems.append(f"duplicate faq id {row['id']}")
        if row["question"] in seen_questions:
            problems.append(f"duplicate question text {row['question']!r}")
        if row["lang"] not in {"en", "zh"}:
            problems.append(f"faq {row['id']}: bad lang {row['lang']!r}")
        if not row["answer"].strip() or row["question"] != collapse(row["question"]):
            problems.append(f"faq {row['id']}: empty answer or uncollapsed question")
        seen_ids.add(row["id"])
        seen_questions.add(row["question"])
    return problems


def check_queries(text_rows: list[dict], id_rows: list[dict], faqs: list[dict]) -> list[str]:
    problems = []
    question_of = {f["id"]: f["question"] for f in faqs}
    questions = set(question_of.values())
    if len(text_rows) != len(id_rows):
        return [f"queries.jsonl has {len(text_rows)} rows, queries_ids.jsonl {len(id_rows)}"]
    seen: set[str] = set()
    for n, (t, i) in enumerate(zip(text_rows, id_rows, strict=True), start=1):
        if t["query"] != i["query"]:
            problems.append(f"line {n}: query differs between the two files")
        if t["query"] in seen:
            problems.append(f"line {n}: duplicate query {t['query']!r}")
        seen.add(t["query"])
        for gold in t["gold"]:
            if gold not in questions:
                problems.append(f"line {n}: gold question not in faqs.jsonl: {gold!r}")
        for gold in i["gold"]:
            if gold not in question_of:
                problems.append(f"line {n}: gold id not in faqs.jsonl: {gold!r}")
        if [question_of.get(g) for g in i["gold"]] != t["gold"]:
            problems.append(f"line {n}: text gold and id gold disagree for {t['query']!r}")
    answerable = sum(1 for r in text_rows if r["gold"])
    if answerable < MIN_ANSWERABLE or len(text_rows) - answerable < MIN_UNANSWERABLE:
        problems.append(
            f"too few queries: {answerable} answerable, {len(text_rows) - answerable} not"
        )
    never_gold = set(question_of) - {g for r in id_rows for g in r["gold"]}
    if never_gold:
        problems.append(f"faqs never used as gold: {sorted(never_gold)}")
    return problems


def parse_pages() -> dict[str, BeautifulSoup]:
    return {
        p.relative_to(SITE).as_posix(): BeautifulSoup(p.read_text(encoding="utf-8"), "lxml")
        for p in sorted(SITE.rglob("*.html"))
    }


def check_faqs_on_pages(faqs: list[dict], pages: dict[str, BeautifulSoup]) -> list[str]:
    """Each FAQ's anchor shows its question, and each answer line is visible on the page."""
    problems = []
    for row in faqs:
        page, anchor = row["id"].split("#", 1)
        soup = pages.get(page)
        if soup is None:
            problems.append(f"{row['id']}: page missing")
            continue
        node = soup.find(id=anchor)
        if node is None:
            problems.append(f"{row['id']}: anchor missing")
            continue
        shown = QUESTION_LABEL.sub("", collapse(node.get_text()))
        if shown != row["question"]:
            problems.append(f"{row['id']}: page shows {shown!r}, faqs.jsonl {row['question']!r}")
        body_text = collapse((soup.body or soup).get_text())
        for line in row["answer"].splitlines():
            if collapse(LIST_PREFIX.sub("", line)) not in body_text:
                problems.append(f"{row['id']}: answer line not on page: {line[:60]!r}")
    return problems


def check_json_ld(pages: dict[str, BeautifulSoup]) -> list[str]:
    """JSON-LD questions must duplicate visible ones exactly, or the merge test is meaningless."""
    problems = []
    for name, soup in pages.items():
        for script in soup.find_all("script", type="application/ld+json"):
            data = json.loads(script.string or "")
            if data.get("@type") != "FAQPage":
                continue
            ld_questions = {collapse(q["name"]) for q in data["mainEntity"]}
            visible = {collapse(s.get_text()) for s in soup.find_all("summary")}
            if ld_questions != visible:
                problems.append(f"{name}: JSON-LD and <summary> questions differ")
    return problems


def internal_targets(name: str, soup: BeautifulSoup) -> list[tuple[str, str]]:
    """(page, fragment) for every same-site link on a page; external schemes are skipped."""
    targets = []
    base = Path(name).parent
    for a in soup.find_all("a", href=True):
        href = a["href"]
        if urlsplit(href).scheme or href.startswith("//"):
            continue
        path, fragment = urldefrag(href)
        page = name if not path else (base / unquote(path)).as_posix()
        targets.append((Path(page).as_posix(), fragment))
    return targets


def normalise(page: str) -> str:
    parts: list[str] = []
    for part in page.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


def check_links(pages: dict[str, BeautifulSoup]) -> list[str]:
    problems = []
    graph: dict[str, set[str]] = {}
    for name, soup in pages.items():
        graph[name] = set()
        for page, fragment in internal_targets(name, soup):
            page = normalise(page)
            if page not in pages:
                problems.append(f"{name}: broken link to {page}")
                continue
            graph[name].add(page)
            if fragment and pages[page].find(id=fragment) is None:
                problems.append(f"{name}: missing anchor {page}#{fragment}")
    reached, queue = {"index.html"}, deque(["index.html"])
    while queue:
        for nxt in graph.get(queue.popleft(), ()):
            if nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    if unreachable := set(pages) - reached:
        problems.append(f"pages not reachable from index.html: {sorted(unreachable)}")
    return problems


def main() -> int:
    faqs = load_jsonl(HERE / "faqs.jsonl")
    text_rows = load_jsonl(HERE / "queries.jsonl")
    id_rows = load_jsonl(HERE / "queries_ids.jsonl")
    pages = parse_pages()
    problems = (
        check_faqs(faqs)
        + check_queries(text_rows, id_rows, faqs)
        + check_faqs_on_pages(faqs, pages)
        + check_json_ld(pages)
        + check_links(pages)
    )
    for problem in problems:
        print("FAIL", problem)
    answerable = sum(1 for r in text_rows if r["gold"])
    print(
        f"{len(pages)} pages, {len(faqs)} faqs, {answerable} answerable + "
        f"{len(text_rows) - answerable} unanswerable queries: "
        + ("OK" if not problems else f"{len(problems)} problems")
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
