"""A likeness verdict as JSON: what `sayso likeness check` prints and the server's check answers."""

from __future__ import annotations

from dataclasses import asdict

from sayso.voices.guard import LikenessVerdict
from sayso.voices.likeness.calibration import Calibration


def verdict_json(file: str, verdict: LikenessVerdict, calibration: Calibration) -> dict[str, object]:
    """The JSON form of a verdict: the decision, the thresholds and their false-match rates, the evidence."""
    top = verdict.matches[0].level if verdict.matches else "no match"
    same = verdict.same_person_threshold
    calibration_fmr = {
        "same_person": calibration.fmr_at(same, verdict.speech_seconds) if same is not None else None,
        "sound_alike": verdict.false_match_rate,
    }
    return {
        "file": file,
        "allowed": verdict.allowed,
        "verdict": top,
        "reason": verdict.reason,
        "method": verdict.method,
        "speech_seconds": round(verdict.speech_seconds or 0.0, 2),
        "thresholds": {"same_person": verdict.same_person_threshold, "sound_alike": verdict.sound_alike_threshold},
        "length_band": _band_name(calibration, verdict.speech_seconds),
        "false_match_rate": calibration_fmr,
        "calibration": {"source": calibration.source, "eer": calibration.eer},
        "registry": {
            "people": verdict.registry_size,
            # Thresholds rise with the registry so that this stays at the calibrated rate (see policy.py).
            "expected_false_flags_per_check": verdict.expected_false_flags,
        },
        "matches": [asdict(m) for m in verdict.matches],
        "nearest": [asdict(m) for m in verdict.nearest],
    }


def _band_name(calibration: Calibration, speech_seconds: float | None) -> str:
    band = calibration.band_for(speech_seconds) if speech_seconds is not None else None
    return f"up to {band.max_seconds:.1f} s of speech" if band else "full length"
