"""Answer quality and latency on the development sets, per generator backend.

For each backend (`llamacpp`, `transformers`, `extractive`) and each development set
(bench/datasets/*/queries.dev.jsonl, answered from that set's faqs.jsonl through the real
pipeline: live index snapshot, retrieval, prompt, generation, verification):

- answered: questions not handed off to a person (retrieval confident enough);
- kept draft: answered questions where the customer read the model's own verified words,
  not the quoted-FAQ fallback;
- supported: of the sentences delivered, the share that pass an independent re-check
  (model sentences re-verified against the FAQs the answer cites; fallback quotes found
  verbatim in the cited FAQ), and whether what streamed equals the final text. Must be 100%;
- F1: answer token-F1 against the gold FAQ's answer (best over gold FAQs);
- first sentence p50/p95: time from the question to the first verified sentence (or the
  fallback/hand-off text) handed to the websocket publisher;
- typing p50/p95: time from sending a message over the real chat consumer to its
  `message_received` frame, which is when the page shows the typing indicator;
- overhead (llamacpp): end-to-end answer time ÷ bare llama.cpp on the same prompts with
  the same number of output tokens, run in the same process right after, in the same
  order, so each sees the same prompt-cache state; and how many prompt tokens llama.cpp
  reused from its cache (the fixed instruction prefix).

Works against older checkouts too (the `--out` JSONL then lacks verdicts), so the kept-draft
rate before this change can be measured by running this file from a checkout of main.

    .venv/bin/python bench/answer.py [--backends llamacpp,extractive] [--limit 10] [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, unquote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATASETS = ["demo", "software_faq_en", "debian_faq_zh"]
URL_PREFIX = "https://bench.invalid/"


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# --- metrics -----------------------------------------------------------------------------
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+", re.U)


def f1_tokens(text: str) -> list[str]:
    """Lower-cased words, and single characters for Chinese."""
    return _TOKEN_RE.findall(text.lower())


def token_f1(answer: str, gold: str) -> float:
    from collections import Counter

    a, g = Counter(f1_tokens(answer)), Counter(f1_tokens(gold))
    common = sum((a & g).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def recheck(row: dict, docs_by_id: dict) -> tuple[int, int] | None:
    """(supported, delivered) sentences of one answer, re-checked independently of the
    pipeline's own verdicts; None where this checkout has no verifier."""
    try:
        from chatbot.answering.sentences import split_sentences
        from chatbot.answering.verify import Verifier
    except ImportError:
        return None
    if row["outcome"] == "handoff":
        return (0, 0)
    cited = [docs_by_id[c] for c in row["cited_ids"] if c in docs_by_id]
    if row["outcome"] == "fallback":
        quoted = re.search(r"“(.*)”", row["answer"], re.S)
        sentences = split_sentences(quoted.group(1)) if quoted else []
        ok = sum(any(_squash(s.text) in _squash(d.answer) for d in cited) for s in sentences)
        return (ok, len(sentences))
    from faq_ingest.retrieval.embedders import get_embedder

    verifier = Verifier(row["query"], cited, embedder=get_embedder())
    sentences = split_sentences(row["answer"])
    ok = sum(verifier.check(s.text).supported for s in sentences)
    return (ok, len(sentences))


def _squash(text: str) -> str:
    return " ".join(text.split())


# --- the knowledge base ---------------------------------------------------------------------
def load_knowledge_base(name: str) -> dict:
    """Replace the database's FAQs with one dataset's and build the live index."""
    from faq_ingest.index import build_snapshot, live_index
    from faq_ingest.models import Faq, IndexSnapshot
    from faq_ingest.retrieval.searcher import IndexDoc

    rows = load_jsonl(ROOT / "bench/datasets" / name / "faqs.jsonl")
    Faq.objects.all().delete()
    IndexSnapshot.objects.all().delete()
    Faq.objects.bulk_create(
        Faq(
            question=r["question"],
            question_key=str(r["id"])[:500],
            answer=r["answer"],
            alternates=r.get("alternates") or [],
            source_url=URL_PREFIX + quote(f"{name}/{r['id']}", safe="/"),
            language=r.get("lang", ""),
        )
        for r in rows
    )
    build_snapshot(force=True)
    live_index.reset()
    return {str(r["id"]): IndexDoc(str(r["id"]), r["question"], r["answer"], url="") for r in rows}


def faq_id_of(url: str, dataset: str) -> str:
    return unquote(url.removeprefix(URL_PREFIX)).removeprefix(dataset + "/")


# --- one backend ---------------------------------------------------------------------------
class Recorder:
    """Wraps the generator's stream to keep each prompt and how many pieces it produced."""

    def __init__(self, generator) -> None:
        self.generator = generator
        self.calls: list[dict] = []
        original = generator.stream

        def stream(messages, *, max_tokens, stop=None):
            call = {"messages": messages, "stop": stop, "pieces": 0}
            self.calls.append(call)
            for piece in original(messages, max_tokens=max_tokens, stop=stop):
                call["pieces"] += 1
                yield piece

        generator.stream = stream


def run_backend(backend: str, datasets: list[str], limit: int | None, out: Path) -> list[dict]:
    from django.conf import settings

    from chatbot.answering import answer_question
    from chatbot.generation import get_generator

    settings.GENERATOR_BACKEND = backend
    t0 = time.perf_counter()
    generator = get_generator(backend)
    print(f"{backend}: model load {time.perf_counter() - t0:.1f}s", flush=True)
    recorder = Recorder(generator)
    llama = getattr(generator, "_llm", None) if backend == "llamacpp" else None
    rows: list[dict] = []
    for name in datasets:
        docs = load_knowledge_base(name)
        answer_question("warm up")  # embedder, generator and index warm, as in a worker
        queries = load_jsonl(ROOT / "bench/datasets" / name / "queries.dev.jsonl")[:limit]
        for q in queries:
            pieces: list[tuple[float, str]] = []
            n_calls = len(recorder.calls)
            perf_before = _perf(llama)
            start = time.perf_counter()
            answer = answer_question(
                q["query"],
                on_token=lambda p, pieces=pieces: pieces.append((time.perf_counter(), p)),
            )
            total = time.perf_counter() - start
            perf = _perf_delta(llama, perf_before)
            kept = getattr(answer, "kept_draft", None)
            outcome = getattr(answer, "outcome", None)
            if outcome is None:  # checkouts before the answer record
                kept = bool(answer.grounded and not answer.escalate)
                outcome = "handoff" if answer.escalate else ("draft" if kept else "fallback")
            cited_ids = [faq_id_of(c["url"], name) for c in answer.citations]
            gold_f1 = max((token_f1(answer.answer, docs[g].answer) for g in q["gold"]), default=0)
            call = recorder.calls[n_calls] if len(recorder.calls) > n_calls else None
            row = {
                "backend": backend,
                "dataset": name,
                "query": q["query"],
                "gold": q["gold"],
                "outcome": outcome,
                "kept_draft": bool(kept),
                "answer": answer.answer,
                "streamed": "".join(p for _, p in pieces),
                "cited_ids": cited_ids,
                "f1": gold_f1,
                "first_piece_s": (pieces[0][0] - start) if pieces else total,
                "total_s": total,
                "timings": answer.timings,
                "verdicts": getattr(answer, "verdicts", None),
                "draft": getattr(answer, "draft", None),
                "prompt": call["messages"] if call else None,
                "stop": call["stop"] if call else None,
                "generated_pieces": call["pieces"] if call else 0,
                "prompt_eval_tokens": perf.get("n_p_eval"),
            }
            checked = recheck(row, docs)
            row["recheck"] = checked
            rows.append(row)
            with out.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    if llama is not None:
        bare_pass(llama, rows)
    return rows


def _perf(llama) -> dict:
    if llama is None:
        return {}
    import llama_cpp

    data = llama_cpp.llama_perf_context(llama._ctx.ctx)
    return {"n_p_eval": data.n_p_eval, "n_eval": data.n_eval}


def _perf_delta(llama, before: dict) -> dict:
    after = _perf(llama)
    return {k: after[k] - before.get(k, 0) for k in after}


def bare_pass(llama, rows: list[dict]) -> None:
    """The same prompts, in the same order, straight into llama.cpp, for exactly as many
    tokens as the pipeline generated: the baseline for the pipeline's overhead."""
    from django.conf import settings

    for row in rows:
        if not row["prompt"]:
            continue
        start = time.perf_counter()
        first = None
        for chunk in llama.create_chat_completion(
            messages=row["prompt"],
            stream=True,
            temperature=0.0,
            top_k=1,
            max_tokens=max(1, min(row["generated_pieces"], settings.GENERATOR_MAX_TOKENS)),
            stop=row["stop"] or None,
            repeat_penalty=1.05,
        ):
            if first is None and chunk["choices"][0]["delta"].get("content"):
                first = time.perf_counter() - start
        row["bare_total_s"] = time.perf_counter() - start
        row["bare_first_token_s"] = first


def typing_latency(samples: int) -> list[float]:
    """Seconds from sending a customer message over the real chat consumer to the
    `message_received` frame; the reply is awaited before the next message is sent."""
    if samples <= 0:
        return []
    from django.conf import settings

    from tests.chat_client import open_chat

    settings.MESSAGES_PER_MINUTE = 10_000
    questions = [q["query"] for q in load_jsonl(ROOT / "bench/datasets/demo/queries.dev.jsonl")]

    async def run() -> list[float]:
        comm, _hello = await open_chat()
        out = []
        for i in range(samples):
            start = time.perf_counter()
            await comm.send_json_to({"type": "customer_message", "text": questions[i]})
            while (await comm.receive_json_from(timeout=60))["type"] != "message_received":
                pass
            out.append(time.perf_counter() - start)
            while (await comm.receive_json_from(timeout=600))["type"] not in (
                "bot_message",
                "error",
            ):
                pass
        await comm.disconnect()
        return out

    return asyncio.run(run())


# --- report ---------------------------------------------------------------------------------
def summarise(rows: list[dict]) -> dict:
    answered = [r for r in rows if r["outcome"] != "handoff"]
    checks = [r["recheck"] for r in answered if r.get("recheck") is not None]
    firsts = [r["first_piece_s"] for r in answered]
    out = {
        "questions": len(rows),
        "answered": len(answered),
        "kept": sum(r["kept_draft"] for r in answered),
        "f1": statistics.fmean(r["f1"] for r in answered) if answered else float("nan"),
        "first_p50": pct(firsts, 0.5),
        "first_p95": pct(firsts, 0.95),
        "supported": sum(c[0] for c in checks),
        "delivered": sum(c[1] for c in checks) if checks else None,
        "streamed_is_final": sum(r["streamed"] == r["answer"] for r in rows),
    }
    bare = [r for r in answered if r.get("bare_total_s")]
    if bare:
        out["overhead_total"] = sum(r["total_s"] for r in bare) / sum(
            r["bare_total_s"] for r in bare
        )
        out["overhead_p50"] = statistics.median(r["total_s"] / r["bare_total_s"] for r in bare)
        out["bare_first_p50"] = pct([r["bare_first_token_s"] or 0 for r in bare], 0.5)
        out["first_token_p50"] = pct(
            [r["timings"].get("first_token_s", 0) for r in bare if r["timings"]], 0.5
        )
    evals = [r["prompt_eval_tokens"] for r in answered if r.get("prompt_eval_tokens")]
    if evals:
        out["prompt_eval_p50"] = statistics.median(evals)
    return out


def print_table(results: dict[str, dict[str, dict]], typing: dict[str, list[float]]) -> None:
    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, CPU only, Python "
        f"{platform.python_version()} (shared machine: timings indicative)"
    )
    head = (
        f"{'backend':<13}{'dataset':<17}{'n':>4}{'ans':>5}{'kept':>12}{'supported':>16}"
        f"{'F1':>6}{'1st p50':>9}{'1st p95':>9}"
    )
    print(head)
    for backend, per in results.items():
        for name, s in per.items():
            kept = f"{s['kept']}/{s['answered']} {s['kept'] / max(1, s['answered']):.0%}"
            if s["delivered"] is None:
                sup = "n/a"
            else:
                sup = f"{s['supported']}/{s['delivered']} {s['supported'] / max(1, s['delivered']):.0%}"
            print(
                f"{backend:<13}{name:<17}{s['questions']:>4}{s['answered']:>5}{kept:>12}"
                f"{sup:>16}{s['f1']:>6.2f}{s['first_p50']:>9.2f}{s['first_p95']:>9.2f}"
            )
    for backend, per in results.items():
        s = per["all"]
        extra = ""
        if "overhead_total" in s:
            extra = (
                f"; pipeline ÷ bare llama.cpp (same prompts and outputs): "
                f"{s['overhead_total']:.2f} total, {s['overhead_p50']:.2f} per-question p50; "
                f"first token p50 {s['first_token_p50']:.2f}s vs bare {s['bare_first_p50']:.2f}s"
            )
        if "prompt_eval_p50" in s:
            extra += f"; prompt tokens evaluated p50 {s['prompt_eval_p50']:.0f}"
        lat = typing.get(backend) or []
        if lat:
            extra += (
                f"; typing indicator p50 {pct(lat, 0.5) * 1000:.0f} ms, "
                f"p95 {pct(lat, 0.95) * 1000:.0f} ms (n={len(lat)})"
            )
        print(f"{backend}: streamed == final for {s['streamed_is_final']}/{s['questions']}{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="llamacpp,transformers,extractive")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--limit", type=int, default=None, help="questions per dataset")
    parser.add_argument("--typing-samples", type=int, default=10)
    parser.add_argument("--out", default=None, help="folder for per-question JSONL")
    args = parser.parse_args()

    os.environ["DATA_DIR"] = tempfile.mkdtemp(prefix="bench-answer-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")
    os.environ.setdefault("CHATBOT_WARMUP", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    for var in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(var, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    out_dir = Path(args.out or tempfile.mkdtemp(prefix="bench-answer-out-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    datasets = args.datasets.split(",")
    results: dict[str, dict[str, dict]] = {}
    typing: dict[str, list[float]] = {}
    for backend in args.backends.split(","):
        out = out_dir / f"{backend}.jsonl"
        out.write_text("")
        rows = run_backend(backend, datasets, args.limit, out)
        results[backend] = {
            name: summarise([r for r in rows if r["dataset"] == name]) for name in datasets
        }
        results[backend]["all"] = summarise(rows)
        typing[backend] = typing_latency(args.typing_samples)
    print(f"per-question results: {out_dir}")
    print_table(results, typing)


if __name__ == "__main__":
    main()
