"""Paper A's evaluation protocol: a 70/30 split of positives plus negatives, scikit-learn metrics.

The split is a plain random one (:func:`random_test_mask`), as the paper's supports show:
its test sets hold 592 negatives / 608 positives (n = 2,000) and 903 / 597 (n = 3,000), not
the exact 600/600 and 900/600 a split stratified by class would give. The stratified split
(:func:`stratified_test_mask`) is kept as a labelled variant (``split="stratified"``).

The metrics are those of scikit-learn's ``classification_report`` (per-class
precision, recall, F1 and support; accuracy; weighted averages) at the
threshold 0.5 on the predicted probability, and the ROC curve and its AUC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report, roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

CLASS_NAMES = ("negative", "positive")

# Paper A, Tables 2 and 3 and the text (term 15 of OCF-B, its private data). Reference targets only:
# every number of ours is computed. n = 2,000 is 1.0x the positives, n = 3,000 is 1.5x.
PAPER_A_TERM15 = pd.DataFrame(
    [
        ("mlp", 1.0, "negative", 0.84, 0.81, 0.82, 592),
        ("mlp", 1.0, "positive", 0.82, 0.85, 0.83, 608),
        ("mlp", 1.0, "weighted avg", 0.83, 0.83, 0.83, 1200),
        ("mlp", 1.5, "negative", 0.88, 0.88, 0.88, 903),
        ("mlp", 1.5, "positive", 0.82, 0.81, 0.82, 597),
        ("mlp", 1.5, "weighted avg", 0.85, 0.85, 0.85, 1500),
        ("neumf", 1.0, "negative", 0.61, 0.94, 0.74, 615),
        ("neumf", 1.0, "positive", 0.86, 0.37, 0.52, 585),
        ("neumf", 1.0, "weighted avg", 0.73, 0.66, 0.63, 1200),
        ("neumf", 1.5, "negative", 0.61, 1.00, 0.76, 889),
        ("neumf", 1.5, "positive", 0.94, 0.08, 0.14, 611),
        ("neumf", 1.5, "weighted avg", 0.75, 0.62, 0.51, 1500),
    ],
    columns=["model", "ratio", "class", "precision", "recall", "f1", "support"],
)
PAPER_A_ACCURACY = {("mlp", 1.0): 0.83, ("mlp", 1.5): 0.85, ("neumf", 1.0): 0.66, ("neumf", 1.5): 0.62}
PAPER_A_AUC = {("mlp", 1.0): 0.8868, ("mlp", 1.5): 0.9127}


SPLITS = ("random", "stratified")
# The paper's test supports (negative, positive) at term 15, per model and ratio: the evidence for a plain random split.
PAPER_A_SUPPORTS = {("mlp", 1.0): (592, 608), ("mlp", 1.5): (903, 597), ("neumf", 1.0): (615, 585), ("neumf", 1.5): (889, 611)}


def random_test_mask(n_rows: int, test_fraction: float = 0.3, seed: int = 0) -> np.ndarray:
    """A plain random test mask: ``round(test_fraction * n_rows)`` rows drawn with ``seed``, classes not balanced.

    scikit-learn's ``train_test_split`` without ``stratify`` (the test size is ``ceil(test_fraction * n)``),
    as Paper A's supports suggest it used.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    if n_rows < 2:
        raise ValueError(f"a split needs at least two rows, got {n_rows}")
    _, test_rows = train_test_split(np.arange(n_rows), test_size=test_fraction, random_state=seed)
    mask = np.zeros(n_rows, dtype=bool)
    mask[test_rows] = True
    return mask


def paper_test_mask(labels: np.ndarray, test_fraction: float = 0.3, seed: int = 0, split: str = "random") -> np.ndarray:
    """Paper A's 70/30 split of positives plus negatives: ``split`` "random" (the paper's) or "stratified" (by class)."""
    if split == "random":
        return random_test_mask(len(labels), test_fraction, seed)
    if split == "stratified":
        return stratified_test_mask(labels, test_fraction, seed)
    raise ValueError(f"unknown split {split!r}: use one of {list(SPLITS)}")


def stratified_test_mask(labels: np.ndarray, test_fraction: float = 0.3, seed: int = 0) -> np.ndarray:
    """A boolean mask of the test rows: ``test_fraction`` of each class, drawn with ``seed`` (scikit-learn)."""
    labels = np.asarray(labels)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    if len(np.unique(labels)) < 2:
        raise ValueError("a stratified split needs both classes in labels")
    _, test_rows = train_test_split(np.arange(len(labels)), test_size=test_fraction, stratify=labels, random_state=seed)
    mask = np.zeros(len(labels), dtype=bool)
    mask[test_rows] = True
    return mask


def protocol_metrics(labels: np.ndarray, probabilities: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Paper A's metrics as a flat dict.

    Keys: AUC, accuracy, and {precision, recall, f1, support}_{negative, positive, weighted}.
    Predicted class = probability >= ``threshold``. A class never predicted has precision 0
    (scikit-learn's ``zero_division=0``).
    """
    labels = np.asarray(labels).astype(int)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if labels.shape != probabilities.shape:
        raise ValueError(f"labels and probabilities differ in shape: {labels.shape} vs {probabilities.shape}")
    report = classification_report(
        labels, (probabilities >= threshold).astype(int), labels=[0, 1], target_names=list(CLASS_NAMES),
        output_dict=True, zero_division=0,
    )
    metrics = {"AUC": float(roc_auc_score(labels, probabilities)) if len(np.unique(labels)) == 2 else float("nan")}
    metrics["accuracy"] = float(report["accuracy"]) if "accuracy" in report else float(np.mean((probabilities >= threshold) == labels))
    for cls, key in (("negative", "negative"), ("positive", "positive"), ("weighted avg", "weighted")):
        for stat in ("precision", "recall", "f1-score", "support"):
            metrics[f"{stat.replace('-score', '')}_{key}"] = float(report[cls][stat])
    return metrics


def classification_table(labels: np.ndarray, probabilities: np.ndarray, threshold: float = 0.5) -> pd.DataFrame:
    """The classification report as a table laid out like Paper A's Tables 2-3 (rows: classes, weighted avg)."""
    m = protocol_metrics(labels, probabilities, threshold)
    rows = [
        (name, m[f"precision_{key}"], m[f"recall_{key}"], m[f"f1_{key}"], m[f"support_{key}"])
        for name, key in (("negative", "negative"), ("positive", "positive"), ("weighted avg", "weighted"))
    ]
    table = pd.DataFrame(rows, columns=["class", "precision", "recall", "f1", "support"]).set_index("class")
    table.attrs["accuracy"] = m["accuracy"]
    return table


def roc_points(labels: np.ndarray, probabilities: np.ndarray) -> pd.DataFrame:
    """The ROC curve (columns fpr, tpr) from scikit-learn."""
    fpr, tpr, _ = roc_curve(np.asarray(labels).astype(int), np.asarray(probabilities, dtype=np.float64))
    return pd.DataFrame({"fpr": fpr, "tpr": tpr})
