"""Calibration: from labelled recordings to two thresholds and the error rates behind them.

Trials mimic the guard's use: an enrolment (the mean of a few recordings of one speaker) is
scored against a test recording of the same speaker (genuine) or of another (impostor).
"Same person" is set for a false-match rate (FMR) of 0.1 %, "sound-alike" for 1 %: a different
person scoring over it sounds confusingly like the protected one. Thresholds are set per band
of test speech (length-aware): a 1.5 s clause is less certain evidence than 10 s of speech, so
its thresholds are set from impostor trials of that length, holding the FMR at the target.
The false-match rate reported for a score comes from the same trials as the threshold it is
compared with: each band keeps its own impostor-score quantiles beside the full-length ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from sayso.voices.embedding import RESEMBLYZER, VoicePrint, enrolment_vector, joined, parts

SAME_PERSON_FMR = 0.001
SOUND_ALIKE_FMR = 0.01
ENROL_FILES = 3
_WINDOW_SECONDS = 1.6
_WINDOW_STEP = 1 / 1.3
BAND_WINDOWS = (1, 2, 4)
"""Short tests are cut to this many ~1.6 s windows: about 1.6, 2.4 and 3.9 s of speech."""


@dataclass(frozen=True)
class Trial:
    """One enrolment scored against one test."""

    enrol_speaker: str
    enrol: np.ndarray
    """(rows, dim): the voice's vector, then one per variant; a test scores its best row."""
    test_speaker: str
    test: VoicePrint

    @property
    def genuine(self) -> bool:
        return self.enrol_speaker == self.test_speaker


@dataclass(frozen=True)
class Band:
    """Thresholds for tests with up to ``max_seconds`` of speech, and that length's impostor scores."""

    max_seconds: float
    same_person: float
    sound_alike: float
    impostor_quantiles: tuple[float, ...] = field(default=(), repr=False)
    """Quantiles of this band's impostor scores (empty in files written before they were kept)."""


@dataclass(frozen=True)
class Calibration:
    """Thresholds and the error rates measured when they were set."""

    method: str
    same_person: float
    sound_alike: float
    eer: float
    same_person_fmr: float
    same_person_fnmr: float
    sound_alike_fmr: float
    sound_alike_fnmr: float
    genuine_trials: int
    impostor_trials: int
    bands: tuple[Band, ...] = ()
    impostor_quantiles: tuple[float, ...] = field(default=(), repr=False)
    source: str = ""
    encoder: str = RESEMBLYZER
    """The speaker encoder whose scores these thresholds judge (files from before it was kept: Resemblyzer)."""

    def band_for(self, speech_seconds: float) -> Band | None:
        """The length band a test with this much speech is judged in; None for full-length tests."""
        return next((band for band in self.bands if speech_seconds <= band.max_seconds), None)

    def thresholds_for(self, speech_seconds: float) -> tuple[float, float]:
        """(same person, sound-alike) thresholds for a test with this much speech."""
        band = self.band_for(speech_seconds)
        return (band.same_person, band.sound_alike) if band else (self.same_person, self.sound_alike)

    def fmr_at(self, score: float, speech_seconds: float | None = None) -> float | None:
        """Calibrated false-match rate of a threshold at ``score`` for a test with ``speech_seconds`` of
        speech (None: full length): the share of impostor trials of that length scoring at or over it.

        None when that length's impostor scores were not kept (a band of an older calibration
        file): the full-length rate would understate a short test's.
        """
        band = self.band_for(speech_seconds) if speech_seconds is not None else None
        quantiles = np.asarray(band.impostor_quantiles if band else self.impostor_quantiles)
        if len(quantiles) == 0:
            return None
        return float(1.0 - np.searchsorted(quantiles, score, side="left") / len(quantiles))

    def save(self, path: Path) -> Path:
        """Write as JSON (atomically: a crash leaves the old file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")
        temporary.replace(path)
        return path

    @staticmethod
    def load(path: Path) -> Calibration:
        """Read a file written by ``save``."""
        data = json.loads(path.read_text(encoding="utf-8"))
        data["bands"] = tuple(
            Band(**{**band, "impostor_quantiles": tuple(band.get("impostor_quantiles", ()))})
            for band in data.get("bands", ())
        )
        data["impostor_quantiles"] = tuple(data.get("impostor_quantiles", ()))
        return Calibration(**data)


def window_seconds(windows: int) -> float:
    """Seconds of speech spanned by ``windows`` consecutive embedding windows."""
    return _WINDOW_SECONDS + (windows - 1) * _WINDOW_STEP


def crop(test: VoicePrint, windows: int, start: int = 0) -> VoicePrint:
    """A shorter test made of ``windows`` consecutive windows (no re-embedding needed)."""
    segments = test.segments[start : start + windows]
    vector = joined(parts(segments.mean(axis=0), test.encoder))[0]
    return VoicePrint(vector, segments, window_seconds(len(segments)), test.encoder)


def trials(
    prints: Mapping[str, Sequence[VoicePrint]],
    variants: Mapping[str, Sequence[Mapping[str, VoicePrint]]] | None = None,
    enrol_files: int = ENROL_FILES,
) -> Iterator[Trial]:
    """Every enrolment (disjoint groups of ``enrol_files`` recordings per speaker) against every other recording.

    With ``variants`` (per speaker, per recording: variant label to voiceprint), an enrolment is
    the voice's vector plus one per variant, as the registry stores it.
    """
    for speaker, own in prints.items():
        for first in range(0, len(own) - enrol_files, enrol_files):
            group = range(first, first + enrol_files)
            enrol = np.stack([enrolment_vector([own[i] for i in group]), *_variant_rows(variants, speaker, group)])
            for test_speaker, tests in prints.items():
                for index, test in enumerate(tests):
                    if test_speaker != speaker or index not in group:
                        yield Trial(speaker, enrol, test_speaker, test)


def _variant_rows(
    variants: Mapping[str, Sequence[Mapping[str, VoicePrint]]] | None, speaker: str, group: range
) -> list[np.ndarray]:
    if not variants:
        return []
    per_file = [variants[speaker][i] for i in group]
    labels = sorted({label for file in per_file for label in file})
    return [enrolment_vector([f[label] for f in per_file if label in f]) for label in labels]


def error_rates(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> tuple[float, float]:
    """(false-match rate, false-non-match rate) of accepting scores at or over ``threshold``."""
    return float(np.mean(impostor >= threshold)), float(np.mean(genuine < threshold))


def threshold_for_fmr(impostor: np.ndarray, target: float) -> float:
    """The lowest threshold whose false-match rate is at most ``target``."""
    ordered = np.sort(impostor)[::-1]
    allowed = int(np.floor(target * len(ordered)))
    # Just above the (allowed+1)-th highest impostor score: at most ``allowed`` impostors pass.
    return float(np.nextafter(np.float32(ordered[min(allowed, len(ordered) - 1)]), np.float32(np.inf)))


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> float:
    """The rate where false matches and false non-matches are equal."""
    candidates = np.unique(np.concatenate([genuine, impostor]))
    fmr = np.array([np.mean(impostor >= t) for t in candidates])
    fnmr = np.array([np.mean(genuine < t) for t in candidates])
    best = int(np.argmin(np.abs(fmr - fnmr)))
    return float((fmr[best] + fnmr[best]) / 2)


Groups = Mapping[str, np.ndarray]
"""Impostor scores of each corpus (population) on its own."""


def strictest(impostor: np.ndarray, groups: Groups, target: float) -> tuple[float, np.ndarray]:
    """The threshold holding the false-match rate at ``target`` in the pooled trials and in every group
    with enough trials to measure it (1/target or more), and the impostor scores of the one that set it.

    A pooled threshold holds the rate on average: a population whose voices are closer together
    (children, one accent, one phone channel) gets several times the rate. Holding it in each
    population seen generalises better to one not seen (see ``evaluate.leave_one_corpus_out``).
    """
    candidates = [impostor, *(g for g in groups.values() if len(g) >= 1 / target)]
    thresholds = [threshold_for_fmr(scores, target) for scores in candidates]
    best = int(np.argmax(thresholds))
    return thresholds[best], candidates[best]


def calibrate(
    method: str,
    full: tuple[np.ndarray, np.ndarray],
    bands: Mapping[float, tuple[np.ndarray, np.ndarray]],
    source: str = "",
    encoder: str = RESEMBLYZER,
    groups: Mapping[float, Groups] | None = None,
) -> Calibration:
    """Thresholds from (genuine, impostor) scores of full-length tests and of each length band; with
    ``groups`` (per band, 0 for full length: each corpus's impostor scores), the strictest (``strictest``)."""
    genuine, impostor = full
    if len(genuine) == 0 or len(impostor) == 0:
        raise ValueError("calibration needs both same-speaker and different-speaker trials")
    groups = groups or {}
    same, _ = strictest(impostor, groups.get(0.0, {}), SAME_PERSON_FMR)
    alike, alike_scores = strictest(impostor, groups.get(0.0, {}), SOUND_ALIKE_FMR)
    same_rates, alike_rates = error_rates(genuine, impostor, same), error_rates(genuine, impostor, alike)
    band_list = tuple(
        _band(seconds, imp, groups.get(seconds, {})) for seconds, (_, imp) in sorted(bands.items()) if len(imp)
    )
    return Calibration(
        method=method,
        same_person=same,
        sound_alike=alike,
        eer=equal_error_rate(genuine, impostor),
        same_person_fmr=same_rates[0],
        same_person_fnmr=same_rates[1],
        sound_alike_fmr=alike_rates[0],
        sound_alike_fnmr=alike_rates[1],
        genuine_trials=len(genuine),
        impostor_trials=len(impostor),
        bands=band_list,
        impostor_quantiles=_quantiles(alike_scores),
        source=source,
        encoder=encoder,
    )


def _band(seconds: float, impostor: np.ndarray, groups: Groups) -> Band:
    same, _ = strictest(impostor, groups, SAME_PERSON_FMR)
    alike, scores = strictest(impostor, groups, SOUND_ALIKE_FMR)
    # The false-match rates reported are those of the population that set the sound-alike threshold.
    return Band(seconds, same, alike, _quantiles(scores))


def _quantiles(scores: np.ndarray) -> tuple[float, ...]:
    # 1001 quantiles: a false-match rate to 0.1 %, whatever the number of trials.
    return tuple(float(q) for q in np.quantile(scores, np.linspace(0, 1, 1001)))
