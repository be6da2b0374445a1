"""Dynamic (iteration-level) batching for a Hugging Face causal LM on one device.

One scheduler thread owns the model. Every step it decodes one token for every active
sequence in a single forward pass, so N customers cost about one customer's step on a GPU
until the device saturates: throughput grows with load. A request that arrives mid-way
joins at the next step (it does not wait for the batch to finish), and one that ends or is
cancelled leaves at once, freeing its row.

How rows of different lengths share one KV cache: each new prompt is prefilled alone
(exactly as it would be unbatched), then its cache is left-padded to the batch's length and
concatenated on the batch dimension; an attention mask hides the padding, and explicit
position ids keep each row's positions its own. Padded cache slots hold zeros and are
masked, so a batched row computes the same attention as an unbatched one.

transformers' own continuous batching (`generate_batch`, paged attention) is GPU-only and
experimental in the pinned version (it sizes its cache from CUDA memory stats and fails
on CPU), so this scheduler uses only the stable public pieces: a forward pass with
`past_key_values`, `attention_mask` and `position_ids`, and DynamicCache's legacy tuples.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

_END = object()  # sentinel on a request's output queue


@dataclass
class BatchRequest:
    prompt_ids: list[int]
    max_new_tokens: int
    out: queue.Queue = field(default_factory=queue.Queue)  # token ids, then _END or an error
    cancelled: threading.Event = field(default_factory=threading.Event)
    generated: int = 0

    def cancel(self) -> None:
        self.cancelled.set()

    def tokens(self):
        """The generated token ids as they come; raises what the scheduler hit."""
        while True:
            item = self.out.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item


@dataclass
class BatchStats:
    steps: int = 0  # decode forward passes
    rows_decoded: int = 0  # sum over steps of the rows in the step
    largest_batch: int = 0


class BatchScheduler:
    def __init__(self, model, *, eos_token_ids: set[int], device: str, max_batch: int) -> None:
        self.model = model
        self.eos = eos_token_ids
        self.device = device
        self.max_batch = max_batch
        self.stats = BatchStats()
        self._incoming: queue.Queue[BatchRequest] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, prompt_ids: list[int], max_new_tokens: int) -> BatchRequest:
        request = BatchRequest(list(prompt_ids), max_new_tokens)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._serve, name="batch-scheduler", daemon=True
                )
                self._thread.start()
        self._incoming.put(request)
        return request

    # --- the scheduler thread -----------------------------------------------------------

    def _serve(self) -> None:
        import torch

        with torch.inference_mode():
            batch = _Batch(self)
            while True:
                try:
                    if not batch.rows:
                        batch.admit([self._incoming.get()])
                    waiting = []
                    while len(batch.rows) + len(waiting) < self.max_batch:
                        try:
                            waiting.append(self._incoming.get_nowait())
                        except queue.Empty:
                            break
                    if waiting:
                        batch.admit(waiting)
                    if batch.rows:
                        batch.step()
                except Exception as exc:  # a failed step fails its rows, not the thread
                    log.exception("batched generation failed")
                    batch.fail_all(exc)


class _Batch:
    """The scheduler thread's state: the active rows and their shared, left-padded cache."""

    def __init__(self, owner: BatchScheduler) -> None:
        self.owner = owner
        self.rows: list[BatchRequest] = []
        self.cache: list[tuple] | None = None  # per layer (keys, values): [B, H, T, D]
        self.mask = None  # [B, T] 1 = real token
        self.last = None  # [B] the token each row feeds next
        self.positions = None  # [B] the position id of that token

    def admit(self, requests: list[BatchRequest]) -> None:
        import torch
        from transformers import DynamicCache

        for request in requests:
            if request.cancelled.is_set():
                request.out.put(_END)
                continue
            try:
                ids = torch.tensor([request.prompt_ids], device=self.owner.device)
                out = self.owner.model(
                    input_ids=ids, past_key_values=DynamicCache(), use_cache=True
                )
            except Exception as exc:
                request.out.put(exc)
                continue
            token = int(out.logits[0, -1].argmax())
            cache = out.past_key_values.to_legacy_cache()
            if not self._emit(request, token):
                continue
            self._join(
                request,
                cache,
                torch.ones(1, ids.shape[1], dtype=torch.long, device=ids.device),
                token,
                ids.shape[1],
            )

    def _join(self, request, cache, mask, token: int, position: int) -> None:
        import torch

        device = mask.device
        last = torch.tensor([token], device=device)
        pos = torch.tensor([position], device=device)
        if not self.rows:
            self.rows, self.cache, self.mask, self.last, self.positions = (
                [request],
                [tuple(kv) for kv in cache],
                mask,
                last,
                pos,
            )
            return
        width = max(self.mask.shape[1], mask.shape[1])
        old_pad, new_pad = width - self.mask.shape[1], width - mask.shape[1]
        self.cache = [
            tuple(
                torch.cat([_left_pad(a, old_pad), _left_pad(b, new_pad)], dim=0)
                for a, b in zip(old, new, strict=True)
            )
            for old, new in zip(self.cache, cache, strict=True)
        ]
        self.mask = torch.cat(
            [
                torch.nn.functional.pad(self.mask, (old_pad, 0)),
                torch.nn.functional.pad(mask, (new_pad, 0)),
            ]
        )
        self.last = torch.cat([self.last, last])
        self.positions = torch.cat([self.positions, pos])
        self.rows.append(request)

    def step(self) -> None:
        """One decode forward pass for every row; emit, then drop finished rows."""
        import torch
        from transformers import DynamicCache

        # Rows cancelled since the last step leave before paying for this one.
        self._keep([i for i, r in enumerate(self.rows) if not r.cancelled.is_set()], end=True)
        if not self.rows:
            return
        stats = self.owner.stats
        stats.steps += 1
        stats.rows_decoded += len(self.rows)
        stats.largest_batch = max(stats.largest_batch, len(self.rows))
        mask = torch.cat([self.mask, torch.ones_like(self.mask[:, :1])], dim=1)
        out = self.owner.model(
            input_ids=self.last[:, None],
            attention_mask=mask,
            position_ids=self.positions[:, None],
            past_key_values=DynamicCache.from_legacy_cache(tuple(self.cache)),
            use_cache=True,
        )
        tokens = out.logits[:, -1].argmax(dim=-1)
        self.cache = [tuple(kv) for kv in out.past_key_values.to_legacy_cache()]
        self.mask = mask
        self.last = tokens
        self.positions = self.positions + 1
        keep = [i for i, r in enumerate(self.rows) if self._emit(r, int(tokens[i]))]
        self._keep(keep, end=False)

    def _emit(self, request: BatchRequest, token: int) -> bool:
        """Hand one token to its request; False when the request is now finished."""
        if request.cancelled.is_set() or token in self.owner.eos:
            request.out.put(_END)
            return False
        request.out.put(token)
        request.generated += 1
        if request.generated >= request.max_new_tokens:
            request.out.put(_END)
            return False
        return True

    def _keep(self, indices: list[int], *, end: bool) -> None:
        import torch

        if len(indices) == len(self.rows):
            return
        if end:
            for i, row in enumerate(self.rows):
                if i not in indices:
                    row.out.put(_END)
        if not indices:
            self.rows, self.cache, self.mask, self.last, self.positions = [], None, None, None, None
            return
        index = torch.tensor(indices, device=self.mask.device)
        self.rows = [self.rows[i] for i in indices]
        self.mask = self.mask.index_select(0, index)
        # Columns that are padding in every remaining row are dropped.
        first = int(self.mask.any(dim=0).nonzero()[0])
        self.mask = self.mask[:, first:]
        self.cache = [
            tuple(t.index_select(0, index)[:, :, first:, :] for t in kv) for kv in self.cache
        ]
        self.last = self.last.index_select(0, index)
        self.positions = self.positions.index_select(0, index)

    def fail_all(self, exc: Exception) -> None:
        for row in self.rows:
            row.out.put(exc)
        self.rows, self.cache, self.mask, self.last, self.positions = [], None, None, None, None


def _left_pad(t, n: int):
    import torch

    if n == 0:
        return t
    pad = torch.zeros(*t.shape[:2], n, t.shape[3], dtype=t.dtype, device=t.device)
    return torch.cat([pad, t], dim=2)
