"""Generator backends: the registry, and the non-default transformers backend on the
same SmolLM2 weights (so a configured Hugging Face model path really works)."""

from __future__ import annotations

import pytest

from chatbot.generation import BACKENDS, get_generator
from chatbot.generation.base import default_gguf_path


def test_registry_rejects_an_unknown_backend():
    with pytest.raises(ValueError, match="unknown generator backend"):
        get_generator("no-such-backend", "")


def test_every_registered_backend_names_an_importable_class():
    import importlib

    for spec in BACKENDS.values():
        module, cls = spec.split(":")
        assert hasattr(importlib.import_module(module), cls)


def test_extractive_backend_quotes_the_first_reference():
    from chatbot.answering.prompt import build_messages
    from faq_ingest.retrieval.searcher import IndexDoc

    gen = get_generator("extractive", "")
    messages = build_messages(
        "q",
        [IndexDoc("1", "Q?", "Returns take 30 days."), IndexDoc("2", "Other?", "Something else.")],
    )
    assert "".join(gen.stream(messages, max_tokens=50)).strip() == "Returns take 30 days. [1]"


@pytest.mark.slow
def test_transformers_backend_loads_the_gguf_and_streams_an_answer():
    from chatbot.answering.prompt import build_messages
    from faq_ingest.retrieval.searcher import IndexDoc

    gen = get_generator("transformers", default_gguf_path())
    ref = IndexDoc(
        "1",
        "How long do I have to return an item?",
        "You can return unworn items within 30 days of delivery for a full refund.",
    )
    pieces = list(
        gen.stream(build_messages("How long do I have to return something?", [ref]), max_tokens=32)
    )
    assert len(pieces) >= 2  # streamed, not returned in one piece
    # About the reference. (Whether what it says is supported is the verifier's job; the
    # fp32 weights do not always copy the "30 days" the quantised llama.cpp model does.)
    assert "return" in "".join(pieces).lower()
