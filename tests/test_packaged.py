"""Joining a model split over several packages: once, checked, and never half a file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from sayso.errors import ModelMissing
from sayso.packaged import join_parts


def make_parts(folder: Path, *pieces: bytes) -> tuple[list[Path], str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, piece in enumerate(pieces):
        path = folder / f"part{i:02d}.bin"
        path.write_bytes(piece)
        paths.append(path)
    return paths, hashlib.sha256(b"".join(pieces)).hexdigest()


def test_parts_are_joined_in_order_once(tmp_path: Path) -> None:
    parts, sha = make_parts(tmp_path / "parts", b"alpha-", b"beta-", b"gamma")
    target = tmp_path / "models" / "model.gguf"
    assert join_parts(parts, target, sha, "test model") == target
    assert target.read_bytes() == b"alpha-beta-gamma"
    for part in parts:  # a second call trusts the stamped file: the parts are not read again
        part.unlink()
    assert join_parts(parts, target, sha, "test model").read_bytes() == b"alpha-beta-gamma"
    assert not list(target.parent.glob("*.partial"))


def test_damaged_parts_are_refused_and_leave_no_file(tmp_path: Path) -> None:
    parts, sha = make_parts(tmp_path / "parts", b"alpha-", b"beta-", b"gamma")
    parts[1].write_bytes(b"BETA-")
    target = tmp_path / "models" / "model.gguf"
    with pytest.raises(ModelMissing, match="The test model files are damaged; reinstall them with `make run`."):
        join_parts(parts, target, sha, "test model")
    assert not target.exists() and not list(target.parent.iterdir())


def test_a_missing_part_is_a_clear_error(tmp_path: Path) -> None:
    parts, sha = make_parts(tmp_path / "parts", b"alpha-", b"beta-")
    parts[0].unlink()
    with pytest.raises(ModelMissing, match=r"Part of the test model is missing \(part00.bin\)"):
        join_parts(parts, tmp_path / "model.gguf", sha, "test model")


@pytest.mark.parametrize("damage", ["truncate", "flip", "leftover"])
def test_a_damaged_or_partial_join_is_redone(tmp_path: Path, damage: str) -> None:
    parts, sha = make_parts(tmp_path / "parts", b"alpha-", b"beta-", b"gamma")
    target = tmp_path / "model.gguf"
    if damage == "leftover":  # a crash mid-join: a partial file, and a half-written file under the real name
        target.with_name("model.gguf.partial").write_bytes(b"alpha-be")
        target.write_bytes(b"alpha-be")
    else:
        join_parts(parts, target, sha, "test model")
        data = target.read_bytes()
        target.write_bytes(data[:-3] if damage == "truncate" else data.replace(b"beta", b"BETA"))
        os.utime(target, ns=(1, 1))  # even with an old time, the stamp no longer matches the file
    assert join_parts(parts, target, sha, "test model").read_bytes() == b"alpha-beta-gamma"
