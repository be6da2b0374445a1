"""`manage.py evaluate`: side-by-side metrics of hybrid, BM25-only, dense-only and the
production configuration, on a throwaway index or the live knowledge base."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from faq_ingest.evaluation_metrics import SUMMARY_KEYS

FAQS = [
    {
        "id": "ret",
        "question": "How long do I have to return an item?",
        "answer": "Unworn items can be returned within 30 days of delivery.",
    },
    {
        "id": "ship",
        "question": "Do you ship to Canada?",
        "answer": "We ship to the US, the EU and the UK only.",
    },
    {
        "id": "pw",
        "question": "How do I reset my password?",
        "answer": "Use the Forgot password link on the sign-in page.",
    },
    {"id": "zh", "question": "退货期限是多久？", "answer": "收货后30天内可以退货。", "lang": "zh"},
]
QUERIES = [
    {"query": "return an item within how many days", "gold": ["ret"]},
    {"query": "ship to canada", "gold": ["ship"]},
    {"query": "forgot my password", "gold": ["pw"]},
    {"query": "退貨期限", "gold": ["zh"]},
    {"query": "what is the weather in Paris", "gold": []},
]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def test_json_output_has_every_system_and_metric(tmp_path):
    out = StringIO()
    call_command(
        "evaluate",
        queries=_jsonl(tmp_path / "q.jsonl", QUERIES),
        faqs=_jsonl(tmp_path / "f.jsonl", FAQS),
        json=True,
        stdout=out,
    )
    result = json.loads(out.getvalue())
    assert set(result) == {"hybrid", "bm25", "dense", "production"}
    for metrics in result.values():
        assert set(SUMMARY_KEYS) <= set(metrics)
        assert metrics["n_answerable"] == 4 and metrics["n_unanswerable"] == 1
        for key in ("hit@1", "hit@3", "mrr@10", "ndcg@10", "abstain_f1", "ece"):
            assert 0.0 <= metrics[key] <= 1.0
    # Lexical matching alone finds these: BM25 must rank every gold FAQ first.
    assert result["bm25"]["hit@1"] == 1.0


def test_table_output_names_the_systems(tmp_path):
    out = StringIO()
    call_command(
        "evaluate",
        queries=_jsonl(tmp_path / "q.jsonl", QUERIES),
        faqs=_jsonl(tmp_path / "f.jsonl", FAQS),
        stdout=out,
    )
    text = out.getvalue()
    assert "5 queries, 4 FAQs" in text
    for system in ("hybrid", "bm25", "dense", "production"):
        assert f"\n{system} " in text


@pytest.mark.parametrize("bad_line", ["{not json", '["a list"]', '{"query": 3, "gold": []}'])
def test_malformed_query_files_give_a_clear_error(tmp_path, bad_line):
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps(QUERIES[0]) + "\n" + bad_line + "\n")
    with pytest.raises(CommandError, match="q.jsonl:2"):
        call_command("evaluate", queries=queries, faqs=_jsonl(tmp_path / "f.jsonl", FAQS))


@pytest.mark.django_db
def test_live_mode_without_an_index_says_to_crawl_first(tmp_path):
    with pytest.raises(CommandError, match="crawl first"):
        call_command("evaluate", queries=_jsonl(tmp_path / "q.jsonl", QUERIES))


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"query": "", "gold": []}', "q.jsonl:2: empty query"),
        ('{"query": "x", "gold": "ret"}', "q.jsonl:2: expected"),
        ('{"query": "x", "gold": [["ret"]]}', "q.jsonl:2: expected"),
        (
            '{"query": "x", "gold": ["no-such-id"]}',
            "not in the knowledge base: line 2: 'no-such-id'",
        ),
    ],
)
def test_bad_queries_and_unknown_gold_ids_are_named(tmp_path, bad_line, message):
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps(QUERIES[0]) + "\n" + bad_line + "\n")
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("evaluate", queries=queries, faqs=_jsonl(tmp_path / "f.jsonl", FAQS))


@pytest.mark.parametrize(
    ("bad_faq", "message"),
    [
        (
            {"id": "ret", "question": "Again?", "answer": "x"},
            "duplicate id 'ret' (first on line 1)",
        ),
        ({"id": "n", "question": "   ", "answer": "x"}, "'question' must be a non-empty string"),
        ({"id": "n", "question": "Q?", "answer": None}, "'answer' must be a string"),
        (
            {"id": "n", "question": "Q?", "answer": "x", "alternates": "one"},
            "'alternates' must be a list of strings",
        ),
        ({"id": ["n"], "question": "Q?", "answer": "x"}, "'id' must be a string"),
        ({"question": "Q?", "answer": "x"}, "missing field 'id'"),
    ],
)
def test_bad_faq_files_are_rejected_with_the_line(tmp_path, bad_faq, message):
    faqs = _jsonl(tmp_path / "f.jsonl", [FAQS[0], bad_faq])
    with pytest.raises(CommandError, match=re.escape(f"f.jsonl:2: {message}")):
        call_command("evaluate", queries=_jsonl(tmp_path / "q.jsonl", QUERIES[:1]), faqs=faqs)


def test_a_single_string_alternate_is_not_split_into_characters(tmp_path):
    from faq_ingest.evaluation import load_faqs

    faqs = _jsonl(
        tmp_path / "f.jsonl",
        [{"id": "a", "question": "Q?", "answer": "x", "alternates": ["Other wording", " "]}],
    )
    assert load_faqs(faqs)[0].alternates == ("Other wording",)
