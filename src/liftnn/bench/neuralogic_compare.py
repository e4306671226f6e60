"""liftnn beside NeuraLogic (PyNeuraLogic 0.9, the reference implementation) on Mutagenesis.

Both systems read the same files: the Mutagenesis template shipped inside the
``neuralogic`` package (``utils/data/datasets/molecules/mutagenesis/templates/
template.txt``, which imports ``embeddings.txt``: tanh atom and bond embeddings
and three tanh message-passing layers with ``{3,3}`` weights) with its
``examples.txt`` (188 molecules, explicit hydrogens) and ``queries.txt``.

Measured:

* neurons — NeuraLogic with compression and pruning off (the uncompressed
  network), with its value-based compression (``iso_value_compression=True``,
  within each sample), and with its defaults (value compression plus
  ``chain_pruning``, which drops the activations of single-input neurons and so
  changes outputs); liftnn unlifted, exactly lifted at sample scope and at
  dataset scope, and value-lifted at sample scope (12 digits, 1 draw: the
  counterpart of NeuraLogic's compression);
* build seconds — NeuraLogic: template build and dataset build (grounding and
  neuralization; a warm-up build first, so the JVM start is not counted);
  liftnn: parsing, grounding + neuralization, lifting;
* seconds per training epoch — NeuraLogic's own loop (``model.train(built,
  epochs=1)``, Adam, MSE), per sample (``batch_size=1``, its default) and in
  mini-batches of the whole set, after two warm-up epochs, median of the timed
  epochs; liftnn's :func:`liftnn.train.fit` with Adam, MSE, float64 (NeuraLogic
  computes in doubles) per sample (``batch_size=1``) and full batch
  (``batch_size=0``), lifted and unlifted;
* seconds of one forward pass over the whole set (no gradients);
* a fidelity check: liftnn evaluated with NeuraLogic's initial weights
  reproduces NeuraLogic's uncompressed outputs (max absolute difference).

NeuraLogic's Java side writes a ``target/`` folder into its working directory:
it runs in a scratch directory. Not part of ``liftnn bench`` (it needs Java and
``neuralogic``); ``python benchmarks/neuralogic_compare.py`` runs it.

Quick mode: the first 40 molecules and three timed epochs.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

import liftnn
from liftnn.bench import write_results
from liftnn.engine.timing import timed
from liftnn.logic import build, load_dataset, load_template
from liftnn.train import Problem, TrainConfig, fit

LR = 0.01
WARMUP_EPOCHS = 2
EPOCHS = 10
QUICK_EPOCHS = 3
QUICK_MOLECULES = 40
FORWARD_REPEATS = 5
NEURALOGIC_CONFIGS = (  # (name, iso_value_compression, chain_pruning)
    ("uncompressed", False, False),
    ("value compression", True, False),
    ("defaults (value compression + chain pruning)", True, True),
)


def mutagenesis() -> Path:
    """The Mutagenesis folder inside the installed ``neuralogic`` package."""
    import neuralogic

    return Path(neuralogic.__file__).parent / "utils/data/datasets/molecules/mutagenesis"


def _files(scratch: Path, quick: bool) -> tuple[Path, Path, Path]:
    src = mutagenesis()
    template = src / "templates/template.txt"
    if not quick:
        return template, src / "examples.txt", src / "queries.txt"
    ex, q = scratch / "examples.txt", scratch / "queries.txt"
    ex.write_text("\n".join((src / "examples.txt").read_text().splitlines()[:QUICK_MOLECULES]) + "\n")
    q.write_text("\n".join((src / "queries.txt").read_text().splitlines()[:QUICK_MOLECULES]) + "\n")
    return template, ex, q


# ---------------------------------------------------------------- NeuraLogic


def _neuralogic(template: Path, examples: Path, queries: Path, epochs: int) -> tuple[list[dict], dict]:
    from neuralogic.logging import clear_handlers

    clear_handlers()
    import neuralogic
    from neuralogic.core import Model, Settings
    from neuralogic.dataset import FileDataset
    from neuralogic.nn.optim import Adam

    def make(iso: bool, prune: bool, batch_size: int = 1):
        neuralogic.manual_seed(0)
        t0 = time.perf_counter()
        model = Model(model_file=str(template))
        model.build(Settings(iso_value_compression=iso, chain_pruning=prune, optimizer=Adam(lr=LR)))
        t1 = time.perf_counter()
        built = model.build_dataset(FileDataset(examples_file=str(examples), queries_file=str(queries)),
                                    batch_size=batch_size)
        return model, built, t1 - t0, time.perf_counter() - t1

    make(False, False)  # warm-up: JVM start, class loading
    rows, reference = [], {}
    for name, iso, prune in NEURALOGIC_CONFIGS:
        model, built, template_s, dataset_s = make(iso, prune)
        neurons = int(sum(s._java_sample.query.evidence.getNeuronCount() for s in built))
        if name == "uncompressed":
            state = model.state_dict()
            reference = {
                "outputs": np.stack([np.atleast_1d(np.asarray(o, dtype=np.float64)) for o in model(built)]),
                "weights": {state["weight_names"][i]: np.asarray(v, dtype=np.float64)
                            for i, v in state["weights"].items()},
            }
        forward_s = timed(lambda m=model, b=built: m(b), FORWARD_REPEATS)[1]
        epoch_s = {}
        for regime, batch in (("per sample", 1), ("full batch", len(built))):
            m, b = (model, built) if batch == 1 else make(iso, prune, batch)[:2]
            for _ in range(WARMUP_EPOCHS):
                m.train(b, epochs=1)
            times, losses = [], []
            for _ in range(epochs):
                t0 = time.perf_counter()
                res = m.train(b, epochs=1)
                times.append(time.perf_counter() - t0)
                losses.append(float(np.mean([float(np.sum(r[2])) for r in res])))
            epoch_s[regime] = {"seconds": statistics.median(times), "last_loss": losses[-1]}
        rows.append({"system": "NeuraLogic", "variant": name, "neurons": neurons, "template_build_s": template_s,
                     "dataset_build_s": dataset_s, "forward_s": forward_s, "epoch": epoch_s})
    return rows, reference


# ---------------------------------------------------------------- liftnn


def _liftnn(template: Path, examples: Path, queries: Path, epochs: int, reference: dict) -> tuple[list[dict], dict]:
    t0 = time.perf_counter()
    tpl = load_template(template)
    facts, qs = load_dataset(examples, queries)
    parse_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    net = build(tpl, facts, qs, strict=False)
    build_s = time.perf_counter() - t1
    graph = net.graph
    problem = Problem.from_network(net, "mutagenesis")
    params = problem.init(0, torch.float64, None)

    fidelity = {}
    if reference:
        shapes = graph.shapes
        ref_params = {k: torch.tensor(reference["weights"][k].reshape(shapes[k]), dtype=torch.float64)
                      for k in graph.labels}
        with torch.no_grad():
            ours = liftnn.evaluate(graph, ref_params).numpy()
        fidelity = {"max_abs_output_diff": float(np.abs(ours - reference["outputs"]).max()),
                    "samples": int(ours.shape[0])}

    variants = [("unlifted", graph, 0.0)]
    for label, kwargs in (("exact, sample scope", {"scope": "sample"}),
                          ("exact, dataset scope", {"scope": "dataset"}),
                          ("value (12 digits, 1 draw), sample scope",
                           {"scope": "sample", "method": "value", "digits": 12, "inits": 1})):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lifted, rep = liftnn.compress(graph, **kwargs)
        variants.append((label, lifted, rep.seconds))

    def forward(g):
        with torch.no_grad():
            return liftnn.evaluate(g, params)

    rows = []
    for label, g, lift_s in variants:
        forward(g)  # compile the plan
        rows.append({"system": "liftnn", "variant": label, "neurons": g.num_nodes, "parse_s": parse_s,
                     "build_s": build_s, "lift_s": lift_s,
                     "forward_s": timed(lambda g=g: forward(g), FORWARD_REPEATS)[1], "epoch": {}})
    by = {r["variant"]: r for r in rows}
    train = np.arange(problem.num_samples)
    for regime, batch in (("per sample", 1), ("full batch", 0)):
        for lift, label in ((False, "unlifted"), (True, "exact, dataset scope")):
            cfg = TrainConfig(epochs=epochs, lr=LR, batch_size=batch, lift=lift, dtype="float64", loss="mse", seed=0)
            _, hist = fit(problem, train, cfg)
            by[label]["epoch"][regime] = {"seconds": hist.seconds_per_epoch, "last_loss": hist.epoch_loss[-1],
                                          "graph_neurons": hist.nodes["train"]}
    info = {"neurons": graph.num_nodes, "samples": problem.num_samples, "fidelity": fidelity,
            "network": dict(net.stats)}
    return rows, info


# ---------------------------------------------------------------- report


def _markdown(nl: list[dict], ll: list[dict], info: dict, epochs: int, seconds: float) -> str:
    def s(x: float | None, fmt: str = ".3f") -> str:
        return "–" if x is None else format(x, fmt)

    lines = [
        "## liftnn beside NeuraLogic on Mutagenesis",
        "",
        f"NeuraLogic's shipped Mutagenesis template (3 tanh message-passing layers, {{3,3}} weights) on its "
        f"{info['samples']} molecules. Training: Adam (lr {LR}), MSE; seconds per epoch are the median of "
        f"{epochs} epochs after {WARMUP_EPOCHS} warm-up epochs (NeuraLogic) or the mean of {epochs} epochs after "
        "plan compilation (liftnn, float64, one torch thread). Build: NeuraLogic template + dataset build "
        "(after a warm-up build); liftnn parse + ground/neuralize (+ lifting). "
        f"Total {seconds:.0f} s.",
        "",
        "| system | variant | neurons | build s | lift s | forward s | epoch s (per sample) | epoch s (full batch) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in nl:
        lines.append(
            f"| NeuraLogic | {r['variant']} | {r['neurons']:,} | {r['template_build_s'] + r['dataset_build_s']:.2f} "
            f"| – | {s(r['forward_s'], '.4f')} | {s(r['epoch']['per sample']['seconds'])} | "
            f"{s(r['epoch']['full batch']['seconds'], '.4f')} |")
    for r in ll:
        ep = r["epoch"]
        lines.append(
            f"| liftnn | {r['variant']} | {r['neurons']:,} | {r['parse_s'] + r['build_s']:.2f} | "
            f"{s(r['lift_s'] if r['variant'] != 'unlifted' else None)} | {s(r['forward_s'], '.4f')} | "
            f"{s(ep.get('per sample', {}).get('seconds'))} | {s(ep.get('full batch', {}).get('seconds'), '.4f')} |")
    fid = info["fidelity"]
    if fid:
        lines += ["", f"Fidelity: liftnn with NeuraLogic's initial weights reproduces its uncompressed outputs on all "
                      f"{fid['samples']} molecules, max |difference| {fid['max_abs_output_diff']:.1e}."]
    lines += ["", "liftnn's lifted training graphs are lifted at dataset scope; in the per-sample regime each "
                  "step runs on the restriction of the lifted whole to one molecule (as many neurons as sample-scope "
                  "lifting). NeuraLogic's full-batch row uses its mini-batch setting with one batch of the whole set."]
    return "\n".join(lines)


def run(out: Path, quick: bool = False) -> dict:
    """Run the comparison; write ``neuralogic_compare.md`` and ``.json`` under ``out``."""
    torch.set_num_threads(1)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    epochs = QUICK_EPOCHS if quick else EPOCHS
    t0 = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="liftnn-neuralogic-"))
    template, examples, queries = _files(scratch, quick)
    here = os.getcwd()
    os.chdir(scratch)  # the Java side writes target/ into its working directory
    try:
        try:
            nl, reference = _neuralogic(template, examples, queries, epochs)
        finally:
            os.chdir(here)
        ll, info = _liftnn(template, examples, queries, epochs, reference)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.perf_counter() - t0
    text = _markdown(nl, ll, info, epochs, seconds)
    import neuralogic

    payload = {"quick": quick, "epochs": epochs, "warmup_epochs": WARMUP_EPOCHS, "lr": LR,
               "neuralogic_version": getattr(neuralogic, "__version__", None), "template": str(template),
               "seconds": seconds, "neuralogic": nl, "liftnn": ll, "info": info}
    write_results(out, "neuralogic_compare", text, payload)
    return {**payload, "text": text}
