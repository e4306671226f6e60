"""Run the reference implementation (PyNeuraLogic 0.9.2, Java) on the same files.

Settings the reference needs for a like-for-like comparison: ``iso_value_compression=False``
and ``chain_pruning=False`` (its own lifting and pruning change the neuron count, and its
pruning changes outputs), SGD with learning rate 1 and no gradient clipping, so that one
training step on one sample reveals the gradient: ``w_old - w_new = ∂E/∂w`` (measured: its
squared error steps as ``E = (y - t)²``). Its weights are read back so that liftnn evaluates exactly the same values.
The JVM starts once per test session and is shared by every case.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class ReferenceRun:
    outputs: np.ndarray  # [samples, dim]
    weights: dict[str, np.ndarray]  # our label convention: w<index> or the $name
    neurons: int
    targets: np.ndarray = field(default_factory=lambda: np.zeros(0))
    grads: list[dict[str, np.ndarray]] = field(default_factory=list)  # per graded sample: label -> ∂E/∂w


_SCRATCH = tempfile.mkdtemp(prefix="liftnn-reference-")


def run_reference(template: Path, examples: Path, queries: Path | None = None, seed: int = 0,
                  grad_samples: int = 0) -> ReferenceRun:
    """Outputs, weights and neuron count of the reference on these files, and the gradients of
    its error on the first ``grad_samples`` samples. The Java side writes a ``target/`` folder
    into its working directory: a scratch one."""
    files = Path(template).resolve(), Path(examples).resolve(), Path(queries).resolve() if queries else None
    here = os.getcwd()
    os.chdir(_java_dir())
    try:
        return _run(*files, seed, grad_samples)
    finally:
        os.chdir(here)


def _java_dir() -> str:
    """Where the reference must run: the running JVM's own working directory (fixed when it started,
    perhaps by another module of the test session; the reference fails anywhere else), else a scratch one."""
    import jpype

    if jpype.isJVMStarted():
        return str(jpype.JClass("java.lang.System").getProperty("user.dir"))
    return _SCRATCH


def _weights(model) -> dict[str, np.ndarray]:
    state = model.state_dict()
    return {state["weight_names"][i]: np.asarray(v, dtype=np.float64) for i, v in state["weights"].items()}


def _run(template: Path, examples: Path, queries: Path | None, seed: int, grad_samples: int) -> ReferenceRun:
    from neuralogic.logging import clear_handlers

    clear_handlers()
    import neuralogic
    from neuralogic.core import Model, Settings
    from neuralogic.dataset import FileDataset
    from neuralogic.nn.optim import SGD

    neuralogic.manual_seed(seed)
    model = Model(model_file=str(template))
    model.build(Settings(iso_value_compression=False, chain_pruning=False, optimizer=SGD(lr=1.0)))
    dataset = FileDataset(examples_file=str(examples), queries_file=str(queries) if queries else None)
    built = model.build_dataset(dataset)
    samples = list(built)
    outputs = [np.atleast_1d(np.asarray(o, dtype=np.float64)) for o in model(built)]
    weights = _weights(model)
    neurons = int(sum(s._java_sample.query.evidence.getNeuronCount() for s in samples))
    targets = np.array([float(s._java_sample.target.value) if hasattr(s._java_sample.target, "value") else np.nan
                        for s in samples])
    grads = []
    state = model.state_dict()
    for s in samples[:grad_samples]:
        model.load_state_dict(state)
        model.train([s])
        after = _weights(model)
        grads.append({k: weights[k] - after[k] for k in weights})
    model.load_state_dict(state)
    return ReferenceRun(np.stack(outputs), weights, neurons, targets, grads)
