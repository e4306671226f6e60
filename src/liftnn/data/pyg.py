"""PyTorch Geometric ``Data`` objects in (``pip install 'liftnn[pyg]'``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .graphs import GraphSet


def from_pyg(graphs: Sequence, name: str = "pyg") -> GraphSet:
    """Graphs with one-hot (or integer) node features ``x``, ``edge_index``, optional
    one-hot ``edge_attr`` and a scalar ``y``; types are the argmax of the features."""
    if len(graphs) == 0:
        raise ValueError(f"{name}: the dataset is empty")
    ntype, graph, src, dst, etype, ys = [], [], [], [], [], []
    offset = 0
    for g, data in enumerate(graphs):
        x = data.x.detach().cpu().numpy()
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name}: graph {g}: node features x hold NaN or infinite values")
        if x.ndim != 2:
            x = x.reshape(-1, 1)
        types = x.argmax(1) if x.shape[1] > 1 else x[:, 0].astype(np.int64)
        if x.shape[1] == 1 and (np.any(x[:, 0] < 0) or np.any(x[:, 0] != types)):
            raise ValueError(f"{name}: graph {g}: a one-column x must hold non-negative integer node types")
        ntype.append(types)
        graph.append(np.full(len(types), g))
        ei = data.edge_index.detach().cpu().numpy()
        src.append(ei[0] + offset)
        dst.append(ei[1] + offset)
        ea = getattr(data, "edge_attr", None)
        etype.append(np.zeros(ei.shape[1], np.int64) if ea is None else ea.detach().cpu().numpy().reshape(
            ei.shape[1], -1).argmax(1))
        if ea is not None and not np.all(np.isfinite(ea.detach().cpu().numpy())):
            raise ValueError(f"{name}: graph {g}: edge_attr holds NaN or infinite values")
        y = data.y.detach().cpu().numpy().reshape(-1)
        if y.size != 1:
            raise ValueError(f"{name}: graph {g} has {y.size} labels; one per graph expected")
        ys.append(float(y[0]))
        offset += len(types)
    nt = np.concatenate(ntype).astype(np.int64)
    et = np.concatenate(etype).astype(np.int64)
    return GraphSet(nt, np.concatenate(graph).astype(np.int64),
                    np.stack([np.concatenate(src), np.concatenate(dst)]).astype(np.int64), et,
                    np.asarray(ys, np.float64), tuple(f"t{i}" for i in range(int(nt.max()) + 1)),
                    tuple(f"e{i}" for i in range(int(et.max(initial=0)) + 1)), name)
