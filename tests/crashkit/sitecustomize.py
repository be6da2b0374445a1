"""Test-only fault injection for app subprocesses (see tests/test_crash_recovery_*.py).

Put this folder, then the repository root, on PYTHONPATH and set CRASHKIT_DIR. With
CRASHKIT_BLOCK_BUILD=1, the first index build of the process writes
`$CRASHKIT_DIR/build-blocked` (holding its pid) and then hangs, so the test can kill the
process in the middle of a build, deterministically, instead of racing a fast build.

Only batch encodes block (an index build); single-query encodes (searches) do not.
"""

import os
import time
from pathlib import Path

if os.environ.get("CRASHKIT_BLOCK_BUILD") == "1":
    from faq_ingest.retrieval import embedders

    _encode = embedders.HashingEmbedder.encode

    def _blocking_encode(self, texts, *, batch_size=64):
        if len(texts) > 1:
            marker = Path(os.environ["CRASHKIT_DIR"]) / "build-blocked"
            marker.write_text(str(os.getpid()))
            while True:  # until the test kills this process
                time.sleep(0.1)
        return _encode(self, texts, batch_size=batch_size)

    embedders.HashingEmbedder.encode = _blocking_encode
