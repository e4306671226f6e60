"""Value lifting versus significant digits (the lifting paper's Fig. 4 and 5).

Value lifting (``liftnn.compress(method="value")``) evaluates a graph under
``inits`` random float64 weight draws, rounds every neuron value to ``digits``
significant digits and merges neurons whose rounded values agree. Too few
digits merge neurons that only happen to be close (the compression ratio
shoots up and the result is lossy); enough digits leave only genuine
equivalences. This experiment measures, for ``digits = 1..14`` and
``inits = 1, 2, 3``:

* the compression ratio (neurons before / after, sample scope as in the paper);
* the *clashes* (``Report.clashes``): merges beyond what exact (structural)
  lifting makes. They are of two kinds: functional equivalences that exact
  lifting cannot see (e.g. ``avg(a, a) = avg(a)`` after earlier merges; these
  remain at 14 digits, are correct, and form the plateau) and false merges of
  merely close values (lossy);
* whether the result is still lossless: :func:`liftnn.verify` on five *fresh*
  weight draws (seeds the value pass never saw) compares outputs and gradients
  of the original and the value-lifted graph (max relative error; lossless
  means at most 1e-9). Random draws can miss a false merge (KBE's relu score
  neurons are 0 for many draws), hence five of them.

Models and data (the paper's three models):

* ``graphlets`` and ``gcn`` (zoo templates, 2 layers, sigmoid) on the first 300
  molecules of NCI-GI50 MDA_MB_231_ATCC (the paper's "MDA" set);
* ``kbe`` (the zoo's knowledge-base embedder, one relational layer) on
  Kinships: the training triples as facts, every training triple (target 1)
  and one corrupted copy (target 0) as queries.

Two weight regimes: *scalar* (every weight label of shape ``()``: the graph is
evaluated with one number per neuron, the paper's scalar case) and *dim 3*
(the templates' declared shapes with ``dim=3``: ``3×3`` matrices, ``3×1``
embeddings). The structure of a grounded network does not depend on the
dimension, so one graph per model serves both regimes; the scalar regime
declares ``()`` for every label (value lifting draws, and verification checks,
those shapes). The exact-lifting ratio is the reference line.

Quick mode (a smoke run on what installed packages ship, no shared data folder):
digits 1, 4, 14 on the first 20 MUTAG molecules (``grakel``) and on Nations
(``pykeen``) for ``kbe``.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

import liftnn
from liftnn.data import graph_facts, kb_facts, load, load_graphs, read_nci_gi50
from liftnn.data.encode import edge_type_predicates, node_type_predicates
from liftnn.lift import ValueClashWarning
from liftnn.logic import build
from liftnn.models import kbe_template, molecule_template

from . import data_dir, write_results

DIGITS = tuple(range(1, 15))
QUICK_DIGITS = (1, 4, 14)
INITS = (1, 2, 3)
WEIGHTS = ("scalar", "dim 3")
MOLECULES = 300
QUICK_MOLECULES = 20
MDA = "molecules/nci_gi50/gi50_screen_MDA_MB_231_ATCC.txt.gz"
KINSHIPS = "kbc/kinships"
VERIFY_SEED = 10_000  # the value pass draws seeds 0..inits-1; verification uses others
TOLERANCE = 1e-9
VERIFY_TRIALS = 5  # two draws can miss a false merge of two dead relu units (both 0 on both draws)


def _graphs(quick: bool) -> dict[str, tuple[liftnn.Graph, str]]:
    """The three models' graphs: on the shared data (full run) or on the bundled MUTAG and Kinships (quick)."""
    n = QUICK_MOLECULES if quick else MOLECULES
    mols = load_graphs("MUTAG") if quick else read_nci_gi50(data_dir() / MDA)
    mols = mols.subset(np.arange(min(n, mols.num_graphs)))
    facts, queries = graph_facts(mols)
    out = {}
    for model in ("graphlets", "gcn"):
        tpl = molecule_template(model, node_type_predicates(mols), edge_type_predicates(mols), dim=3)
        where = "MUTAG" if quick else "MDA_MB_231_ATCC"
        out[model] = (build(tpl, facts, queries).graph, f"{where}, first {mols.num_graphs} molecules")
    kb = load("NATIONS" if quick else data_dir() / KINSHIPS)
    facts, queries = kb_facts(kb, split="train", negatives=1, seed=0)
    graph = build(kbe_template(kb.entities, kb.relations, dim=3), facts, queries).graph
    out["kbe"] = (graph, f"{'Nations' if quick else 'Kinships'}, {graph.num_outputs} queries")
    return out


def _measure(graph: liftnn.Graph, digits: tuple[int, ...]) -> dict:
    exact = liftnn.compress(graph, method="exact", scope="sample")[1]
    rows = []
    for weights in WEIGHTS:
        shapes = {label: () for label in graph.labels} if weights == "scalar" else None
        graph_w = graph if shapes is None else replace(graph, shapes=shapes)  # the shapes the graph is checked for
        for inits in INITS:
            for d in digits:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ValueClashWarning)
                    lifted, rep = liftnn.compress(graph_w, method="value", digits=d, inits=inits, scope="sample",
                                                  shapes=shapes, seed=0)
                check = liftnn.verify(graph_w, lifted, trials=VERIFY_TRIALS, shapes=shapes, seed=VERIFY_SEED,
                                      tolerance=TOLERANCE, raise_on_error=False)
                rows.append({
                    "weights": weights, "inits": inits, "digits": d, "nodes_after": rep.nodes_after,
                    "ratio": rep.ratio, "clashes": rep.clashes, "seconds": rep.seconds,
                    "max_output_error": check.max_output_error, "max_gradient_error": check.max_gradient_error,
                    "lossless": bool(check.ok),
                })
    return {"nodes": graph.num_nodes, "edges": graph.num_edges, "outputs": graph.num_outputs,
            "exact_nodes": exact.nodes_after, "exact_ratio": exact.ratio, "rows": rows}


def _markdown(results: dict, digits: tuple[int, ...], seconds: float) -> str:
    lines = ["## Value lifting versus significant digits (paper Fig. 4/5)", "",
             "Cells: compression ratio (nodes before / after, sample scope) and, in brackets, the clashes "
             "(merges beyond exact lifting). `*` marks a lossy result: outputs or gradients differ from the "
             f"original graph's by more than {TOLERANCE:g} (relative) on {VERIFY_TRIALS} fresh random weight draws. "
             f"Total {seconds:.0f} s.", ""]
    cols = [(w, i) for w in WEIGHTS for i in INITS]
    for model, res in results.items():
        lines += [f"### {model} — {res['dataset']}", "",
                  f"{res['nodes']:,} neurons; exact lifting: {res['exact_nodes']:,} ({res['exact_ratio']:.2f}x)", "",
                  "| digits | " + " | ".join(f"{w}, {i} init{'s' if i > 1 else ''}" for w, i in cols) + " |",
                  "|---:|" + "---:|" * len(cols)]
        by = {(r["weights"], r["inits"], r["digits"]): r for r in res["rows"]}
        for d in digits:
            cells = []
            for w, i in cols:
                r = by[(w, i, d)]
                cells.append(f"{r['ratio']:.2f} ({r['clashes']:,}){'' if r['lossless'] else '*'}")
            lines.append(f"| {d} | " + " | ".join(cells) + " |")
        lossless = [r for r in res["rows"] if r["lossless"]]
        first = {}
        for w, i in cols:
            ok = [r["digits"] for r in lossless if r["weights"] == w and r["inits"] == i]
            # smallest digit count from which every larger one is lossless too
            d_ok = None
            for d in sorted(digits, reverse=True):
                if d in ok:
                    d_ok = d
                else:
                    break
            first[f"{w}, {i}"] = d_ok
        lines += ["", "Lossless from (digits): " + ", ".join(
            f"{k} init(s): {v if v is not None else 'never'}" for k, v in first.items()), ""]
    return "\n".join(lines)


def _figure(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    models = list(results)
    colors = {1: "tab:red", 2: "tab:orange", 3: "tab:blue"}
    styles = {"scalar": "-", "dim 3": "--"}
    markers = {"scalar": "o", "dim 3": "s"}
    fig, axes = plt.subplots(3, len(models), figsize=(4.6 * len(models), 10.5), sharex=True, squeeze=False)
    for c, model in enumerate(models):
        res = results[model]
        for w in WEIGHTS:
            for i in INITS:
                rows = sorted((r for r in res["rows"] if r["weights"] == w and r["inits"] == i),
                              key=lambda r: r["digits"])
                d = np.array([r["digits"] for r in rows])
                kw = {"color": colors[i], "ls": styles[w], "lw": 1.6, "alpha": 0.9}
                lossy = np.array([not r["lossless"] for r in rows])
                for row, key in ((0, "ratio"), (1, "clashes")):
                    y = np.array([r[key] for r in rows], dtype=float)
                    axes[row, c].plot(d, y, **kw)
                    axes[row, c].scatter(d[lossy], y[lossy], color=colors[i], marker=markers[w], s=22, zorder=3)
                    axes[row, c].scatter(d[~lossy], y[~lossy], facecolor="white", edgecolor=colors[i],
                                         marker=markers[w], s=22, zorder=3)
                err = np.array([max(r["max_output_error"], 1e-17) for r in rows])
                axes[2, c].plot(d, err, marker=markers[w], ms=4, **kw)
        axes[0, c].axhline(res["exact_ratio"], color="black", ls=":", lw=1.5)
        top = max(r["ratio"] for r in res["rows"])
        if top / res["exact_ratio"] > 3:
            axes[0, c].set_yscale("log")
            axes[0, c].yaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 3, 5)))
            axes[0, c].yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            axes[0, c].yaxis.set_minor_formatter(NullFormatter())
        axes[0, c].set_title(f"{model}: {res['dataset']}\n{res['nodes']:,} neurons, exact lifting "
                             f"{res['exact_ratio']:.2f}x (dotted)", fontsize=10)
        if min(r["clashes"] for r in res["rows"]) > 0:
            axes[1, c].set_yscale("log")
        else:
            axes[1, c].set_yscale("symlog", linthresh=1)
            axes[1, c].set_ylim(bottom=0)
        axes[2, c].set_yscale("log")
        axes[2, c].axhline(TOLERANCE, color="gray", ls=":", lw=1)
        axes[2, c].set_xlabel("significant digits")
        for row in range(3):
            axes[row, c].grid(True, which="major", alpha=0.3)
            axes[row, c].set_xticks(range(1, 15))
    axes[0, 0].set_ylabel("compression ratio\n(neurons before / after)")
    axes[1, 0].set_ylabel("clashes\n(merges beyond exact lifting)")
    axes[2, 0].set_ylabel("max relative output error\non fresh weights (log)")
    handles = [Line2D([], [], color=colors[i], lw=2, label=f"{i} init{'s' if i > 1 else ''}") for i in INITS]
    handles += [Line2D([], [], color="gray", ls=styles[w], marker=markers[w], label=f"{w} weights") for w in WEIGHTS]
    handles += [Line2D([], [], color="black", ls=":", label="exact lifting"),
                Line2D([], [], color="gray", marker="o", ls="", label="filled marker: lossy"),
                Line2D([], [], color="gray", marker="o", ls="", mfc="white", label="hollow marker: lossless")]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=9, frameon=False)
    fig.suptitle("Value lifting: compression and clashes versus significant digits", fontsize=12)
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(out: Path, quick: bool = False) -> dict:
    """Run the experiment; write ``digits.md``, ``digits.json`` and ``digits.png`` under ``out``."""
    torch.set_num_threads(1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    digits = QUICK_DIGITS if quick else DIGITS
    t0 = time.perf_counter()
    results = {}
    for model, (graph, dataset) in _graphs(quick).items():
        results[model] = {"dataset": dataset, **_measure(graph, digits)}
    seconds = time.perf_counter() - t0
    text = _markdown(results, digits, seconds)
    payload = {"quick": quick, "digits": list(digits), "inits": list(INITS), "weights": list(WEIGHTS),
               "scope": "sample", "verify_seed": VERIFY_SEED, "verify_trials": VERIFY_TRIALS, "tolerance": TOLERANCE,
               "seconds": seconds, "models": results}
    write_results(out, "digits", text, payload)
    _figure(results, out / "digits.png")
    return {**payload, "text": text}
