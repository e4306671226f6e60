"""Table 1: seconds per training epoch, liftnn (lifted and unlifted) vs PyTorch Geometric.

Setup: the 2946 NCI-GI50 MDA_MB_231_ATCC molecules, dim 10, GCN and GraphSAGE
(2 layers) and GIN (5 layers), MSE loss, Adam. Regimes: per-sample steps,
mini-batches of 32 and full batch; the same seeded partition into batches for
every framework. liftnn runs the zoo template network: lifted at dataset scope,
lifted at sample scope, and unlifted. PyG runs its twin of the same model
(:mod:`liftnn.bench.pyg_models`, equal outputs under equal weights) on batches
collated once beforehand (its most favourable setting). One warm-up epoch, then
the median of ``repeats`` epochs; everything in one process, one torch thread.
Build time: liftnn's grounding + neuralization + lifting; PyG's conversion +
collation.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ..data import graph_facts, read_nci_gi50
from ..data.encode import edge_type_predicates, node_type_predicates
from ..logic import build
from ..models import molecule_template
from ..train import Problem, TrainConfig, fit
from ..train.loop import make_optimizer
from . import data_dir, write_results

MDA = "molecules/nci_gi50/gi50_screen_MDA_MB_231_ATCC.txt.gz"
MODELS = {"gcn": 2, "sage": 2, "gin": 5}
REGIMES = {"per-sample": 1, "mini-batch 32": 32, "full batch": 0}
VARIANTS = {"liftnn dataset": (True, "dataset"), "liftnn sample": (True, "sample"), "liftnn unlifted": (False, "")}


def liftnn_epochs(problem: Problem, batch_size: int, lift: bool, scope: str, repeats: int) -> tuple[float, float]:
    """(median seconds per epoch, build seconds) of liftnn training."""
    cfg = TrainConfig(epochs=repeats + 1, lr=0.01, batch_size=batch_size, lift=lift, scope=scope or "dataset")
    _, hist = fit(problem, np.arange(problem.num_samples), cfg)
    return statistics.median(hist.epoch_seconds[1:]), hist.build_seconds


def pyg_epochs(
    data, model: str, layers: int, dim: int, batch_size: int, repeats: int, seed: int = 0
) -> tuple[float, float]:  # noqa: ANN001
    """(median seconds per epoch, build seconds) of the PyG twin on pre-collated batches."""
    from torch_geometric.data import Batch

    from .pyg_models import graphset_to_pyg, make_pyg_model

    t0 = time.perf_counter()
    graphs = graphset_to_pyg(data)
    perm = np.random.default_rng(seed).permutation(len(graphs))  # the partition liftnn uses
    size = len(graphs) if batch_size == 0 else batch_size
    batches = [Batch.from_data_list([graphs[i] for i in perm[a : a + size]]) for a in range(0, len(graphs), size)]
    targets = [torch.as_tensor(data.y[perm[a : a + size]], dtype=torch.float32) for a in range(0, len(graphs), size)]
    build_s = time.perf_counter() - t0
    torch.manual_seed(seed)
    net = make_pyg_model(model, len(data.node_types), layers=layers, dim=dim)
    opt = make_optimizer(TrainConfig(lr=0.01), list(net.parameters()))
    rng = np.random.default_rng(seed + 1)
    times = []
    for _ in range(repeats + 1):
        t = time.perf_counter()
        for b in rng.permutation(len(batches)):
            opt.zero_grad(set_to_none=True)
            loss = torch.mean((net(batches[b])[:, 0] - targets[b]) ** 2)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t)
    return statistics.median(times[1:]), build_s


def run(out: Path, quick: bool = False) -> dict:
    """Measure every (model, regime, framework) cell; write table1.md/.json."""
    torch.set_num_threads(1)
    repeats = 1 if quick else 3
    data = read_nci_gi50(data_dir() / MDA)
    if quick:
        data = data.subset(np.arange(200))
    rows = []
    for model, layers in MODELS.items():
        t0 = time.perf_counter()
        template = molecule_template(model, node_type_predicates(data), edge_type_predicates(data), layers, 10)
        problem = Problem.from_network(build(template, *graph_facts(data)), data.name)
        template_s = time.perf_counter() - t0
        for regime, bs in REGIMES.items():
            row = {
                "model": model,
                "layers": layers,
                "regime": regime,
                "molecules": data.num_graphs,
                "template_build_s": template_s,
            }
            for name, (lift, scope) in VARIANTS.items():
                row[name], row[f"{name} build_s"] = liftnn_epochs(problem, bs, lift, scope, repeats)
            row["pyg"], row["pyg build_s"] = pyg_epochs(data, model, layers, 10, bs, repeats)
            row["speedup vs pyg"] = row["pyg"] / row["liftnn dataset"]
            row["speedup vs unlifted"] = row["liftnn unlifted"] / row["liftnn dataset"]
            row["end-to-end 100 epochs s"] = template_s + row["liftnn dataset build_s"] + 100 * row["liftnn dataset"]
            row["pyg 100 epochs s"] = 100 * row["pyg"]
            rows.append(row)
            print(_line(row), file=sys.stderr, flush=True)  # progress; stdout stays machine-readable
    text = "\n".join([_header()] + [_line(r) for r in rows])
    write_results(out, "table1", text, rows)
    return {"rows": rows, "text": text}


def _header() -> str:
    return (
        "| model | regime | liftnn dataset-lifted s | liftnn sample-lifted s | liftnn unlifted s | PyG s "
        "| vs PyG | vs unlifted | build (template + lift) s | end-to-end 100 ep. s | PyG 100 ep. s |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|"
    )


def _line(r: dict) -> str:
    return (
        f"| {r['model']} ({r['layers']} layers) | {r['regime']} | {r['liftnn dataset']:.4f} "
        f"| {r['liftnn sample']:.4f} | {r['liftnn unlifted']:.4f} | {r['pyg']:.4f} | {r['speedup vs pyg']:.1f}x "
        f"| {r['speedup vs unlifted']:.1f}x | {r['template_build_s']:.2f} + {r['liftnn dataset build_s']:.2f} "
        f"| {r['end-to-end 100 epochs s']:.1f} | {r['pyg 100 epochs s']:.1f} |"
    )
