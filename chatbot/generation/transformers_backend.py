"""Hugging Face transformers backend: a hub id, a local folder or a GGUF file, optionally
with a LoRA adapter, on the device and dtype the settings name (CUDA when present).

With no model configured it loads the same SmolLM2 GGUF the llama.cpp backend uses
(transformers de-quantises GGUF into torch weights; needs `gguf` and `accelerate`).

Concurrent requests share the device through a dynamic batching scheduler
(chatbot/generation/batching.py): run the worker with `-P threads -c CHATBOT_MAX_BATCH` and
each reply in flight becomes one row of the batch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from chatbot.envconf import ConfigError
from chatbot.generation.base import ChatMessage, Generator, default_gguf_path

# Decoded text that ends in this is half a multi-byte character: wait for the next token.
_PARTIAL = "\ufffd"


def resolve_device(requested: str) -> str:
    """CHATBOT_DEVICE: "auto" is CUDA when present (the first visible GPU, which is the one
    CUDA_VISIBLE_DEVICES pinned the worker to), else CPU; anything else is used as given."""
    import torch

    requested = (requested or "auto").strip()
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"CHATBOT_DEVICE={requested} but no CUDA device is visible")
    try:
        torch.device(requested)
    except RuntimeError as exc:
        raise ConfigError(f"CHATBOT_DEVICE={requested!r} is not a torch device: {exc}") from None
    return requested


def resolve_dtype(requested: str, device: str):
    import torch

    if requested == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[
        requested
    ]


class TransformersGenerator(Generator):
    def __init__(self, model: str = "") -> None:
        from django.conf import settings
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from chatbot.generation.batching import BatchScheduler

        self.device = resolve_device(settings.GENERATOR_DEVICE)
        dtype = resolve_dtype(settings.GENERATOR_DTYPE, self.device)
        kwargs: dict = {}
        model = model or default_gguf_path()
        path = Path(model)
        if path.exists():
            # A local model must never trigger a hub lookup.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if path.suffix == ".gguf":
            kwargs["gguf_file"] = path.name
            model = str(path.parent)
        self.tokenizer = AutoTokenizer.from_pretrained(model, **kwargs)
        lm = AutoModelForCausalLM.from_pretrained(model, dtype=dtype, **kwargs)
        adapter = settings.GENERATOR_LORA_ADAPTER
        if adapter:
            if not Path(adapter).exists():
                raise ConfigError(f"CHATBOT_LORA_ADAPTER={adapter!r} does not exist")
            from peft import PeftModel

            # Merged once at load: serving then costs exactly what the base model costs.
            lm = PeftModel.from_pretrained(lm, adapter).merge_and_unload()
        self.model = lm.to(self.device).eval()
        label = path.name if path.exists() else model
        self.name = f"transformers:{label}" + (f"+lora:{Path(adapter).name}" if adapter else "")
        self.slots = settings.GENERATOR_MAX_BATCH
        eos = self.model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
        eos_ids.add(self.tokenizer.eos_token_id)
        self.scheduler = BatchScheduler(
            self.model, eos_token_ids=eos_ids, device=self.device, max_batch=self.slots
        )

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        prompt = self.tokenizer.apply_chat_template(list(messages), add_generation_prompt=True)
        request = self.scheduler.submit(prompt, max_tokens)
        ids: list[int] = []
        sent = ""
        try:
            for token in request.tokens():
                ids.append(token)
                text = self.tokenizer.decode(ids, skip_special_tokens=True)
                if text.endswith(_PARTIAL):
                    continue
                if stop:
                    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
                    if cut >= 0:
                        if cut > len(sent):
                            yield text[len(sent) : cut]
                        return
                piece = text[len(sent) :]
                if piece:
                    sent = text
                    yield piece
        finally:
            # Done, cancelled by the caller (close()), or failed: the row leaves the batch.
            request.cancel()
