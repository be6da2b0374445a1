"""The transformers backend: dynamic batching (concurrent streams share decode steps and give
the same greedy text as alone), cancel, LoRA adapters, device and dtype from settings.

The batching checks run twice: on a tiny random Llama saved to a local folder (fast, also a
test of the local-folder path), and on the real SmolLM2 GGUF (slow)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from chatbot.envconf import ConfigError
from chatbot.generation.base import default_gguf_path
from chatbot.generation.transformers_backend import (
    TransformersGenerator,
    resolve_device,
    resolve_dtype,
)
from tests.services import ROOT, app_env

PROMPTS = [
    [{"role": "user", "content": "How long do I have to return an item?"}],
    [{"role": "user", "content": "What does standard shipping cost?"}],
    [{"role": "user", "content": "Reset my password please"}],
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A 2-layer random Llama with SmolLM2's tokenizer, in a local folder."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny-llama")
    gguf = Path(default_gguf_path())
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    tokenizer.save_pretrained(folder)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


def _generator(settings, model: str, *, adapter: str = "", max_batch: int = 8):
    settings.GENERATOR_DEVICE = "cpu"
    settings.GENERATOR_DTYPE = "float32"
    settings.GENERATOR_LORA_ADAPTER = adapter
    settings.GENERATOR_MAX_BATCH = max_batch
    return TransformersGenerator(model)


def _concurrently(gen, prompts, max_tokens: int) -> list[str]:
    """All prompts streamed at once from separate threads, as an inference worker's
    `-P threads` pool does."""
    results: list[str | None] = [None] * len(prompts)
    barrier = threading.Barrier(len(prompts))

    def run(i: int) -> None:
        barrier.wait()
        results[i] = "".join(gen.stream(prompts[i], max_tokens=max_tokens))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(prompts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    return results


def _assert_batched_like_alone(gen, prompts, max_tokens: int) -> None:
    alone = ["".join(gen.stream(p, max_tokens=max_tokens)) for p in prompts]
    before = (gen.scheduler.stats.steps, gen.scheduler.stats.rows_decoded)
    together = _concurrently(gen, prompts, max_tokens)
    steps = gen.scheduler.stats.steps - before[0]
    rows = gen.scheduler.stats.rows_decoded - before[1]
    assert together == alone
    assert all(alone)
    # Batched: the concurrent run decoded several rows per forward pass.
    assert gen.scheduler.stats.largest_batch >= 2
    assert rows > steps, (rows, steps)


def test_concurrent_streams_are_batched_and_match_their_solo_text(settings, tiny_model):
    gen = _generator(settings, str(tiny_model))
    _assert_batched_like_alone(gen, PROMPTS, max_tokens=12)


def test_a_request_joins_a_batch_already_running_and_leaves_when_cancelled(settings, tiny_model):
    gen = _generator(settings, str(tiny_model))
    alone = "".join(gen.stream(PROMPTS[1], max_tokens=10))
    long_stream = gen.stream(PROMPTS[0], max_tokens=200)
    next(long_stream)  # the first request is decoding
    joined = "".join(gen.stream(PROMPTS[1], max_tokens=10))  # joins mid-way, finishes first
    assert joined == alone
    assert gen.scheduler.stats.largest_batch >= 2
    long_stream.close()  # cancel: the row leaves the batch
    steps = gen.scheduler.stats.steps
    # Nothing keeps decoding the cancelled row.
    assert "".join(gen.stream(PROMPTS[2], max_tokens=3))
    assert gen.scheduler.stats.steps - steps <= 4


def test_at_most_max_batch_rows_share_a_step(settings, tiny_model):
    gen = _generator(settings, str(tiny_model), max_batch=2)
    _concurrently(gen, PROMPTS, max_tokens=6)
    assert gen.scheduler.stats.largest_batch == 2


def test_a_lora_adapter_is_applied(settings, tiny_model, tmp_path):
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoTokenizer, LlamaForCausalLM

    torch.manual_seed(1)
    base = LlamaForCausalLM.from_pretrained(tiny_model)
    # init_lora_weights=False: random B, so the adapter changes the output (a fresh LoRA
    # is a no-op by design).
    lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    get_peft_model(base, lora).save_pretrained(tmp_path / "adapter")

    plain = _generator(settings, str(tiny_model))
    adapted = _generator(settings, str(tiny_model), adapter=str(tmp_path / "adapter"))
    assert adapted.name.endswith("+lora:adapter")
    prompt = PROMPTS[0]
    with_adapter = "".join(adapted.stream(prompt, max_tokens=8))
    assert with_adapter != "".join(plain.stream(prompt, max_tokens=8))

    # The same text as peft's own (unmerged) model generating greedily.
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    reference = PeftModel.from_pretrained(
        LlamaForCausalLM.from_pretrained(tiny_model), tmp_path / "adapter"
    ).eval()
    ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_tensors="pt")
    out = reference.generate(ids, max_new_tokens=8, do_sample=False)
    expected = tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)
    assert with_adapter == expected


def test_a_missing_adapter_is_a_clear_error(settings, tiny_model, tmp_path):
    with pytest.raises(ConfigError, match="CHATBOT_LORA_ADAPTER"):
        _generator(settings, str(tiny_model), adapter=str(tmp_path / "nope"))


def test_device_and_dtype_come_from_settings():
    import torch

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA device"):
            resolve_device("cuda:0")
    with pytest.raises(ConfigError, match="not a torch device"):
        resolve_device("gpu-please")
    assert resolve_dtype("auto", "cpu") == torch.float32
    assert resolve_dtype("auto", "cuda") == torch.bfloat16
    assert resolve_dtype("float16", "cpu") == torch.float16


def test_a_bad_dtype_fails_at_start_up(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=app_env(DATA_DIR=str(tmp_path), CHATBOT_DTYPE="float8"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "CHATBOT_DTYPE" in result.stderr


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_smollm2_gguf_streams_batched_with_the_same_greedy_text_as_alone(settings):
    gen = _generator(settings, default_gguf_path())
    prompts = PROMPTS[:2]
    _assert_batched_like_alone(gen, prompts, max_tokens=16)
