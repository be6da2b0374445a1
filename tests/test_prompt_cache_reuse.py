"""llama.cpp reuses the prompt's fixed prefix from one answer to the next.

llama-cpp-python keeps the previous prompt's tokens and evaluates only what differs from
them, so every prompt starts with the same instructions and only then the references and
the question. This proves it happens with the real default model: the second prompt's
evaluation skips the shared prefix."""

from __future__ import annotations

import pytest

from chatbot.answering.prompt import STOP, SYSTEM_PROMPT, build_messages
from faq_ingest.retrieval.searcher import IndexDoc

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

RETURNS = IndexDoc("1", "How long do I have to return an item?", "Within 30 days of delivery.")
SHIPPING = IndexDoc("2", "How much is shipping?", "Standard shipping costs $4.95.")


def _evaluated_prompt_tokens(llm, messages) -> int:
    import llama_cpp

    llama_cpp.llama_perf_context_reset(llm._ctx.ctx)
    for _ in llm.create_chat_completion(
        messages=messages, stream=True, max_tokens=4, temperature=0.0, top_k=1, stop=STOP
    ):
        pass
    return llama_cpp.llama_perf_context(llm._ctx.ctx).n_p_eval


def test_the_fixed_instruction_prefix_is_evaluated_once():
    from chatbot.generation import get_generator

    llm = get_generator("llamacpp", "")._llm
    prefix_tokens = len(llm.tokenize(SYSTEM_PROMPT.encode(), add_bos=False))
    assert prefix_tokens > 50
    first = build_messages("how long do I have to return boots", [RETURNS])
    second = build_messages("what does shipping cost", [SHIPPING])
    _evaluated_prompt_tokens(llm, first)
    evaluated = _evaluated_prompt_tokens(llm, second)
    total = len(llm.tokenize(_formatted(llm, second).encode(), add_bos=False, special=True))
    # Everything up to the references came from the cache.
    assert evaluated <= total - prefix_tokens, (evaluated, total, prefix_tokens)


def _formatted(llm, messages) -> str:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llm.metadata["tokenizer.chat_template"]
    formatter = Jinja2ChatFormatter(template, eos_token="<|im_end|>", bos_token="<|im_start|>")
    return formatter(messages=messages).prompt
