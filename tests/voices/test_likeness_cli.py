"""`sayso likeness ...`: the registry, checks, scoring and calibration from the command line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from sayso.audio.frames import Audio
from sayso.audio.io import read_audio, write_audio
from sayso.cli import EXIT_ERROR, main
from sayso.testing import silence
from sayso.voices.embedding import FusedEmbedder, ResemblyzerEmbedder
from tests.speechdata import recordings


@pytest.fixture
def shared_embedder(fused_embedder: FusedEmbedder) -> FusedEmbedder:
    return fused_embedder


@pytest.fixture(autouse=True)
def load_the_model_once(
    monkeypatch: pytest.MonkeyPatch, fused_embedder: FusedEmbedder, embedder: ResemblyzerEmbedder
) -> None:
    """Each command would load its models afresh (seconds); the tests share them, still the real models."""
    monkeypatch.setattr("sayso.voices.embedding.ResemblyzerEmbedder", lambda *_: embedder)
    monkeypatch.setattr("sayso.voices.likeness.load_embedder", lambda *_: fused_embedder)
    monkeypatch.setattr("sayso.cli.likeness.load_embedder", lambda *_: fused_embedder)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["likeness", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_clear_error(code: int, err: str, fragment: str) -> None:
    assert code == EXIT_ERROR
    assert err.startswith("sayso: ") and fragment in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def vctk(speaker: str) -> list[str]:
    return [str(r.path) for r in recordings("vctk") if r.speaker == f"vctk-{speaker}"]


def test_protect_list_check_and_remove(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "protect", "Pat Doe", *vctk("p225")[:3])
    assert code == 0 and "Pat Doe" in out and "not the audio" in out
    assert "No voice Sayso speaks in sounds like them" in out  # the voices were screened: none is like Pat
    listed = run(capsys, "list")[1]
    assert "Pat Doe" in listed and "encoder resemblyzer+campplus" in listed
    code, out, _ = run(capsys, "check", vctk("p225")[5])
    verdict = json.loads(out)
    assert code == 0 and verdict["allowed"] is False and verdict["verdict"] == "same person"
    assert verdict["matches"][0]["name"] == "Pat Doe"
    thresholds = verdict["thresholds"]
    assert verdict["matches"][0]["score"] >= thresholds["same_person"] > thresholds["sound_alike"]
    assert 0 < verdict["false_match_rate"]["same_person"] < verdict["false_match_rate"]["sound_alike"] <= 0.02
    assert json.loads(run(capsys, "check", vctk("p226")[0])[1])["allowed"] is True


def test_check_reports_a_short_clips_false_match_rate_from_its_length_band(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "protect", "Pat Doe", *vctk("p225")[:3])
    clip = read_audio(vctk("p226")[0]).resampled(16_000)
    short = write_audio(tmp_path / "short.wav", Audio(clip.samples[8_000:48_000], 16_000))  # 2.5 s, ~2 s of speech
    code, out, _ = run(capsys, "check", str(short))
    verdict = json.loads(out)
    assert code == 0 and verdict["length_band"].startswith("up to") and verdict["speech_seconds"] <= 3.9
    # The sound-alike threshold of a short clip's band is set at 1 % false matches among clips that
    # short, in the corpus where that is strictest; the rates reported are that corpus's.
    assert verdict["false_match_rate"]["sound_alike"] == pytest.approx(0.01, abs=0.001)
    assert 0 <= verdict["false_match_rate"]["same_person"] < verdict["false_match_rate"]["sound_alike"]
    nearest = verdict["nearest"][0]
    assert nearest["name"] == "Pat Doe" and 0.01 < nearest["false_match_rate"] <= 1.0
    assert run(capsys, "remove", "Pat Doe")[0] == 0
    assert "No one is protected" in run(capsys, "list")[1]


def test_score_keeps_every_column_and_adds_a_score(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shared_embedder: FusedEmbedder,
) -> None:
    embedded: list[int] = []
    real = shared_embedder.voiceprint
    monkeypatch.setattr(shared_embedder, "voiceprint", lambda audio: embedded.append(1) or real(audio))
    monkeypatch.setattr("sayso.voices.likeness.pairs.PROGRESS_SECONDS", 0.0)
    p225, p226 = vctk("p225"), vctk("p226")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(
        "id\tenroll\ttest\n"
        f"same\t{p225[0]}|{p225[1]}\t{p225[2]}\n"
        f"other\t{p225[0]}|{p225[1]}\t{p226[0]}\n"
        f"again\t{p226[1]}\t{p226[0]}\n"
    )
    code, out, err = run(capsys, "score", str(pairs), "-o", str(tmp_path / "scored.tsv"))
    assert code == 0 and "5 distinct files" in out
    assert len(embedded) == 5  # each file embedded once, however many pairs name it, and no variants
    assert "embedded 5/5 files" in err  # progress goes to standard error
    with (tmp_path / "scored.tsv").open() as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle, delimiter="\t")}
    assert list(rows["same"]) == ["id", "enroll", "test", "score"]
    assert float(rows["same"]["score"]) > float(rows["other"]["score"])
    assert float(rows["again"]["score"]) > float(rows["other"]["score"])


def test_calibrate_writes_thresholds_and_a_plot(capsys: pytest.CaptureFixture[str], isolated_home: Path) -> None:
    manifest = isolated_home / "set" / "MANIFEST.tsv"
    manifest.parent.mkdir(parents=True)
    lines = ["path\tspeaker"]
    speakers = ("vctk-p225", "vctk-p226", "vctk-p227")
    chosen = [r for s in speakers for r in [x for x in recordings("vctk") if x.speaker == s][:4]]
    for rec in chosen:
        copy = write_audio(manifest.parent / rec.speaker / rec.path.name, read_audio(rec.path))
        lines.append(f"{copy.relative_to(manifest.parent)}\t{rec.speaker}")
    manifest.write_text("\n".join(lines) + "\n")
    code, out, _ = run(capsys, "calibrate", str(manifest))
    assert code == 0 and "Calibrated on 12 of 12 recordings from 3 speakers" in out
    written = json.loads((isolated_home / "likeness" / "calibration.json").read_text())
    assert written["source"] == str(manifest) and written["genuine_trials"] > 0
    assert written["same_person"] >= written["sound_alike"]
    assert "too few different-speaker trials" in out  # 3 speakers cannot measure a 0.1 % rate
    assert (isolated_home / "likeness" / "det.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_input_gives_one_clear_sentence(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fake = tmp_path / "voice.wav"
    fake.write_bytes(b"not audio at all" * 100)
    assert_clear_error(*run(capsys, "protect", "X", str(fake))[::2], "not audio Sayso can read")
    quiet = write_audio(tmp_path / "quiet.wav", silence(3.0))
    assert_clear_error(*run(capsys, "protect", "X", str(quiet))[::2], "holds no speech")
    brief = read_audio(vctk("p226")[0]).resampled(16_000)
    short = write_audio(tmp_path / "short.wav", Audio(brief.samples[16_000:28_000], 16_000))
    assert_clear_error(*run(capsys, "check", str(short))[::2], "at least 1 s")
    scant = write_audio(tmp_path / "scant.wav", Audio(brief.samples[8_000:48_000], 16_000))  # ~2 s of speech
    assert_clear_error(*run(capsys, "protect", "X", str(scant))[::2], "needs at least 5 s")
    joined = np.concatenate([read_audio(p).resampled(16_000).samples for p in vctk("p226")[:2] + vctk("p228")[:2]])
    duo = write_audio(tmp_path / "duo.wav", Audio(joined, 16_000))
    assert_clear_error(*run(capsys, "protect", "X", str(duo))[::2], "more than one voice")
    assert_clear_error(*run(capsys, "remove", "Nobody")[::2], "No one called 'Nobody' is protected")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("a\tb\nx\ty\n")
    assert_clear_error(*run(capsys, "score", str(pairs), "-o", str(tmp_path / "o.tsv"))[::2], "enroll and test")
    missing = str(tmp_path / "missing.tsv")
    assert_clear_error(*run(capsys, "calibrate", missing)[::2], "There is no manifest at")
    assert_clear_error(*run(capsys, "calibrate", str(pairs))[::2], "columns path and speaker")
    assert "No one is protected" in run(capsys, "list")[1]


def test_bad_pairs_give_one_clear_sentence_and_no_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = vctk("p225")[0]
    fake = tmp_path / "fake.wav"
    fake.write_bytes(b"not audio at all" * 100)
    output = tmp_path / "scored.tsv"
    cases = {
        "a missing file": (f"enroll\ttest\n{good}\t{tmp_path / 'gone.wav'}\n", "There is no file at"),
        "an unreadable file": (f"enroll\ttest\n{fake}\t{good}\n", "not audio Sayso can read"),
        "no test column": (f"enroll\tprobe\n{good}\t{good}\n", "no test column"),
        "a row longer than the header": (f"enroll\ttest\n{good}\t{good}\textra\n", "line 2 has 3 cells"),
        "an empty enrolment": (f"enroll\ttest\n|\t{good}\n", "line 2 has an empty enroll or test cell"),
    }
    for name, (text, fragment) in cases.items():
        pairs = tmp_path / "pairs.tsv"
        pairs.write_text(text)
        code, _, err = run(capsys, "score", str(pairs), "-o", str(output))
        assert_clear_error(code, err, fragment)
        assert list(tmp_path.glob("*scored*")) == [], name  # nothing half-written is left behind
    assert_clear_error(*run(capsys, "score", str(tmp_path / "nope.tsv"), "-o", str(output))[::2], "no pairs file")
    pairs.write_text(f"enroll\ttest\n{good}\t{good}\n")
    code, _, err = run(capsys, "score", str(pairs), "-o", str(tmp_path / "no" / "such" / "o.tsv"))
    assert_clear_error(code, err, "There is no folder")
