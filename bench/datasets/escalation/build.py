"""Build the escalation development set from its hand-written sources.

Run:  .venv/bin/python bench/datasets/escalation/build.py           (writes the two splits)
      .venv/bin/python bench/datasets/escalation/build.py --check   (exit 1 if they drifted)

Sources (all in this folder, described in README.md):
- authored_*.jsonl: hand-written conversations with a label on every step;
- the demo retrieval set (../demo/queries.{dev,test}.jsonl): each query becomes a
  one-turn conversation, answerable (gold FAQ) or out of scope (gold []); an
  out-of-scope query gets the customer's next try from oos_followups.jsonl as a second
  turn, because a bot that asks to rephrase first must be measured on that second turn;
- faq_tags.json: the tags the benchmark gives demo FAQs; a demo query whose gold FAQ is
  tagged should escalate as a sensitive topic.

Outputs conversations.dev.jsonl and conversations.test.jsonl, one conversation a line:
  {"id", "lang", "category", "source", "steps": [step, ...]}
  step: {"say": text} or {"feedback": +1 | -1}, plus
        "escalate": bool, "kinds": [acceptable trigger kinds, primary first],
        "gold": [demo FAQ ids answering it] (empty: not answerable from the knowledge base)
Demo-derived conversations keep the demo set's own split (so the retrieval model's
calibration, fitted on demo dev queries, never sees the test half); authored ones are
split about 60/40 within each category, by hash of their id.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent / "demo"
KINDS = {
    "explicit_request",
    "low_confidence",
    "negative_feedback",
    "frustration",
    "circling",
    "sensitive_topic",
}
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class DatasetError(ValueError):
    pass


def _jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    raise DatasetError(f"{path.name}:{n}: {exc}") from None
    return rows


def _rank(conv_id: str) -> int:
    return int(hashlib.sha1(conv_id.encode()).hexdigest()[:8], 16)


def stratified_dev_ids(conversations: list[dict]) -> set[str]:
    """About 60% of each category, chosen by hash of the id: a plain hash split left
    3 of 11 negative-feedback conversations in one half."""
    by_category: dict[str, list[str]] = {}
    for conv in conversations:
        by_category.setdefault(conv["category"], []).append(conv["id"])
    dev: set[str] = set()
    for ids in by_category.values():
        ids.sort(key=_rank)
        dev.update(ids[: round(len(ids) * 0.6 + 0.01)])
    return dev


def _step(raw: dict, where: str, faq_ids: set[str]) -> dict:
    unknown = set(raw) - {"say", "feedback", "escalate", "gold"}
    if unknown:
        raise DatasetError(f"{where}: unknown keys {sorted(unknown)}")
    if ("say" in raw) == ("feedback" in raw):
        raise DatasetError(f"{where}: a step has exactly one of 'say' and 'feedback'")
    step: dict = {}
    if "say" in raw:
        if not isinstance(raw["say"], str) or not raw["say"].strip():
            raise DatasetError(f"{where}: 'say' must be a non-empty string")
        step["say"] = raw["say"]
    else:
        if raw["feedback"] not in (1, -1):
            raise DatasetError(f"{where}: 'feedback' must be 1 or -1")
        step["feedback"] = raw["feedback"]
    kinds = raw.get("escalate") or []
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    if bad := [k for k in kinds if k not in KINDS]:
        raise DatasetError(f"{where}: unknown trigger kind(s) {bad}")
    gold = list(raw.get("gold") or [])
    if bad := [g for g in gold if g not in faq_ids]:
        raise DatasetError(f"{where}: gold FAQ id(s) not in the demo knowledge base: {bad}")
    if "feedback" in step and gold:
        raise DatasetError(f"{where}: a feedback step has no gold FAQ")
    step.update(escalate=bool(kinds), kinds=kinds, gold=gold)
    return step


def build() -> dict[str, list[dict]]:
    faq_ids = {row["id"] for row in _jsonl(DEMO / "faqs.jsonl")}
    tags = json.loads((HERE / "faq_tags.json").read_text(encoding="utf-8"))
    if bad := sorted(set(tags) - faq_ids):
        raise DatasetError(f"faq_tags.json: unknown FAQ ids {bad}")
    tagged = {faq for faq, t in tags.items() if t}
    followups = {r["query"]: r["followup"] for r in _jsonl(HERE / "oos_followups.jsonl")}
    splits: dict[str, list[dict]] = {"dev": [], "test": []}
    seen: set[str] = set()
    authored: list[dict] = []

    for path in sorted(HERE.glob("authored_*.jsonl")):
        for n, conv in enumerate(_jsonl(path), 1):
            where = f"{path.name}:{n}"
            cid = conv.get("id")
            if not isinstance(cid, str) or cid in seen:
                raise DatasetError(f"{where}: missing or duplicate id {cid!r}")
            seen.add(cid)
            if conv.get("lang") not in ("en", "zh"):
                raise DatasetError(f"{where}: lang must be en or zh")
            raw_steps = conv.get("steps") or []
            if not raw_steps or "say" not in raw_steps[0]:
                raise DatasetError(f"{where}: a conversation starts with a customer message")
            steps = [_step(s, f"{where} step {i}", faq_ids) for i, s in enumerate(raw_steps, 1)]
            authored.append(
                {
                    "id": cid,
                    "lang": conv["lang"],
                    "category": conv.get("category", ""),
                    "source": path.name,
                    "steps": steps,
                }
            )
    dev_ids = stratified_dev_ids(authored)
    for record in authored:
        splits["dev" if record["id"] in dev_ids else "test"].append(record)

    used_followups = set()
    for split in ("dev", "test"):
        for n, row in enumerate(_jsonl(DEMO / f"queries.{split}.jsonl"), 1):
            query, gold = row["query"], list(row["gold"])
            cid = f"demo-{split}-{n:03d}"
            lang = "zh" if CJK.search(query) else "en"
            if gold:
                sensitive = any(g in tagged for g in gold)
                steps = [
                    {
                        "say": query,
                        "escalate": sensitive,
                        "kinds": ["sensitive_topic"] if sensitive else [],
                        "gold": gold,
                    }
                ]
                category = "sensitive_topic" if sensitive else "answerable"
            else:
                if query not in followups:
                    raise DatasetError(f"oos_followups.jsonl: no follow-up for {query!r}")
                used_followups.add(query)
                ask = {"escalate": True, "kinds": ["low_confidence"], "gold": []}
                # The follow-up is the same question in other words: if retrieval gives
                # it the same (wrong) FAQ again, that is circling, and right to catch.
                again = {"escalate": True, "kinds": ["low_confidence", "circling"], "gold": []}
                steps = [{"say": query, **ask}, {"say": followups[query], **again}]
                category = "out_of_scope"
            splits[split].append(
                {
                    "id": cid,
                    "lang": lang,
                    "category": category,
                    "source": f"demo/queries.{split}.jsonl:{n}",
                    "steps": steps,
                }
            )
    if unused := sorted(set(followups) - used_followups):
        raise DatasetError(f"oos_followups.jsonl: follow-ups for unknown queries {unused}")
    return splits


def render(conversations: list[dict]) -> str:
    return "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in conversations)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the outputs drifted")
    args = parser.parse_args()
    try:
        splits = build()
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stale = []
    for split, convs in splits.items():
        path = HERE / f"conversations.{split}.jsonl"
        text = render(convs)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
        steps = sum(len(c["steps"]) for c in convs)
        print(f"{split}: {len(convs)} conversations, {steps} steps")
    if stale:
        print(f"out of date (run build.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
