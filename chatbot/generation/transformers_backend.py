"""Hugging Face transformers backend: any causal LM id or local folder, on GPU if present.

With no model configured it loads the same SmolLM2 GGUF the llama.cpp backend uses
(transformers de-quantises GGUF into torch weights; needs `gguf` and `accelerate`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

from chatbot.generation.base import ChatMessage, Generator, default_gguf_path


class TransformersGenerator(Generator):
    def __init__(self, model: str = "") -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from faq_ingest.retrieval.embedders import pick_device

        self.device = pick_device("auto")
        kwargs: dict = {}
        model = model or default_gguf_path()
        path = Path(model)
        if path.exists():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if path.suffix == ".gguf":
            kwargs["gguf_file"] = path.name
            model = str(path.parent)
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        self.tokenizer = AutoTokenizer.from_pretrained(model, **kwargs)
        self.model = AutoModelForCausalLM.from_pretrained(model, dtype=dtype, **kwargs)
        self.model.to(self.device).eval()
        self.name = f"transformers:{path.name if path.exists() else model}"
        self._lock = threading.Lock()

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int, stop: list[str] | None = None
    ) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        inputs = self.tokenizer.apply_chat_template(
            list(messages),
            add_generation_prompt=True,
            return_tensors="pt",
            return_dict=True,
        ).to(self.device)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        with self._lock:
            worker = threading.Thread(
                target=self._generate, args=(inputs, streamer, max_tokens), daemon=True
            )
            worker.start()
            emitted = ""
            for piece in streamer:
                emitted += piece
                if stop and any(s in emitted for s in stop):
                    break
                if piece:
                    yield piece
            worker.join()

    def _generate(self, inputs, streamer, max_tokens: int) -> None:
        import torch

        with torch.inference_mode():
            self.model.generate(
                **inputs,
                streamer=streamer,
                max_new_tokens=max_tokens,
                do_sample=False,
                pad_token_id=self.tokenizer.eos_token_id,
            )
