"""Cross-validated accuracy of lifted versus unlifted training (the lifting paper's Fig. 6),
and of the default model against the same model in PyG (:mod:`liftnn.bench.vs_pyg`).

Exact lifting is lossless: the lifted network computes the same outputs and
gradients as the unlifted one for every weight value, so training from the same
initial weights follows the same trajectory and reaches the same accuracy; only
the time per epoch changes. This experiment checks that on the paper's three
model families:

* ``graphlets`` and ``gcn`` (zoo templates, 2 layers, ``dim=10``, sigmoid) on
  MUTAG (188 molecules, 125 mutagenic);
* ``kbe`` (the zoo's knowledge-base embedder, ``dim=10``, one relational layer)
  on Kinships: the training triples are the facts; the samples are every
  training triple (target 1) and one corrupted copy of each, head or tail
  replaced by a random entity so that it is no known triple (target 0), as in
  the paper's own encoding.

Protocol: 5-fold stratified cross-validation (:func:`liftnn.train.cross_validate`,
seed 0), full-batch Adam (lr 0.05), MSE loss, float64, 300 epochs, once with
``lift=True`` (the training and test graphs lifted at dataset scope) and once with
``lift=False``. Reported: train and test accuracy (and
AUROC) as mean ± std over the folds, seconds per epoch and training-graph
neurons per regime, and the largest difference between the two regimes' epoch
losses. The test accuracies of the two regimes must agree fold by fold to
1e-6; the module raises ``AssertionError`` otherwise (after writing its files).

Why 300 epochs: the two regimes sum the same terms in different orders, so
their losses differ by float rounding (~1e-16). Training amplifies such
differences exponentially where it is chaotic; with Adam at lr 0.05 on MUTAG
graphlets they stay below 1e-13 for 300 epochs but reach 1e-5 by epoch 500,
after which the runs are different (equally good) trajectories — the same
happens between two unlifted runs whose sums are ordered differently.

Quick mode (a smoke run on what installed packages ship): 2 folds, 10 epochs, the
first 60 MUTAG molecules (``grakel``) and Nations (``pykeen``) for ``kbe``; the PyG
comparison on MUTAG with 2 folds.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from liftnn.data import GraphSet, KnowledgeBase, load
from liftnn.pipeline import ModelSpec, load_problem
from liftnn.train import TrainConfig, cross_validate, summarize

from . import data_dir, vs_pyg, write_results

EPOCHS = 300
QUICK_EPOCHS = 10
QUICK_FOLDS = 2
QUICK_MOLECULES = 60
LR = 0.05
FOLDS = 5
DIM = 10
SEED = 0
TOLERANCE = 1e-6
CASES = (  # (model, dataset folder under the shared data, label)
    ("graphlets", "molecules/tudataset/MUTAG", "MUTAG"),
    ("gcn", "molecules/tudataset/MUTAG", "MUTAG"),
    ("kbe", "kbc/kinships", "Kinships"),
)
REGIMES = (("lifted", True), ("unlifted", False))


def _dataset(folder: str, label: str, quick: bool = False) -> GraphSet | KnowledgeBase | str | Path:
    """The shared data folder's copy, else (and always in quick mode) the one an installed package ships."""
    if quick:
        return load("NATIONS") if folder.startswith("kbc/") else load("MUTAG").subset(np.arange(QUICK_MOLECULES))
    try:
        path = data_dir() / folder
    except FileNotFoundError:  # a fresh machine: no shared data folder
        path = None
    if path is not None and path.exists():
        return path
    return label.upper()  # the copy an installed package ships (grakel: MUTAG, pykeen: KINSHIPS)


def _case(model: str, folder: str, label: str, epochs: int, folds: int = FOLDS, quick: bool = False) -> dict:
    t0 = time.perf_counter()
    label = "Nations" if quick and label == "Kinships" else label
    loaded = load_problem(_dataset(folder, label, quick), ModelSpec(model, dim=DIM, activation="sigmoid", seed=SEED,
                                                             preset="paper"))
    problem = loaded.problem
    build_s = time.perf_counter() - t0
    res: dict = {"model": model, "dataset": label, "samples": problem.num_samples,
                 "positive": int((problem.targets > 0.5).sum()), "neurons": problem.graph.num_nodes,
                 "build_s": build_s, "regimes": {}}
    histories = {}
    for name, lift in REGIMES:
        config = TrainConfig(epochs=epochs, lr=LR, lift=lift, seed=SEED, dtype="float64", loss="mse", batch_size=0)
        t1 = time.perf_counter()
        hist = cross_validate(problem, config, folds=folds)
        histories[name] = hist
        summary = summarize(hist)
        res["regimes"][name] = {
            "summary": summary,
            "train_accuracy": [h.train["accuracy"] for h in hist],
            "test_accuracy": [h.test["accuracy"] for h in hist],
            "train_neurons": [h.nodes["train"] for h in hist],
            "seconds_per_epoch": [h.seconds_per_epoch for h in hist],
            "seconds": time.perf_counter() - t1,
        }
    lifted, unlifted = histories["lifted"], histories["unlifted"]
    res["max_epoch_loss_diff"] = float(max(
        np.max(np.abs(np.array(a.epoch_loss) - np.array(b.epoch_loss))) for a, b in zip(lifted, unlifted, strict=True)))
    res["max_test_accuracy_diff"] = float(max(
        abs(a.test["accuracy"] - b.test["accuracy"]) for a, b in zip(lifted, unlifted, strict=True)))
    res["max_train_accuracy_diff"] = float(max(
        abs(a.train["accuracy"] - b.train["accuracy"]) for a, b in zip(lifted, unlifted, strict=True)))
    return res


def _pm(s: dict) -> str:
    return f"{s['mean']:.3f} ± {s['std']:.3f}"


def _markdown(results: list[dict], epochs: int, seconds: float, folds: int = FOLDS) -> str:
    lines = [
        "## Accuracy: lifted versus unlifted training (paper Fig. 6)",
        "",
        f"{folds}-fold stratified cross-validation, full-batch Adam (lr {LR}), MSE, float64, {epochs} epochs, "
        f"dim {DIM}, seed {SEED}; mean ± std over folds. Neurons: the training graph of one fold (mean); "
        f"lifted = dataset scope. Total {seconds:.0f} s.",
        "",
        "| model | data | samples | regime | train acc | test acc | test AUROC | neurons (train) | s / epoch |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for name, _ in REGIMES:
            g = r["regimes"][name]
            s = g["summary"]
            lines.append(
                f"| {r['model']} | {r['dataset']} | {r['samples']:,} | {name} | {_pm(s['train_accuracy'])} | "
                f"{_pm(s['test_accuracy'])} | {_pm(s['test_auroc'])} | {np.mean(g['train_neurons']):,.0f} | "
                f"{s['seconds_per_epoch']['mean']:.4f} |")
    lines += ["", "| model | max \\|Δ test acc\\| over folds | max \\|Δ train acc\\| | max \\|Δ epoch loss\\| | "
              "epoch speed-up |", "|---|---:|---:|---:|---:|"]
    for r in results:
        sp = (r["regimes"]["unlifted"]["summary"]["seconds_per_epoch"]["mean"]
              / r["regimes"]["lifted"]["summary"]["seconds_per_epoch"]["mean"])
        lines.append(f"| {r['model']} | {r['max_test_accuracy_diff']:.1e} | {r['max_train_accuracy_diff']:.1e} | "
                     f"{r['max_epoch_loss_diff']:.1e} | {sp:.1f}x |")
    return "\n".join(lines)


def _figure(results: list[dict], path: Path, folds: int = FOLDS) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = [("train", "lifted", "tab:blue", None), ("train", "unlifted", "lightsteelblue", "//"),
            ("test", "lifted", "tab:orange", None), ("test", "unlifted", "navajowhite", "//")]
    fig, ax = plt.subplots(figsize=(8.5, 4.6))
    width = 0.19
    x = np.arange(len(results))
    for k, (part, regime, color, hatch) in enumerate(bars):
        means = [r["regimes"][regime]["summary"][f"{part}_accuracy"]["mean"] for r in results]
        stds = [r["regimes"][regime]["summary"][f"{part}_accuracy"]["std"] for r in results]
        pos = x + (k - 1.5) * width
        ax.bar(pos, means, width, yerr=stds, capsize=3, color=color, hatch=hatch, edgecolor="dimgray",
               label=f"{part}, {regime}")
        for p, m in zip(pos, means, strict=True):
            ax.text(p, 0.02, f"{m:.3f}", rotation=90, ha="center", va="bottom", fontsize=8)
    for r, xi in zip(results, x, strict=True):
        majority = max(r["positive"], r["samples"] - r["positive"]) / r["samples"]
        ax.hlines(majority, xi - 2 * width, xi + 2 * width, colors="black", linestyles=":", lw=1.2)
    ax.plot([], [], color="black", ls=":", label="majority class")
    ax.set_xticks(x, [f"{r['model']}\n{r['dataset']} ({r['samples']:,} samples)" for r in results])
    ax.set_ylabel(f"accuracy (mean ± std, {folds} folds)")
    ax.set_ylim(0, 1.05)
    ax.set_title("Lifted and unlifted training reach the same accuracy", fontsize=11)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=5, fontsize=8.5, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(out: Path, quick: bool = False) -> dict:
    """Run the experiment; write ``accuracy.md``, ``accuracy.json`` and ``accuracy.png`` under ``out``."""
    torch.set_num_threads(1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    epochs = QUICK_EPOCHS if quick else EPOCHS
    folds = QUICK_FOLDS if quick else FOLDS
    t0 = time.perf_counter()
    results = [_case(model, folder, label, epochs, folds, quick) for model, folder, label in CASES]
    seconds = time.perf_counter() - t0
    text = _markdown(results, epochs, seconds, folds)
    payload = {"quick": quick, "epochs": epochs, "lr": LR, "folds": folds, "dim": DIM, "seed": SEED,
               "dtype": "float64", "tolerance": TOLERANCE, "seconds": seconds, "cases": results}
    vs = vs_pyg.run(out, quick)  # the default model against its PyG twin, 10 folds (quick: 2)
    text += "\n\n" + vs["text"]
    write_results(out, "accuracy", text, payload)
    _figure(results, out / "accuracy.png", folds)
    for r in results:
        if r["max_test_accuracy_diff"] > TOLERANCE:
            raise AssertionError(f"{r['model']}: lifted and unlifted test accuracies differ by "
                                 f"{r['max_test_accuracy_diff']:.2e} (> {TOLERANCE:g})")
    return {**payload, "vs_pyg": vs, "text": text}
