"""One fidelity comparison: liftnn and the reference on the same files and the same weights."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from reference_neuralogic import run_reference

import liftnn
from liftnn.logic import build, load_dataset, load_template, neuron_count


@dataclass
class Comparison:
    name: str
    ours: int
    theirs: int
    d_output: float
    d_grad: float  # nan: no gradient compared
    grad_scale: float = 0.0  # the largest reference gradient entry (a check on a flat loss proves little)


def compare(name: str, template: Path, examples: Path, queries: Path | None, grad_samples: int = 3) -> Comparison:
    """Outputs on the reference's own weights (float64), neuron counts, and the gradients of the
    squared error of the first ``grad_samples`` samples w.r.t. every learnable weight."""
    ref = run_reference(template, examples, queries, grad_samples=grad_samples)
    net = build(load_template(template), *load_dataset(examples, queries), strict=False)
    shapes = net.graph.shapes
    own = net.weights.init_params(dtype=torch.float64)
    params = {}
    for k in net.graph.labels:
        value = ref.weights.get(k)
        if value is None:  # fixed values, which the reference does not list as weights
            assert net.weights.weights[k].fixed, f"{name}: the reference has no weight {k}"
            params[k] = own[k].detach()
        else:
            params[k] = torch.tensor(np.asarray(value).reshape(shapes[k]), dtype=torch.float64, requires_grad=True)
    ours = liftnn.evaluate(net.graph, params)
    d_out = float(np.abs(ours.detach().numpy() - ref.outputs.reshape(ours.shape)).max())
    for scope in ("sample", "dataset"):
        lifted, _ = liftnn.compress(net.graph, scope=scope)
        assert np.allclose(liftnn.evaluate(lifted, params).detach().numpy(), ours.detach().numpy(),
                           rtol=1e-12, atol=1e-12)
    d_grad = float("nan")
    for s, grads in enumerate(ref.grads):
        target = torch.tensor(ref.targets[s], dtype=torch.float64)
        loss = ((ours[s] - target) ** 2).sum()
        learn = [k for k in grads if k in params and params[k].requires_grad]
        got = torch.autograd.grad(loss, [params[k] for k in learn], retain_graph=True, allow_unused=True)
        for k, gk in zip(learn, got, strict=True):
            gk = np.zeros(shapes[k]) if gk is None else gk.numpy()
            diff = float(np.abs(gk - np.asarray(grads[k]).reshape(gk.shape)).max())
            d_grad = diff if np.isnan(d_grad) else max(d_grad, diff)
    scale = max((float(np.abs(np.asarray(v)).max()) for g in ref.grads for v in g.values()), default=0.0)
    return Comparison(name, neuron_count(net), ref.neurons, d_out, d_grad, scale)
