"""Shared helpers that turn extracted FAQs plus hand-written queries into a dataset folder.

Layout written to each dataset folder:
    faqs.jsonl          {"id", "question", "answer", "lang"} per FAQ (held-out FAQs removed)
    queries.jsonl       {"query", "gold": [faq ids]}; gold == [] means "should abstain"
    queries.dev.jsonl   ~60% of queries.jsonl (fit calibration / thresholds here)
    queries.test.jsonl  the remaining ~40% (report numbers here)

Hand-written queries live in authored_queries.jsonl as {"query", "gold": [source faq ids]}
plus an optional "script" tag that a converter's query_transform may act on.
A query whose gold FAQs are all held out becomes an unanswerable query (gold == []): the
topic is in-domain but the knowledge base no longer covers it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

DEV_PERCENT = 60
MAX_ANSWER_CHARS = 2000


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_jsonl(path: Path, rows: Iterable[dict]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def is_dev(query: str) -> bool:
    """Stable split: a query stays on its side when other queries are added or removed."""
    digest = hashlib.sha1(query.encode("utf-8")).hexdigest()
    return int(digest[:8], 16) % 100 < DEV_PERCENT


def _normalise(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def truncate(text: str, limit: int = MAX_ANSWER_CHARS) -> str:
    """Cut long answers at a sentence boundary so files stay small but readable."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    boundary = max(cut.rfind(". "), cut.rfind("。"), cut.rfind("\n"))
    return (cut[: boundary + 1] if boundary > limit // 2 else cut).rstrip() + " …"


def build_dataset(
    out_dir: Path,
    faqs: list[dict],
    holdout_ids: Iterable[str],
    query_transform: Callable[[dict], str] | None = None,
) -> dict:
    """Write the dataset files; returns counts for SOURCE.md and sanity checks."""
    holdout = set(holdout_ids)
    source_ids = {faq["id"] for faq in faqs}
    if len(source_ids) != len(faqs):
        raise ValueError("duplicate FAQ ids")
    missing = holdout - source_ids
    if missing:
        raise ValueError(f"held-out ids not in source: {sorted(missing)}")
    kept = [{**faq, "answer": truncate(faq["answer"])} for faq in faqs if faq["id"] not in holdout]
    questions = {_normalise(faq["question"]) for faq in faqs}

    queries = []
    seen = set()
    for row in read_jsonl(out_dir / "authored_queries.jsonl"):
        query = (query_transform(row) if query_transform else row["query"]).strip()
        unknown = set(row["gold"]) - source_ids
        if unknown:
            raise ValueError(f"{query!r}: unknown gold ids {sorted(unknown)}")
        if _normalise(query) in questions:
            raise ValueError(f"{query!r} copies an FAQ question verbatim")
        if query in seen:
            raise ValueError(f"duplicate query {query!r}")
        seen.add(query)
        gold = [faq_id for faq_id in row["gold"] if faq_id not in holdout]
        queries.append({"query": query, "gold": gold})

    out_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(out_dir / "faqs.jsonl", kept)
    write_jsonl(out_dir / "queries.jsonl", queries)
    write_jsonl(out_dir / "queries.dev.jsonl", (q for q in queries if is_dev(q["query"])))
    write_jsonl(out_dir / "queries.test.jsonl", (q for q in queries if not is_dev(q["query"])))
    n_dev = sum(is_dev(q["query"]) for q in queries)
    stats = {
        "faqs": len(kept),
        "held_out_faqs": len(holdout),
        "queries": len(queries),
        "answerable": sum(bool(q["gold"]) for q in queries),
        "unanswerable": sum(not q["gold"] for q in queries),
        "dev": n_dev,
        "test": len(queries) - n_dev,
    }
    print(out_dir.name, json.dumps(stats))
    return stats
