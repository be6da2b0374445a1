"""Handoff triggers on the escalation development set: precision, recall and unnecessary
handoffs, per trigger and for the whole policy, on the dev and test splits.

Run:  .venv/bin/python bench/escalation.py                 (about a minute on 2 CPU cores)
      .venv/bin/python bench/escalation.py --sweep         (the dev-split sweeps the
                                                           defaults were chosen from)
      .venv/bin/python bench/escalation.py --errors test   (every miss and false alarm)
      .venv/bin/python bench/escalation.py --embedder hashing   (no model: a quick look)

Each conversation of bench/datasets/escalation/conversations.{dev,test}.jsonl is played
through chatbot.escalation the way the chat calls it: before_answer, then the real
retrieval over the demo knowledge base (bench/datasets/demo/faqs.jsonl, a throwaway
hybrid index with the shipped retrieval model and the default MiniLM embedder, as
`manage.py evaluate --faqs` builds it), then after_answer and the rephrase rule, and
after_feedback for ratings. The bot's answer is taken to cite the top hit (what the
grounding fallback cites); a conversation stops at its first handoff, as it would live.
FAQ tags come from bench/datasets/escalation/faq_tags.json.

Scores, per step reached (a customer message or a rating):
- precision: handoffs at steps labelled "escalate" / all handoffs;
- recall: labelled steps that handed over / labelled steps reached;
- unnecessary handoffs: answerable steps (a gold FAQ, no reason to escalate) that handed
  over / such steps reached;
- per trigger, the trigger runs alone; a handoff counts as right only where its kind is
  among the step's acceptable kinds ("agent" in "can an agent pick up my parcel" is wrong
  for explicit_request even though that query is out of scope), and recall is over the
  steps labelled with it first;
- conversation level (whole policy): a conversation with a labelled step is caught when
  its first handoff falls on a labelled step; "late" counts the turns after the first
  labelled one (what asking to rephrase first costs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "datasets" / "escalation"
DEMO_FAQS = ROOT / "bench" / "datasets" / "demo" / "faqs.jsonl"
TRIGGERS = (
    "explicit_request",
    "low_confidence",
    "negative_feedback",
    "frustration",
    "circling",
    "sensitive_topic",
)


def setup_django(embedder: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")
    os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="bench-escalation-"))
    if embedder == "hashing":
        os.environ["CHATBOT_EMBEDDER"] = "hashing"
    import django

    django.setup()


def load_conversations(split: str) -> list[dict]:
    with (DATA / f"conversations.{split}.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# --- retrieval --------------------------------------------------------------------------


@dataclass
class Retrieval:
    """Confidence and top hit for every customer text, computed once."""

    by_text: dict[str, tuple[float, int | None]]
    faq_key: dict[int, str]  # integer id the bot cites -> demo FAQ id
    search_s: list[float]
    embedder: str


def retrieve_all(texts: set[str]) -> Retrieval:
    from faq_ingest import evaluation
    from faq_ingest.retrieval.embedders import get_embedder
    from faq_ingest.retrieval.searcher import IndexDoc

    demo = evaluation.load_faqs(DEMO_FAQS)
    # Production cites integer primary keys; give the demo FAQs some.
    docs = [replace(d, id=str(n)) for n, d in enumerate(demo, start=1)]
    faq_key = {n: d.id for n, d in enumerate(demo, start=1)}
    embedder = get_embedder()
    searcher = evaluation.build_searcher(docs, embedder)
    assert all(isinstance(d, IndexDoc) for d in searcher.docs)
    searcher.search("warm up the embedder", k=3)
    by_text: dict[str, tuple[float, int | None]] = {}
    timings = []
    for text in sorted(texts):
        t0 = time.perf_counter()
        result = searcher.search(text, k=3)
        timings.append(time.perf_counter() - t0)
        top = int(result.hits[0].doc.id) if result.hits else None
        by_text[text] = (float(result.confidence), top)
    return Retrieval(by_text, faq_key, timings, embedder.name)


def tags_lookup(faq_key: dict[int, str]) -> Callable[[tuple[int, ...]], dict[int, list[str]]]:
    tags = json.loads((DATA / "faq_tags.json").read_text(encoding="utf-8"))

    def tags_of(ids: tuple[int, ...]) -> dict[int, list[str]]:
        return {i: tags[faq_key[i]] for i in ids if faq_key.get(i) in tags}

    return tags_of


# --- simulation -------------------------------------------------------------------------


@dataclass
class StepResult:
    conv: str
    index: int
    text: str
    lang: str
    escalate: bool
    kinds: list[str]
    answerable: bool
    gold: bool = False
    is_rating: bool = False
    fired: str | None = None
    reason: str = ""
    rephrase: bool = False
    confidence: float | None = None


@dataclass
class Run:
    steps: list[StepResult] = field(default_factory=list)

    def conversations(self) -> dict[str, list[StepResult]]:
        out: dict[str, list[StepResult]] = {}
        for s in self.steps:
            out.setdefault(s.conv, []).append(s)
        return out


def simulate(convs: list[dict], policy, retrieval: Retrieval, tags_of) -> Run:
    from chatbot import escalation as esc

    run = Run()
    for conv in convs:
        history: list[esc.Turn] = []
        for i, step in enumerate(conv["steps"]):
            res = StepResult(
                conv["id"],
                i,
                step.get("say", f"<feedback {step.get('feedback')}>"),
                conv["lang"],
                step["escalate"],
                step["kinds"],
                bool(step["gold"]) and not step["escalate"],
            )
            run.steps.append(res)
            if "say" in step:
                text = step["say"]
                trigger = esc.before_answer(text, history, policy=policy)
                conf, top = retrieval.by_text[text]
                res.confidence = conf
                if trigger is None:
                    cited = (
                        (top,) if top is not None and conf >= policy.confidence_threshold else ()
                    )
                    trigger = esc.after_answer(
                        text,
                        history,
                        confidence=conf,
                        cited_faq_ids=cited,
                        policy=policy,
                        tags_of=tags_of,
                    )
                    if trigger is None:
                        res.rephrase = esc.low_confidence_needs_rephrase(
                            history, conf, policy=policy
                        )
                        history.append(esc.Turn(esc.CUSTOMER, text))
                        history.append(
                            esc.Turn(
                                esc.BOT,
                                "please rephrase" if res.rephrase else "answer",
                                confidence=conf,
                                cited_faq_ids=() if res.rephrase else cited,
                            )
                        )
            else:
                bots = [t for t in history if t.role == esc.BOT]
                if bots:
                    bots[-1].feedback = step["feedback"]
                trigger = esc.after_feedback(history, policy=policy)
            if trigger is not None:
                res.fired, res.reason = trigger.kind, trigger.reason
                break
    return run


# --- scores -----------------------------------------------------------------------------


def ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def right_for(kind: str, step: StepResult) -> bool:
    """Whether `kind` is a right reason to hand over at this step. "Not confident" is
    true of any step that should escalate and that no FAQ answers ("转人工" included),
    so low_confidence is right there even where the label names another kind."""
    if kind in step.kinds:
        return True
    return kind == "low_confidence" and step.escalate and not step.gold


def score(run: Run, kind: str | None = None) -> dict:
    """Precision/recall/unnecessary handoffs; with `kind`, a handoff is right where the
    step accepts that kind, and recall is over the steps whose first (primary) kind it is."""
    fired = [s for s in run.steps if s.fired]
    if kind is None:
        positive = [s for s in run.steps if s.escalate]
        tp = sum(1 for s in fired if s.escalate)
    else:
        positive = [s for s in run.steps if s.kinds[:1] == [kind]]
        tp = sum(1 for s in fired if right_for(kind, s))
    caught = sum(1 for s in positive if s.fired)
    answerable = [s for s in run.steps if s.answerable]
    unnecessary = sum(1 for s in answerable if s.fired)
    return {
        "fired": len(fired),
        "precision": ratio(tp, len(fired)),
        "recall": ratio(caught, len(positive)),
        "positives": len(positive),
        "unnecessary": unnecessary,
        "answerable": len(answerable),
        "unnecessary_rate": ratio(unnecessary, len(answerable)),
        "rephrase_on_answerable": sum(1 for s in answerable if s.rephrase),
        "kind_agreement": ratio(
            sum(1 for s in fired if s.escalate and s.fired in s.kinds),
            sum(1 for s in fired if s.escalate),
        ),
    }


def f1(m: dict) -> float:
    """F1 of a score() or conversation_score() dict."""
    p, r = m["precision"] or 0.0, m["recall"] or 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def conversation_score(run: Run, kind: str | None = None) -> dict:
    """Per conversation: it should hand over if a step is labelled (with `kind` first,
    when given); it is caught when its first handoff falls on a step where that handoff
    is right."""

    def labelled(s: StepResult) -> bool:
        return s.escalate if kind is None else s.kinds[:1] == [kind]

    def right(s: StepResult) -> bool:
        return s.escalate if kind is None else right_for(kind, s)

    caught = escalated = should = 0
    late: list[int] = []
    for steps in run.conversations().values():
        first_pos = next((s.index for s in steps if labelled(s)), None)
        fired = next((s for s in steps if s.fired), None)
        should += first_pos is not None
        if fired is None:
            continue
        escalated += 1
        if right(fired):
            caught += first_pos is not None
            if first_pos is not None and fired.index >= first_pos:
                asked = [
                    s for s in steps if first_pos <= s.index <= fired.index and not s.is_rating
                ]
                late.append(max(0, len(asked) - 1))
    return {
        "conversations": len(run.conversations()),
        "should": should,
        "escalated": escalated,
        "precision": ratio(
            sum(
                1
                for steps in run.conversations().values()
                if (f := next((s for s in steps if s.fired), None)) and right(f)
            ),
            escalated,
        ),
        "recall": ratio(caught, should),
        "late_mean": statistics.fmean(late) if late else 0.0,
        "late_any": sum(1 for x in late if x),
    }


def alone(policy, kind: str):
    return replace(policy, enabled=frozenset({kind}))


# --- report -----------------------------------------------------------------------------


def pct(x: float | None) -> str:
    return "   n/a" if x is None else f"{x:6.2f}"


def table(rows: list[tuple[str, dict, dict]]) -> None:
    header = (
        f"{'':<26}{'--------- steps ---------':>28}{'-- conversations --':>22}\n"
        f"{'trigger':<26}{'fired':>6}{'precision':>10}{'recall':>7}{'(of)':>5}"
        f"{'precision':>11}{'recall':>7}{'(of)':>5}{'unnecessary handoffs':>24}"
    )
    print(header)
    print("-" * len(header.splitlines()[1]))
    for name, m, c in rows:
        un = m["unnecessary_rate"]
        un_s = (
            f"{m['unnecessary']}/{m['answerable']} ({un * 100:4.1f}%)" if un is not None else "n/a"
        )
        print(
            f"{name:<26}{m['fired']:>6}{pct(m['precision']):>10}{pct(m['recall']):>7}"
            f"{m['positives']:>5}{pct(c['precision']):>11}{pct(c['recall']):>7}{c['should']:>5}"
            f"{un_s:>24}"
        )


def report_split(split: str, convs: list[dict], policy, retrieval, tags_of) -> dict:
    n_steps = sum(len(c["steps"]) for c in convs)
    n_zh = sum(len(c["steps"]) for c in convs if c["lang"] == "zh")
    print(
        f"\n--- split {split}: {len(convs)} conversations, {n_steps} steps "
        f"({n_steps - n_zh} English, {n_zh} Chinese) ---"
    )
    rows = []
    results = {}
    for kind in TRIGGERS:
        if not policy.on(kind):
            continue
        run = simulate(convs, alone(policy, kind), retrieval, tags_of)
        m, c = score(run, kind), conversation_score(run, kind)
        rows.append((f"{kind} (alone)", m, c))
        results[kind] = {**m, "conversation": c}
    if policy.on("low_confidence") and policy.low_confidence_misses != 1:
        # The other setting of the main knob, for comparison: hand over on the first miss.
        once = replace(policy, low_confidence_misses=1)
        run = simulate(convs, alone(once, "low_confidence"), retrieval, tags_of)
        rows.append(
            (
                "low_confidence x1 (alone)",
                score(run, "low_confidence"),
                conversation_score(run, "low_confidence"),
            )
        )
        run = simulate(convs, once, retrieval, tags_of)
        rows.append(("ALL, low_confidence x1", score(run), conversation_score(run)))
    whole = simulate(convs, policy, retrieval, tags_of)
    overall = score(whole)
    conv = conversation_score(whole)
    rows.append(("ALL (policy)", overall, conv))
    for lang in ("en", "zh"):
        sub = Run([s for s in whole.steps if s.lang == lang])
        rows.append((f"  {lang} only", score(sub), conversation_score(sub)))
    table(rows)
    print(
        f"kind agreement (right handoffs whose trigger is an accepted kind): "
        f"{pct(overall['kind_agreement']).strip()}; asked to rephrase on answerable steps: "
        f"{overall['rephrase_on_answerable']}"
    )
    print(
        f"conversations: {conv['should']} of {conv['conversations']} should hand over, "
        f"{conv['escalated']} did; caught one or more customer turns after the first "
        f"labelled one: {conv['late_any']}"
    )
    results["all"] = overall
    results["conversation"] = conv
    results["run"] = whole
    return results


def describe(policy) -> str:
    return (
        f"threshold {policy.confidence_threshold:.2f}, low confidence after "
        f"{policy.low_confidence_misses} miss(es) in a row, {policy.negative_feedback} thumbs-down "
        f"per {policy.negative_feedback_scope.replace('_', ' ')}, frustration >= "
        f"{policy.frustration_threshold:g}, circling after {policy.circling} answers "
        f"(word overlap >= {policy.circling_similarity:g}), topics "
        f"{','.join(sorted(policy.sensitive_topics))}, FAQ tags "
        f"{','.join(sorted(policy.sensitive_faq_tags))}"
    )


def sweep(convs, policy, retrieval, tags_of) -> None:
    print("\n=== Sweeps on the dev split (defaults chosen here; test never looked at) ===")
    grids = [
        ("low_confidence", "low_confidence_misses", [1, 2, 3]),
        # For information only: the threshold belongs to retrieval calibration
        # (docs/evaluation.md); shown with one miss so each value's effect is direct.
        ("low_confidence", "confidence_threshold", [0.3, 0.4, 0.5, 0.6, 0.7]),
        ("frustration", "frustration_threshold", [1.0, 2.0, 3.0, 4.0]),
        ("circling", "circling_similarity", [0.0, 0.34, 0.5, 0.67, 1.01]),
        ("circling", "circling", [2, 3]),
        ("negative_feedback", "negative_feedback", [1, 2, 3]),
        ("negative_feedback", "negative_feedback_scope", ["conversation", "in_a_row"]),
    ]
    for kind, knob, values in grids:
        print(f"\n{kind}: {knob}")
        rows = []
        base = (
            replace(policy, low_confidence_misses=1) if knob == "confidence_threshold" else policy
        )
        for value in values:
            p = replace(base, **{knob: value})
            run = simulate(convs, alone(p, kind), retrieval, tags_of)
            m, c = score(run, kind), conversation_score(run, kind)
            whole = conversation_score(simulate(convs, p, retrieval, tags_of))
            m["_f1"], m["_whole"] = f1(c), whole
            rows.append((f"{value}", m, c))
        table(rows)
        print("   conversation F1 alone: " + ", ".join(f"{n}={m['_f1']:.3f}" for n, m, _c in rows))
        print(
            "   whole policy, conversation precision/recall: "
            + ", ".join(
                f"{n}={pct(m['_whole']['precision']).strip()}/{pct(m['_whole']['recall']).strip()}"
                for n, m, _c in rows
            )
        )


def errors(split: str, run: Run, title: str = "whole policy", kind: str | None = None) -> None:
    print(f"\n=== Misses and false alarms, split {split}, {title} ===")
    for s in run.steps:
        if kind is not None:
            if s.fired and not right_for(kind, s):
                tag = "UNNECESSARY" if s.answerable else "FALSE ALARM"
                print(f"{tag:<12} {s.conv}#{s.index} want {s.kinds} {s.text!r} -- {s.reason}")
            elif s.kinds[:1] == [kind] and not s.fired:
                print(f"{'MISSED':<12} {s.conv}#{s.index} {s.text!r}")
            continue
        if s.fired and not s.escalate:
            tag = "UNNECESSARY" if s.answerable else "FALSE ALARM"
            print(f"{tag:<12} {s.conv}#{s.index} [{s.fired}] {s.text!r} -- {s.reason}")
        elif s.escalate and not s.fired:
            conf = "" if s.confidence is None else f" conf={s.confidence:.2f}"
            print(f"{'MISSED':<12} {s.conv}#{s.index} want {s.kinds}{conf} {s.text!r}")
        elif s.fired and s.fired not in s.kinds:
            print(f"{'OTHER KIND':<12} {s.conv}#{s.index} [{s.fired}] want {s.kinds} {s.text!r}")


def timing(convs: list[dict], policy, retrieval: Retrieval) -> None:
    """Cost of the triggers against the retrieval they sit next to, same run."""
    from chatbot import escalation as esc

    texts = [s["say"] for c in convs for s in c["steps"] if "say" in s]
    history = [esc.Turn(esc.CUSTOMER, "how do i return boots"), esc.Turn(esc.BOT, "a", 0.9, (1,))]
    t0 = time.perf_counter()
    for text in texts:
        esc.before_answer(text, history, policy=policy)
        esc.after_answer(
            text, history, confidence=0.9, cited_faq_ids=(1,), policy=policy, tags_of=lambda _i: {}
        )
    per_call = (time.perf_counter() - t0) / len(texts)
    search = statistics.median(retrieval.search_s)
    print(
        f"\ncost: before_answer + after_answer {per_call * 1000:.2f} ms per message "
        f"(mean over {len(texts)}), hybrid retrieval {search * 1000:.1f} ms (median, "
        f"{retrieval.embedder}); triggers / retrieval = {per_call / search:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "test", "both"], default="both")
    parser.add_argument("--embedder", choices=["default", "hashing"], default="default")
    parser.add_argument("--sweep", action="store_true", help="dev-split sweeps of each knob")
    parser.add_argument("--errors", choices=["dev", "test"], help="list every wrong step")
    parser.add_argument("--json", action="store_true", help="print the scores as JSON too")
    args = parser.parse_args()
    setup_django(args.embedder)
    from chatbot.escalation import get_policy

    splits = ["dev", "test"] if args.split == "both" else [args.split]
    data = {s: load_conversations(s) for s in {"dev", *splits}}
    texts = {
        st["say"] for convs in data.values() for c in convs for st in c["steps"] if "say" in st
    }
    load_start = os.getloadavg()
    print(f"retrieving {len(texts)} customer messages ...", file=sys.stderr, flush=True)
    retrieval = retrieve_all(texts)
    tags_of = tags_lookup(retrieval.faq_key)
    # The benchmark's knowledge base tags its FAQs (faq_tags.json) with words from the
    # default CHATBOT_HANDOFF_SENSITIVE_FAQ_TAGS, so the configured policy applies as is.
    policy = get_policy()

    print("\n== Handoff triggers (bench/escalation.py) ==")
    print(
        f"machine: {os.cpu_count()} CPU cores, {platform.machine()}, Python "
        f"{platform.python_version()}; load average {load_start[0]:.1f} at start (shared "
        "machine)"
    )
    print(
        f"retrieval: hybrid over {len(retrieval.faq_key)} demo FAQs, embedder "
        f"{retrieval.embedder}, shipped retrieval model; the answer cites the top hit"
    )
    print(f"policy (settings defaults): {describe(policy)}")
    out = {}
    for split in splits:
        out[split] = report_split(split, data[split], policy, retrieval, tags_of)
    if args.sweep:
        sweep(data["dev"], policy, retrieval, tags_of)
    if args.errors:
        run = out.get(args.errors, {}).get("run") or simulate(
            data[args.errors], policy, retrieval, tags_of
        )
        errors(args.errors, run)
        for kind in TRIGGERS:
            if policy.on(kind):
                alone_run = simulate(data[args.errors], alone(policy, kind), retrieval, tags_of)
                errors(args.errors, alone_run, f"{kind} alone", kind)
    timing(data["dev"], policy, retrieval)
    if args.json:
        print(
            json.dumps(
                {s: {k: v for k, v in r.items() if k != "run"} for s, r in out.items()},
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
