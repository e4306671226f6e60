"""Exact lifting ratios over all 70 NCI-GI50 molecule sets.

For every cell line of the NCI-GI50 screen (``molecules/nci_gi50/*.txt.gz`` in
the shared data folder), the zoo's 2-layer GCN template (``dim=10``, sigmoid,
average aggregation; see :mod:`liftnn.models.zoo`) is grounded and neuralized
over the whole molecule set, then lifted exactly (lossless for every weight
value) at two scopes:

* ``sample``  — merges within each molecule only (the lifting paper's setting);
* ``dataset`` — merges across molecules too (liftnn's extension).

Reported per set: molecules, neurons of the unlifted network, neurons after
each lifting and the ratio (neurons before / after), the seconds to read and
build the network (grounding + neuralization) and to lift it. A final row
holds the means over sets (of the ratios and seconds; sums would mislead).

Quick mode: MUTAG as the ``grakel`` package ships it (no shared data folder needed).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

import liftnn
from liftnn.data import graph_facts, load_graphs, read_nci_gi50
from liftnn.data.encode import edge_type_predicates, node_type_predicates
from liftnn.logic import build
from liftnn.models import molecule_template

from . import data_dir, write_results

NCI = "molecules/nci_gi50"
PREFIX = "gi50_screen_"
DIM = 10
QUICK_SET = "MUTAG"  # bundled (grakel)


def measure(path: Path | str) -> dict:
    """One NCI-GI50 file (or a dataset name, e.g. the bundled ``MUTAG``): build the GCN network and lift it
    at both scopes."""
    t0 = time.perf_counter()
    data = read_nci_gi50(path) if isinstance(path, Path) else load_graphs(path)
    facts, queries = graph_facts(data)
    t1 = time.perf_counter()
    template = molecule_template("gcn", node_type_predicates(data), edge_type_predicates(data), layers=2, dim=DIM)
    graph = build(template, facts, queries).graph
    t2 = time.perf_counter()
    row = {
        "set": path.name.removeprefix(PREFIX).removesuffix(".gz").removesuffix(".txt") if isinstance(path, Path)
        else path,
        "molecules": data.num_graphs,
        "atoms": data.num_nodes,
        "neurons": graph.num_nodes,
        "edges": graph.num_edges,
        "read_s": t1 - t0,
        "build_s": t2 - t1,
    }
    for scope in ("sample", "dataset"):
        lifted, rep = liftnn.compress(graph, method="exact", scope=scope)
        row[scope] = {"neurons": lifted.num_nodes, "edges": lifted.num_edges, "ratio": rep.ratio,
                      "edge_ratio": rep.edge_ratio, "lift_s": rep.seconds}
    return row


def _markdown(rows: list[dict], mean: dict, seconds: float, sets: str = "the NCI-GI50 sets") -> str:
    lines = [
        f"## Exact lifting over {sets}",
        "",
        f"2-layer GCN (zoo template, dim {DIM}); neurons of the unlifted network and after exact lifting within "
        "each molecule (sample scope) and across the whole set (dataset scope); ratio = neurons before / after. "
        f"Build = grounding + neuralization. One torch thread; total {seconds:.0f} s.",
        "",
        "| set | molecules | neurons | sample-lifted | ratio | dataset-lifted | ratio | build s | lift s (sample) "
        "| lift s (dataset) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows + [mean]:
        name = f"**{r['set']}**" if r is mean else r["set"]
        lines.append(
            f"| {name} | {r['molecules']:,.0f} | {r['neurons']:,.0f} | {r['sample']['neurons']:,.0f} | "
            f"{r['sample']['ratio']:.2f} | {r['dataset']['neurons']:,.0f} | {r['dataset']['ratio']:.2f} | "
            f"{r['build_s']:.2f} | {r['sample']['lift_s']:.2f} | {r['dataset']['lift_s']:.2f} |")
    return "\n".join(lines)


def _mean(rows: list[dict]) -> dict:
    avg = lambda f: float(np.mean([f(r) for r in rows]))  # noqa: E731
    return {
        "set": f"mean of {len(rows)}",
        "molecules": avg(lambda r: r["molecules"]),
        "atoms": avg(lambda r: r["atoms"]),
        "neurons": avg(lambda r: r["neurons"]),
        "edges": avg(lambda r: r["edges"]),
        "read_s": avg(lambda r: r["read_s"]),
        "build_s": avg(lambda r: r["build_s"]),
        **{s: {k: avg(lambda r, s=s, k=k: r[s][k]) for k in rows[0][s]} for s in ("sample", "dataset")},
    }


def run(out: Path, quick: bool = False) -> dict:
    """Run the experiment; write ``lifting.md`` and ``lifting.json`` under ``out``."""
    torch.set_num_threads(1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path | str] = [QUICK_SET] if quick else sorted((data_dir() / NCI).glob(f"{PREFIX}*.txt*"))
    if not files:
        raise FileNotFoundError(f"no NCI-GI50 files under {data_dir() / NCI}")
    t0 = time.perf_counter()
    rows = [measure(f) for f in files]
    seconds = time.perf_counter() - t0
    mean = _mean(rows)
    text = _markdown(rows, mean, seconds, f"{QUICK_SET} (quick)" if quick else "the NCI-GI50 sets")
    payload = {"quick": quick, "model": "gcn", "layers": 2, "dim": DIM, "seconds": seconds, "sets": rows,
               "mean": mean}
    write_results(out, "lifting", text, payload)
    return {**payload, "text": text}
