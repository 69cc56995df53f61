"""The registry's vector index on disk, with the change it reflects, shared safely by several processes.

Two files in the likeness folder: ``index.faiss`` and ``index.changes`` (the last change of the
registry's log the index holds). They are written together and read together under an advisory
file lock, so a reader never pairs one process's index with another's change number; each
write goes through a temporary file of its own and a rename, so a crash leaves the old pair.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sayso.voices.likeness.index import VectorIndex


class SavedIndex:
    """The saved index of one registry folder."""

    def __init__(self, folder: Path, dim: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.dim = dim
        self.index_path = folder / "index.faiss"
        self.changes_path = folder / "index.changes"
        self._lock_path = folder / "index.lock"
        (folder / "index.generation").unlink(missing_ok=True)  # the numbering before the change log

    def load(self) -> tuple[VectorIndex, int] | None:
        """The saved index and the change it reflects; None if there is none or it cannot be trusted."""
        with self._locked(fcntl.LOCK_SH):
            try:
                seq = int(self.changes_path.read_text().strip())
            except (OSError, ValueError):
                return None
            index = VectorIndex.load(self.index_path, self.dim)
        return None if index is None else (index, seq)

    def save(self, index: VectorIndex, seq: int) -> bool:
        """Write ``index`` as reflecting change ``seq``; whether it was written (see ``VectorIndex.save``)."""
        with self._locked(fcntl.LOCK_EX):
            if not index.save(self.index_path):
                if not self.index_path.exists():
                    self.changes_path.unlink(missing_ok=True)
                return False
            temporary = self.changes_path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(f"{seq}\n")
            temporary.replace(self.changes_path)
            return True

    @contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        with open(self._lock_path, "a") as handle:
            fcntl.flock(handle, mode)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
