"""Run the reference implementation (PyNeuraLogic, Java) on the same files.

Compression and pruning are switched off so that the reference computes the
plain, uncompressed network; its weights are read back so that liftnn can be
evaluated on exactly the same values.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class ReferenceRun:
    outputs: np.ndarray  # [samples, dim]
    weights: dict[str, np.ndarray]  # our label convention: w<index> or the $name
    neurons: int


def run_reference(template: Path, examples: Path, queries: Path, seed: int = 0) -> ReferenceRun:
    """Outputs, weights and neuron count of the reference on these files. The Java
    side writes a ``target/`` folder into its working directory: a scratch one."""
    here = os.getcwd()
    os.chdir(_SCRATCH)
    try:
        return _run(Path(template).resolve(), Path(examples).resolve(), Path(queries).resolve(), seed)
    finally:
        os.chdir(here)


_SCRATCH = tempfile.mkdtemp(prefix="liftnn-reference-")


def _run(template: Path, examples: Path, queries: Path, seed: int) -> ReferenceRun:
    from neuralogic.logging import clear_handlers

    clear_handlers()
    import neuralogic
    from neuralogic.core import Model, Settings
    from neuralogic.dataset import FileDataset

    neuralogic.manual_seed(seed)
    model = Model(model_file=str(template))
    model.build(Settings(iso_value_compression=False, chain_pruning=False))
    built = model.build_dataset(FileDataset(examples_file=str(examples), queries_file=str(queries)))
    outputs = [np.atleast_1d(np.asarray(o, dtype=np.float64)) for o in model(built)]
    state = model.state_dict()
    weights = {}
    for idx, value in state["weights"].items():
        name = state["weight_names"][idx]
        label = name if name != f"w{idx}" else f"w{idx}"
        weights[label] = np.asarray(value, dtype=np.float64)
    neurons = int(sum(s._java_sample.query.evidence.getNeuronCount() for s in built))
    return ReferenceRun(np.stack(outputs), weights, neurons)
