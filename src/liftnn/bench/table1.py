"""Table 1 of the lifting paper, extended: seconds per training epoch, liftnn against the alternatives.

Setup: the 2,946 NCI-GI50 MDA_MB_231_ATCC molecules, dim 10, GCN and GraphSAGE
(2 layers) and GIN (5 layers), MSE loss, Adam (lr 0.01). Regimes: per-sample steps
(the paper's), mini-batches of 32, full batch; every framework uses the same seeded
partition into batches and the same batch order. Frameworks (columns):

* ``liftnn``: the template network lifted at dataset scope, on the engine
  ``engine="auto"`` picks (the row says which); ``liftnn_native`` and ``liftnn_torch``
  force one engine (measured for mini-batches and full batch: the data behind ``auto``);
* ``pyg``: PyTorch Geometric twins computing exactly the template's function
  (:mod:`liftnn.bench.pyg_models`), on batches collated once beforehand;
* ``pyg_stock``: PyG's stock layers for the same architecture (:mod:`liftnn.bench.pyg_stock`);
* ``jax``: a jitted JAX twin, unlifted, padded batches, one compiled call per epoch
  (:mod:`liftnn.bench.jax_models`);
* ``neuralogic``: the reference Java system, lifted, per-sample only
  (:mod:`liftnn.bench.neuralogic_timing`).

Protocol: build every framework of a cell, one warm-up epoch each, then ``repeats``
rounds in which every framework runs one epoch in turn (interleaved, so drift hits all
alike); each cell reports the median and interquartile range. One torch thread, XLA on
one thread. Set-up seconds: liftnn's lifting, batch restriction and compilation (the
template's grounding and neuralization are reported separately); PyG's conversion and
collation; JAX's padding and jit compilation; NeuraLogic's grounding and compression.
``--memory`` adds the peak resident memory of per-sample GIN training per framework,
each in a fresh process.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from ..data import graph_facts, read_nci_gi50
from ..data.encode import edge_type_predicates, node_type_predicates
from ..data.graphs import GraphSet
from ..logic import build
from ..models import molecule_template
from ..train import Problem, TrainConfig
from ..train.loop import Session, make_optimizer
from .results import data_dir, write_results

MDA = "molecules/nci_gi50/gi50_screen_MDA_MB_231_ATCC.txt.gz"
MODELS = {"gcn": 2, "sage": 2, "gin": 5}
REGIMES = {"per-sample": 1, "mini-batch-32": 32, "full": 0}
FRAMEWORKS = ("liftnn", "liftnn_native", "liftnn_torch", "pyg", "pyg_stock", "jax", "neuralogic")
#: a smoke run (``quick``) compares liftnn with the PyG twin only
QUICK_FRAMEWORKS = ("liftnn", "pyg")
LR = 0.01
DIM = 10


class Trainer(Protocol):
    build_seconds: float

    def epoch(self) -> object:
        """Run one training epoch (blocking)."""


class LiftnnTrainer:
    """liftnn's training session: the epochs :func:`liftnn.train.fit` runs, without evaluation."""

    def __init__(self, problem: Problem, batch_size: int, engine: str) -> None:
        config = TrainConfig(lr=LR, batch_size=batch_size, engine=engine)
        self.session = Session(problem, np.arange(problem.num_samples), config)
        self.build_seconds = self.session.build_seconds
        self.engine = self.session.engine

    def epoch(self) -> object:
        return self.session.epoch()


class PygTrainer:
    """A PyG model on batches collated once beforehand (the partition and order liftnn uses)."""

    def __init__(self, data: GraphSet, model: str, layers: int, batch_size: int, stock: bool, seed: int = 0) -> None:
        from torch_geometric.data import Batch

        from .pyg_models import graphset_to_pyg, make_pyg_model
        from .pyg_stock import StockGNN, stock_data

        t0 = time.perf_counter()
        graphs = stock_data(data) if stock else graphset_to_pyg(data)
        perm = np.random.default_rng(seed).permutation(len(graphs))
        size = len(graphs) if batch_size == 0 else batch_size
        self.batches = [Batch.from_data_list([graphs[i] for i in perm[a : a + size]])
                        for a in range(0, len(graphs), size)]
        self.targets = [torch.as_tensor(data.y[perm[a : a + size]], dtype=torch.float32)
                        for a in range(0, len(graphs), size)]
        self.build_seconds = time.perf_counter() - t0
        torch.manual_seed(seed)
        self.net = (StockGNN(model, len(data.node_types), layers, DIM) if stock
                    else make_pyg_model(model, len(data.node_types), layers=layers, dim=DIM))
        self.opt = make_optimizer(TrainConfig(lr=LR), list(self.net.parameters()))
        self.rng = np.random.default_rng(seed + 1)

    def epoch(self) -> object:
        for b in self.rng.permutation(len(self.batches)):
            self.opt.zero_grad(set_to_none=True)
            loss = torch.mean((self.net(self.batches[b])[:, 0] - self.targets[b]) ** 2)
            loss.backward()
            self.opt.step()
        return None


def _problem(data: GraphSet, model: str, layers: int) -> tuple[Problem, float]:
    t0 = time.perf_counter()
    template = molecule_template(model, node_type_predicates(data), edge_type_predicates(data), layers, DIM)
    return Problem.from_network(build(template, *graph_facts(data)), data.name), time.perf_counter() - t0


def _trainers(data: GraphSet, problem: Problem, model: str, layers: int, batch_size: int,
              frameworks: tuple[str, ...]) -> tuple[dict[str, Trainer], dict[str, str]]:
    """Every framework of one cell that can run here; the reasons for those that cannot."""
    makers: dict[str, Callable[[], Trainer]] = {
        "liftnn": lambda: LiftnnTrainer(problem, batch_size, "auto"),
        "liftnn_native": lambda: LiftnnTrainer(problem, batch_size, "native"),
        "liftnn_torch": lambda: LiftnnTrainer(problem, batch_size, "torch"),
        "pyg": lambda: PygTrainer(data, model, layers, batch_size, stock=False),
        "pyg_stock": lambda: PygTrainer(data, model, layers, batch_size, stock=True),
    }
    skipped: dict[str, str] = {}
    if "jax" in frameworks:
        try:
            from .jax_models import jax_trainer

            makers["jax"] = lambda: jax_trainer(data, model, layers, DIM, batch_size, LR)
        except ImportError as err:
            skipped["jax"] = f"jax is not installed ({err}); pip install 'liftnn[bench]'"
    if "neuralogic" in frameworks:
        if batch_size != 1:
            skipped["neuralogic"] = "measured per-sample only"
        else:
            from .neuralogic_timing import neuralogic_available, neuralogic_trainer

            reason = neuralogic_available()
            if reason:
                skipped["neuralogic"] = reason
            else:
                makers["neuralogic"] = lambda: neuralogic_trainer(data, model, layers, DIM, LR)
    trainers = {name: makers[name]() for name in frameworks if name in makers}
    return trainers, skipped


def interleaved(trainers: dict[str, Trainer], repeats: int) -> dict[str, list[float]]:
    """One warm-up epoch each, then ``repeats`` rounds of one epoch per framework, in turn."""
    for t in trainers.values():
        t.epoch()
    times: dict[str, list[float]] = {name: [] for name in trainers}
    for _ in range(repeats):
        for name, t in trainers.items():
            t0 = time.perf_counter()
            t.epoch()
            times[name].append(time.perf_counter() - t0)
    return times


def spread(times: list[float]) -> dict[str, float]:
    """Median and interquartile range of repeated timings."""
    q1, q2, q3 = np.percentile(times, [25, 50, 75])
    return {"median": float(q2), "q1": float(q1), "q3": float(q3), "iqr": float(q3 - q1), "n": len(times)}


def ratio(slow: dict[str, float], fast: dict[str, float]) -> dict[str, float]:
    """``slow / fast`` at the medians, with the range over the two interquartile ranges."""
    return {"median": slow["median"] / fast["median"], "low": slow["q1"] / fast["q3"],
            "high": slow["q3"] / fast["q1"]}


def run(out: Path, quick: bool = False, models: list[str] | None = None, regimes: list[str] | None = None,
        frameworks: list[str] | None = None, repeats: int | None = None, memory: bool = False) -> dict:
    """Measure the chosen cells (all by default); write table1.md/.json; one row per cell."""
    torch.set_num_threads(1)
    models = models or list(MODELS)
    regimes = regimes or list(REGIMES)
    frameworks = tuple(frameworks or (QUICK_FRAMEWORKS if quick else FRAMEWORKS))
    for name, chosen, known in (("model", models, MODELS), ("regime", regimes, REGIMES),
                                ("framework", frameworks, FRAMEWORKS)):
        bad = [c for c in chosen if c not in known]
        if bad:
            raise ValueError(f"unknown {name} {bad[0]!r}; known: {', '.join(known)}")
    repeats = repeats or (2 if quick else 10)
    data = molecules(quick)
    rows = []
    for model in models:
        layers = MODELS[model]
        problem, template_s = _problem(data, model, layers)
        for regime in regimes:
            bs = REGIMES[regime]
            # per-sample: auto is the native engine, and the torch engine needs minutes per epoch
            chosen = tuple(f for f in frameworks if not (bs == 1 and f in ("liftnn_native", "liftnn_torch")))
            trainers, skipped = _trainers(data, problem, model, layers, bs, chosen)
            times = interleaved(trainers, repeats)
            row: dict = {"model": model, "layers": layers, "regime": regime, "molecules": data.num_graphs,
                         "repeats": repeats, "template_s": template_s, "skipped": skipped,
                         "engine": trainers["liftnn"].engine if "liftnn" in trainers else None}
            for name, t in trainers.items():
                row[f"{name}_s"] = statistics.median(times[name])
                row[f"{name}_spread"] = spread(times[name])
                row[f"{name}_setup_s"] = t.build_seconds
            if "liftnn" in trainers:
                for name in trainers:
                    if name != "liftnn":
                        row[f"vs_{name}"] = ratio(row[f"{name}_spread"], row["liftnn_spread"])
            rows.append(row)
            print(_line(row), file=sys.stderr, flush=True)  # progress; stdout stays machine-readable
            write_results(out, "table1", "\n".join([_header()] + [_line(r) for r in rows]),
                          {"rows": rows, "command": " ".join(sys.argv), "complete": False})  # cell by cell
    result: dict = {"rows": rows, "command": " ".join(sys.argv), "complete": True, "quick": quick}
    if memory:
        result["memory"] = peak_memory(quick)
    text = "\n".join([_header()] + [_line(r) for r in rows])
    if memory:
        text += "\n\n" + _memory_text(result["memory"])
    write_results(out, "table1", text, result)
    result["text"] = text
    return result


def molecules(quick: bool = False) -> GraphSet:
    """The MDA molecules; quick: 200 of them, or where the shared data folder is absent (a fresh
    machine) the MUTAG molecules installed packages ship."""
    try:
        path = data_dir() / MDA
    except FileNotFoundError:
        path = None
    if path is not None and path.exists():
        data = read_nci_gi50(path)
        return data.subset(np.arange(200)) if quick else data
    if not quick:
        raise FileNotFoundError(f"Table 1 reads the NCI-GI50 set {MDA} from the shared data folder "
                                f"(LIFTNN_DATA); it is not at {path}")
    from ..data import load

    return load("MUTAG")


def _cell(r: dict, name: str) -> str:
    s = r.get(f"{name}_spread")
    return "-" if s is None else f"{s['median']:.4f} ± {s['iqr'] / 2:.4f}"


def _times(r: dict, name: str) -> str:
    v = r.get(f"vs_{name}")
    return "-" if v is None else f"{v['median']:.1f}x ({v['low']:.1f}-{v['high']:.1f})"


def _header() -> str:
    return ("| model | regime | engine | liftnn s | PyG twin s | PyG stock s | JAX s | NeuraLogic s "
            "| vs PyG | vs PyG stock | vs JAX | vs NeuraLogic | native s | torch engine s | liftnn set-up s |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def _line(r: dict) -> str:
    setup = r.get("liftnn_setup_s")
    return (f"| {r['model']} ({r['layers']} layers) | {r['regime']} | {r.get('engine') or '-'} "
            f"| {_cell(r, 'liftnn')} | {_cell(r, 'pyg')} | {_cell(r, 'pyg_stock')} | {_cell(r, 'jax')} "
            f"| {_cell(r, 'neuralogic')} | {_times(r, 'pyg')} | {_times(r, 'pyg_stock')} | {_times(r, 'jax')} "
            f"| {_times(r, 'neuralogic')} | {_cell(r, 'liftnn_native')} | {_cell(r, 'liftnn_torch')} "
            f"| {'-' if setup is None else f'{setup:.2f}'} |")


# ------------------------------------------------------------------------------------------ memory


def peak_memory(quick: bool = False, model: str = "gin") -> dict[str, dict[str, float]]:
    """Peak resident memory (MiB) of one per-sample training epoch per framework, each in a fresh process:
    ``before`` (data and model built), ``peak`` (after the epoch) and their difference ``training``."""
    out = {}
    for framework in ("liftnn", "pyg", "pyg_stock"):
        cmd = [sys.executable, "-m", "liftnn.bench.table1", "--memory-probe", model, framework]
        if quick:
            cmd.append("--quick")
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            out[framework] = {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
            continue
        out[framework] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def _memory_probe(model: str, framework: str, quick: bool) -> dict[str, float]:
    torch.set_num_threads(1)
    data = read_nci_gi50(data_dir() / MDA)
    if quick:
        data = data.subset(np.arange(200))
    layers = MODELS[model]
    if framework == "liftnn":
        trainer: Trainer = LiftnnTrainer(_problem(data, model, layers)[0], 1, "auto")
    else:
        trainer = PygTrainer(data, model, layers, 1, stock=framework == "pyg_stock")
    before = _rss_mib()
    trainer.epoch()
    peak = _rss_mib()
    return {"before": before, "peak": peak, "training": peak - before}


def _rss_mib() -> float:
    """This process's peak resident memory so far: ``VmHWM`` (``ru_maxrss`` is inherited across fork and
    exec on Linux, so a fresh process would report its parent's peak)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _memory_text(mem: dict) -> str:
    lines = ["| per-sample GIN epoch | peak RSS MiB | growth during training MiB |", "|---|---|---|"]
    for name, m in mem.items():
        if "error" in m:
            lines.append(f"| {name} | error: {m['error']} | - |")
        else:
            lines.append(f"| {name} | {m['peak']:.0f} | {m['training']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":  # the memory probe's fresh process
    if len(sys.argv) >= 4 and sys.argv[1] == "--memory-probe":
        print(json.dumps(_memory_probe(sys.argv[2], sys.argv[3], "--quick" in sys.argv)))
