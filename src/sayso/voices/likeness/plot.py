"""The DET plot of a calibration: false non-match against false match, on probit axes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sayso.voices.likeness.calibration import Calibration


def plot_det(genuine: np.ndarray, impostor: np.ndarray, calibration: Calibration, path: Path) -> Path:
    """Draw the detection error trade-off curve with both thresholds marked; returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    thresholds = np.unique(np.concatenate([genuine, impostor]))
    floor = 0.5 / max(len(genuine), len(impostor))  # rates of 0 cannot sit on a probit axis
    fmr = np.clip([np.mean(impostor >= t) for t in thresholds], floor, 1 - floor)
    fnmr = np.clip([np.mean(genuine < t) for t in thresholds], floor, 1 - floor)
    figure, axes = plt.subplots(figsize=(5.5, 5.5))
    axes.plot(norm.ppf(fmr), norm.ppf(fnmr), label=f"{calibration.method} (EER {calibration.eer:.2%})")
    for name, threshold in (("same person", calibration.same_person), ("sound-alike", calibration.sound_alike)):
        x = np.clip(np.mean(impostor >= threshold), floor, 1 - floor)
        y = np.clip(np.mean(genuine < threshold), floor, 1 - floor)
        axes.plot(norm.ppf(x), norm.ppf(y), "o", label=f"{name} threshold {threshold:.3f}")
    ticks = np.array([0.001, 0.01, 0.05, 0.2, 0.5])
    axes.set_xticks(norm.ppf(ticks), [f"{t:.1%}" for t in ticks])
    axes.set_yticks(norm.ppf(ticks), [f"{t:.1%}" for t in ticks])
    low = norm.ppf(min(floor, 0.0005)) - 0.2
    axes.set_xlim(low, norm.ppf(0.6))
    axes.set_ylim(low, norm.ppf(0.6))
    axes.set_xlabel(f"false-match rate ({len(impostor)} different-speaker trials)")
    axes.set_ylabel(f"false non-match rate ({len(genuine)} same-speaker trials)")
    axes.set_title("Likeness guard: detection error trade-off")
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper right", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path
