"""The likeness guard: checks enrolments and every utterance against the protected registry.

A check embeds the voiced audio, fetches the protected people nearest by cosine from the vector
index (each person is stored as their voice plus disguised variants, so a pitch-shifted or
stretched imitation meets the variant it resembles), re-scores them with the calibrated method,
and compares each score with the thresholds for that much speech. Anything at or over "sound-alike" blocks; "same
person" is the stronger label. Utterances are also checked against their voice's own enrolment
(a lent voice's reference voiceprint, stored with it in the catalog and passed in by the caller),
so a cloning backend that drifts into someone else is caught.

Every stored vector is scored with the encoder that made it: a person protected before the
guard's encoder changed is compared with that encoder's part of the check's voiceprint, under
that encoder's own calibration (its thresholds mean nothing on another encoder's scores).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

import numpy as np

from sayso.audio.frames import SAMPLE_RATE, Audio
from sayso.errors import EmptyAudio, SeveralSpeakers, SpeechTooShort
from sayso.voices.embedding import (
    RESEMBLYZER,
    SpeakerEmbedder,
    VoicePrint,
    encoder_of,
    enrolment_vector,
    part,
    projected,
    unit,
)
from sayso.voices.guard import LikenessMatch, LikenessVerdict
from sayso.voices.likeness.calibration import Calibration
from sayso.voices.likeness.policy import Probes, ScalePolicy
from sayso.voices.likeness.registry import ProtectedPerson, Registry
from sayso.voices.likeness.scoring import Scorer
from sayso.voices.likeness.variants import enrolment_vectors, variant_prints

MIN_REFERENCE_SECONDS = 1.0
"""Least speech a reference or checked recording must hold: under it, who speaks is a guess."""
MIN_PROTECT_SECONDS = 5.0
"""Least speech, over all its recordings, to protect a person with (the documented minimum): a
voice enrolled from less is a thin target that imitations slip past."""
SPLIT_COSINE = 0.65
"""Two groups of a recording's windows less alike than this are different people. On the shared
speech set one speaker's groups never fell under 0.73 (137 files); two speakers' mostly under 0.7."""
TURNS_COSINE = 0.78
MAX_TURN_SHARE = 0.2
"""Groups under TURNS_COSINE in at most this many runs per window are speakers taking turns. One
speaker's chance splits alternated (a run per 2-3 windows); two speakers joined give two runs.
Together these caught 87 % of joined pairs of different speakers, and no single speaker."""
CANDIDATES = 10
"""Nearest protected people (by cosine) re-scored with the calibrated method."""
CONTEXT_SECONDS = 3.0
"""Speech of a voice's previous clauses joined to a short clause, so it is judged on enough audio."""
SHORT_CLAUSE_SECONDS = 1.6
BELOW = "below threshold"


Scoring = tuple[Scorer, Calibration]
"""How one encoder's vectors are scored and judged."""
PROBE_SECONDS = 30.0
"""A protected voice (several recordings' mean) probes the registry as a full-length test."""


class Guard:
    """The registry, an embedder and a calibration, as the ``LikenessGuard`` the voices use.

    ``older`` gives the calibration and cohort of each older encoder whose vectors may still be
    stored (a person protected, or a voice lent, before the encoder changed).
    """

    def __init__(
        self,
        registry: Registry,
        embedder: SpeakerEmbedder,
        calibration: Calibration,
        cohort: np.ndarray | None,
        older: Mapping[str, tuple[Calibration, np.ndarray]] | None = None,
    ) -> None:
        if calibration.encoder != embedder.encoder:
            raise ValueError(f"a {calibration.encoder} calibration cannot judge {embedder.encoder} vectors")
        self.registry = registry
        self.embedder = embedder
        self.calibration = calibration
        self.scorer = Scorer(calibration.method, cohort, encoder=embedder.encoder)
        self.scoring: dict[str, Scoring] = {embedder.encoder: (self.scorer, calibration)}
        for encoder, (older_calibration, older_cohort) in (older or {}).items():
            self.scoring[encoder] = (Scorer(older_calibration.method, older_cohort, encoder=encoder), older_calibration)
        self.policy = ScalePolicy(calibration)
        self.probes = Probes(self._probe)
        self._recent: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def protect(self, name: str, recordings: Sequence[Audio], labels: Sequence[str] = ()) -> ProtectedPerson:
        """Put ``name`` on the registry from reference recordings (only embeddings are kept: the voice and
        its disguised variants, see ``variants``)."""
        prints = self.reference_prints(recordings, labels)
        if _seconds(prints) < MIN_PROTECT_SECONDS:
            raise SpeechTooShort(
                f"The recordings hold only {_seconds(prints):.1f} s of speech in all; protecting a voice needs at "
                f"least {MIN_PROTECT_SECONDS:.0f} s of it (add a longer recording or more recordings)."
            )
        variants = [variant_prints(self.embedder, audio) for audio in recordings]
        vectors = enrolment_vectors(prints, variants)
        return self.registry.protect(name, vectors, len(prints), _seconds(prints), self.embedder.encoder)

    def reference_prints(self, recordings: Sequence[Audio], labels: Sequence[str] = ()) -> list[VoicePrint]:
        """Voiceprints of reference recordings, each checked: speech, enough of it, one speaker throughout."""
        if not recordings:
            raise SpeechTooShort("No recordings were given; give at least one recording of the voice.")
        names = list(labels) or [f"recording {i + 1}" for i in range(len(recordings))]
        prints = []
        for name, audio in zip(names, recordings, strict=True):
            try:
                voiceprint = self.embedder.voiceprint(audio)
            except EmptyAudio as error:
                raise EmptyAudio(
                    f"{name} holds no speech (only silence or noise); give a recording of the voice."
                ) from error
            if voiceprint.speech_seconds < MIN_REFERENCE_SECONDS:
                raise SpeechTooShort(
                    f"{name} holds only {voiceprint.speech_seconds:.1f} s of speech; give at least "
                    f"{MIN_REFERENCE_SECONDS:.0f} s (5 s or more gives a more reliable voice)."
                )
            if several_speakers(part(voiceprint.segments, voiceprint.encoder, RESEMBLYZER)):
                raise SeveralSpeakers(f"{name} seems to hold more than one voice; give recordings of one person only.")
            prints.append(voiceprint)
        self._check_same_speaker(prints, names)
        return prints

    def check_enrolment(self, samples: Sequence[Audio]) -> LikenessVerdict:
        """May a voice enrolled from ``samples`` be used? Blocked if it sounds like a protected person."""
        prints = self.reference_prints(samples)
        joined = VoicePrint(
            enrolment_vector(prints),
            np.concatenate([p.segments for p in prints]),
            _seconds(prints),
            self.embedder.encoder,
        )
        return self.assess(joined, "enrolment")

    def check(self, audio: Audio) -> LikenessVerdict:
        """The verdict on one recording (for `sayso likeness check`): at least 1 s of speech needed."""
        voiceprint = self.embedder.voiceprint(audio)
        if voiceprint.speech_seconds < MIN_REFERENCE_SECONDS:
            raise SpeechTooShort(
                f"The recording holds only {voiceprint.speech_seconds:.1f} s of speech; give at least "
                f"{MIN_REFERENCE_SECONDS:.0f} s to check."
            )
        return self.assess(voiceprint, "recording")

    def check_utterance(self, audio: Audio, voice_id: str, reference: np.ndarray | None = None) -> LikenessVerdict:
        """May this synthesised clause be played? Checked against the registry and, given its ``reference``
        voiceprint, the voice's own enrolment."""
        if reference is None and not len(self.registry):
            # Nothing to compare against: skip the embedding, which costs more than the clause's TTS.
            return LikenessVerdict(True, "no one is protected yet", method=self.calibration.method)
        clause = audio.resampled(SAMPLE_RATE).samples
        with self._lock:
            context = self._recent.get(voice_id, np.zeros(0, dtype=np.float32))
            self._recent[voice_id] = np.concatenate([context, clause])[-int(CONTEXT_SECONDS * SAMPLE_RATE) :]
        judged = clause if audio.duration >= SHORT_CLAUSE_SECONDS else np.concatenate([context, clause])
        try:
            voiceprint = self.embedder.voiceprint(Audio(judged, SAMPLE_RATE))
        except EmptyAudio:
            return LikenessVerdict(True, "no speech to check", method=self.calibration.method, speech_seconds=0.0)
        verdict = self.assess(voiceprint, "utterance")
        if verdict.allowed and reference is not None:
            return (
                self._against_reference(voiceprint, np.asarray(reference, np.float32).reshape(-1), voice_id) or verdict
            )
        return verdict

    def assess(self, voiceprint: VoicePrint, what: str) -> LikenessVerdict:
        """The verdict on a voiceprint against the registry, with the nearest people as evidence."""
        # Thresholds for the registry's size: a check compares with everyone (see ``policy``).
        people = len(self.registry)
        decision = self.policy.decide(voiceprint.speech_seconds, people, self.probes.maxima(people))
        same, alike = decision.same_person, decision.sound_alike
        nearest = self._nearest(voiceprint, (same, alike))
        matches = tuple(m for m in nearest if m.level != BELOW)
        if matches:
            top = matches[0]
            reason = f"the {what} sounds like protected person {top.name!r} ({top.level}, score {top.score:.2f})"
        else:
            reason = f"the {what} sounds like no protected person"
        return LikenessVerdict(
            allowed=not matches,
            reason=reason,
            matches=matches,
            nearest=nearest,
            same_person_threshold=same,
            sound_alike_threshold=alike,
            false_match_rate=decision.per_comparison_fmr,
            speech_seconds=voiceprint.speech_seconds,
            method=self.calibration.method,
            registry_size=decision.people,
            expected_false_flags=decision.expected_false_flags,
        )

    def score(self, enrolment: np.ndarray, test: VoicePrint) -> float:
        """The calibrated score of one test against an enrolment's vectors (rows): that of its closest row.
        The rows are scored with the encoder that made them (the test projected onto it)."""
        rows = np.atleast_2d(enrolment)
        scorer, _ = self._scoring_for(encoder_of(rows))
        return float(scorer.score(rows, scorer.stats(rows), projected(test, scorer.encoder)).max())

    def _scoring_for(self, encoder: str) -> Scoring:
        if encoder not in self.scoring:
            raise ValueError(f"this guard has no calibration for {encoder} vectors")
        return self.scoring[encoder]

    def _probe(self, count: int) -> np.ndarray:
        """Best scores of ``count`` protected voices against the other people (see ``policy``)."""
        best = []
        encoder = self.embedder.encoder
        for person, vector in self.registry.sample_voices(count, encoder):
            search = part(vector, encoder, RESEMBLYZER)
            found = self.registry.nearest(search, CANDIDATES + 1)
            others = [v for p, v in found if p.key != person and p.encoder == encoder]
            if others:
                rows = np.stack(others)
                probe = VoicePrint(vector, vector[None, :], PROBE_SECONDS, encoder)
                best.append(float(self.scorer.score(rows, self.scorer.stats(rows), probe).max()))
        return np.array(best)

    def _check_same_speaker(self, prints: Sequence[VoicePrint], names: Sequence[str]) -> None:
        # Each file must at least sound like a sound-alike of the others (calibrated: same-speaker
        # trials almost never score under it), else it is someone else's recording.
        for index, voiceprint in enumerate(prints):
            others = [p for i, p in enumerate(prints) if i != index]
            alike = self.calibration.thresholds_for(voiceprint.speech_seconds)[1]
            if others and self.score(enrolment_vector(others), voiceprint) < alike:
                raise SeveralSpeakers(
                    f"{names[index]} sounds like a different person from the other recordings; "
                    "give recordings of one person only."
                )

    def _nearest(self, voiceprint: VoicePrint, thresholds: tuple[float, float]) -> tuple[LikenessMatch, ...]:
        found = self.registry.nearest(part(voiceprint.vector, voiceprint.encoder, RESEMBLYZER), CANDIDATES)
        ranked = [self._match(person, vector, voiceprint, thresholds) for person, vector in found]
        # Scores of different encoders are in different units: rank by how far each is over its own
        # sound-alike threshold.
        return tuple(match for _, match in sorted(ranked, key=lambda pair: -pair[0]))

    def _match(
        self, person: ProtectedPerson, vector: np.ndarray, voiceprint: VoicePrint, thresholds: tuple[float, float]
    ) -> tuple[float, LikenessMatch]:
        """How far the person's score is over their sound-alike threshold, and the match. ``thresholds``:
        the current encoder's, for the registry's size; an older encoder's entries keep their own
        calibration's (they are few, and the policy's probes measure the current encoder only)."""
        scorer, calibration = self._scoring_for(person.encoder)
        test = projected(voiceprint, person.encoder)
        score = float(scorer.score(vector[None, :], scorer.stats(vector[None, :]), test)[0])
        current = person.encoder == self.embedder.encoder
        same, alike = thresholds if current else calibration.thresholds_for(voiceprint.speech_seconds)
        return score - alike, LikenessMatch(
            person_id=person.id,
            name=person.name,
            score=score,
            level="same person" if score >= same else "sound-alike" if score >= alike else BELOW,
            cosine=float(part(vector, person.encoder, person.encoder) @ test.vector),
            false_match_rate=calibration.fmr_at(score, voiceprint.speech_seconds),
        )

    def _against_reference(
        self, voiceprint: VoicePrint, reference: np.ndarray, voice_id: str
    ) -> LikenessVerdict | None:
        scorer, calibration = self._scoring_for(encoder_of(reference))
        rows = reference[None, :]
        score = float(scorer.score(rows, scorer.stats(rows), projected(voiceprint, scorer.encoder))[0])
        same, alike = calibration.thresholds_for(voiceprint.speech_seconds)
        if score >= alike:
            return None
        return LikenessVerdict(
            allowed=False,
            reason=f"the utterance no longer sounds like voice {voice_id!r}'s own enrolment (score {score:.2f} "
            f"under the sound-alike threshold {alike:.2f}): the voice may have drifted into someone else",
            same_person_threshold=same,
            sound_alike_threshold=alike,
            false_match_rate=calibration.fmr_at(alike, voiceprint.speech_seconds),
            speech_seconds=voiceprint.speech_seconds,
            method=calibration.method,
        )


def several_speakers(segments: np.ndarray) -> bool:
    """Whether a recording's windows split into two groups that sound like different people.

    Two-means on the windows, seeded with the two least alike; a split needs at least two
    windows a side, so one odd window (a cough, a laugh) is not a speaker. Two groups under
    ``SPLIT_COSINE`` are two people; groups a little more alike (under ``TURNS_COSINE``) are too
    when they take turns in time, as speakers do: one voice's windows split by chance alternate.
    """
    if len(segments) < 4:
        return False
    similarity = segments @ segments.T
    seeds = np.unravel_index(int(np.argmin(similarity)), similarity.shape)
    centres = segments[list(seeds)]
    for _ in range(8):
        labels = np.argmax(segments @ centres.T, axis=1)
        if labels.min() == labels.max():
            return False
        centres = unit(np.stack([segments[labels == k].mean(axis=0) for k in (0, 1)]))
    if np.bincount(labels, minlength=2).min() < 2:
        return False
    between = float(centres[0] @ centres[1])
    turns = (1 + int(np.sum(labels[1:] != labels[:-1]))) / len(labels)
    return between < SPLIT_COSINE or (between < TURNS_COSINE and turns <= MAX_TURN_SHARE)


def _seconds(prints: Sequence[VoicePrint]) -> float:
    return float(sum(p.speech_seconds for p in prints))
