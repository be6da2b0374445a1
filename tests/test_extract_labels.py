"""Labels that mark the parts of an entry ("问：", "答：", "Q:", "A:", "Question:",
"Answer:", "問：") never reach the stored question or answer, bold or not, with ASCII or
full-width colons, whatever markup carries the entry."""

from __future__ import annotations

import pytest

from faq_ingest.extract import extract_faqs
from faq_ingest.extract.text import strip_answer_label

QUESTION_LABELS = [
    "Q:",
    "Q：",
    "Question:",
    "问：",
    "問：",
    "问:",
    "<b>Q:</b>",
    "<strong>问：</strong>",
]
ANSWER_LABELS = [
    "A:",
    "A：",
    "Answer:",
    "答：",
    "答:",
    "回答：",
    "<b>A:</b>",
    "<strong>答：</strong>",
    "<b>答</b>：",
]


def _pages(q_label: str, a_label: str) -> dict[str, str]:
    q, a = f"{q_label} Can I pay by invoice?", f"{a_label} Yes, for orders over 500 euros."
    return {
        "details": f"<details><summary>{q}</summary><p>{a}</p></details>",
        "dl": f"<dl><dt>{q}</dt><dd>{a}</dd><dt>Other topic</dt><dd>Some other answer here.</dd></dl>",
        "paragraphs": f"<p>{q}</p><p>{a}</p>",
        "heading": f"<h3>{q}</h3><p>{a}</p>",
    }


@pytest.mark.parametrize("q_label", QUESTION_LABELS)
@pytest.mark.parametrize("a_label", ANSWER_LABELS)
def test_labels_are_stripped_in_every_markup(q_label: str, a_label: str) -> None:
    for markup, body in _pages(q_label, a_label).items():
        faqs = extract_faqs(f"<main><h1>Help</h1>{body}</main>", "https://shop.example/faq")
        entry = next((f for f in faqs if f.kind == "faq" and "invoice" in f.question), None)
        assert entry is not None, (markup, [(f.kind, f.question) for f in faqs])
        assert entry.question == "Can I pay by invoice?", (markup, entry.question)
        assert entry.answer == "Yes, for orders over 500 euros.", (markup, entry.answer)


@pytest.mark.parametrize(
    "answer",
    [
        "A lot of customers ask this; yes.",
        "Answers vary by country.",
        "**Answers** vary by country.",
        "Apple Pay: yes.",
        "答复时间为两个工作日。",  # "the reply takes two working days": no label here
    ],
)
def test_text_that_only_looks_like_a_label_is_kept(answer: str) -> None:
    assert strip_answer_label(answer) == answer


def test_a_label_alone_is_not_an_empty_answer() -> None:
    # Nothing but the label: better to keep it than to store an empty answer.
    assert strip_answer_label("**答：**") == "**答：**"
