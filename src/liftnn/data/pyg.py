"""PyTorch Geometric graphs in: a ``Dataset`` or a list of ``Data`` becomes a :class:`GraphSet`.

What each field becomes (decided over the whole dataset, so every graph agrees):

* ``x``: rows that are one-hot (one 1, the rest 0) or a single integer column are
  node *types* (``t0``, ``t1``, ... — a zoo model embeds each); any other values are
  kept as real-valued ``node_features`` (valued leaves; equal rows still lift
  together), with all nodes of one type ``node``. No ``x``: one type ``node``.
* ``edge_attr``: likewise edge types (``e0``, ...) or real-valued ``edge_features``.
* ``y``: one number per graph (a class index, or 0/1), or one row ``[1, T]`` per graph
  for ``T`` tasks (PyG's layout for multi-task graph targets; the dataset's ``y`` is then
  ``[num_graphs, T]``). In a multi-task ``y`` NaN means "not measured": such entries are
  masked out of the loss and the metrics. A single label must be finite.

NaN or infinite features, infinite labels, and arrays whose sizes disagree (``x`` rows against
``num_nodes``, ``edge_attr`` rows against edges, edges naming absent nodes), are
errors naming the graph and the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .graphs import GraphSet


def _numpy(value: object) -> np.ndarray | None:
    if value is None:
        return None
    value = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
    return value.astype(np.float64) if value.dtype.kind in "fiub" else value


def _types_or_features(rows: np.ndarray | None, count: int, prefix: str) -> tuple[np.ndarray, tuple, np.ndarray | None]:
    """(type ids, type names, real-valued features or None) for stacked ``x`` or ``edge_attr`` rows."""
    if rows is None:
        return np.zeros(count, np.int64), ("node" if prefix == "t" else "edge",), None
    one_hot = rows.shape[1] > 1 and np.all((rows == 0) | (rows == 1)) and np.all(rows.sum(1) == 1)
    integer_column = rows.shape[1] == 1 and np.all(rows >= 0) and np.all(rows == np.round(rows))
    if one_hot or integer_column:
        ids = rows.argmax(1) if one_hot else rows[:, 0].astype(np.int64)
        width = rows.shape[1] if one_hot else int(ids.max(initial=0)) + 1
        return ids.astype(np.int64), tuple(f"{prefix}{i}" for i in range(width)), None
    return np.zeros(count, np.int64), ("node" if prefix == "t" else "edge",), rows


def from_pyg(graphs: Iterable, name: str = "pyg") -> GraphSet:
    """The graphs of a PyG dataset (or any iterable of ``Data``) as one :class:`GraphSet`."""
    xs, edges, attrs, ys, graph_of = [], [], [], [], []
    offset = 0
    for g, data in enumerate(graphs):
        where = f"{name}: graph {g}"
        x, ea, y = _numpy(getattr(data, "x", None)), _numpy(getattr(data, "edge_attr", None)), _numpy(data.y)
        n = int(data.num_nodes) if getattr(data, "num_nodes", None) is not None else (0 if x is None else len(x))
        ei = _numpy(data.edge_index)
        if ei is None or ei.ndim != 2 or ei.shape[0] != 2:
            raise ValueError(f"{where}: edge_index must have shape (2, num_edges), got "
                             f"{None if ei is None else ei.shape}")
        m = ei.shape[1]
        if m and (ei.min() < 0 or ei.max() >= n):
            raise ValueError(f"{where}: edge_index refers to node {int(ei.max())} but the graph has {n} nodes")
        for field, arr, rows in (("x", x, n), ("edge_attr", ea, m)):
            if arr is None:
                continue
            if arr.shape[0] != rows:
                raise ValueError(f"{where}: {field} has {arr.shape[0]} rows for {rows} "
                                 f"{'nodes' if field == 'x' else 'edges'}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{where}: {field} holds NaN or infinite values")
        row = _label(y, where)
        if ys and row.size != ys[0].size:
            raise ValueError(f"{where}: y has {row.size} task(s) but graph 0 has {ys[0].size}")
        xs.append(None if x is None else x.reshape(n, -1))
        attrs.append(None if ea is None else ea.reshape(m, -1))
        edges.append(ei.astype(np.int64) + offset)
        graph_of.append(np.full(n, g, np.int64))
        ys.append(row)
        offset += n
    if not ys:
        raise ValueError(f"{name}: the dataset is empty")
    x_all = _stack(xs, "x", name)
    ea_all = _stack(attrs, "edge_attr", name)
    edge_index = np.concatenate(edges, axis=1)
    node_type, node_types, node_features = _types_or_features(x_all, offset, "t")
    edge_type, edge_types, edge_features = _types_or_features(ea_all, edge_index.shape[1], "e")
    y_all = np.stack(ys) if ys[0].size > 1 else np.concatenate(ys)
    return GraphSet(node_type, np.concatenate(graph_of), edge_index, edge_type, y_all,
                    node_types, edge_types, name, node_features, edge_features)


def _label(y: np.ndarray | None, where: str) -> np.ndarray:
    """A graph's ``y`` as ``float64[1]`` (one label, finite) or ``float64[T]`` (a ``[1, T]`` multi-task row:
    NaN = not measured; infinities are errors)."""
    if y is None or not (y.size == 1 or (y.ndim == 2 and y.shape[0] == 1)):
        raise ValueError(f"{where}: y must hold one label per graph, or one row [1, T] for T tasks, got "
                         f"{'none' if y is None else f'shape {tuple(y.shape)}'}")
    row = y.reshape(-1).astype(np.float64)
    if row.size == 1 and not np.isfinite(row[0]):
        raise ValueError(f"{where}: y is NaN or infinite (only a multi-task row [1, T] may mark an unmeasured "
                         "task with NaN)")
    if np.isinf(row).any():
        raise ValueError(f"{where}: y holds an infinite value (task {int(np.flatnonzero(np.isinf(row))[0])})")
    return row


def _stack(parts: list[np.ndarray | None], field: str, name: str) -> np.ndarray | None:
    """The per-graph arrays one under the other (all graphs must have the field, with one width)."""
    present = [p is not None for p in parts]
    if not any(present):
        return None
    if not all(present):
        raise ValueError(f"{name}: graph {present.index(False)} has no {field} but graph {present.index(True)} has")
    widths = {p.shape[1] for p in parts}
    if len(widths) > 1:
        raise ValueError(f"{name}: {field} widths differ between graphs: {sorted(widths)}")
    return np.concatenate(parts)


def read_pyg_file(path: str | Path) -> GraphSet:
    """A PyG dataset saved to a file: ``torch.save(list_of_data, path)`` (or one ``Data``), or
    ``InMemoryDataset.save(data_list, path)`` (a processed file). Read with
    ``torch.load(weights_only=True)``, allowing only PyG's data classes, so the file runs no code."""
    import pickle

    import torch

    try:
        import torch_geometric  # importing it registers Data & co. as safe to load
        from torch_geometric.data import InMemoryDataset
    except ImportError:
        raise ImportError(f"{path}: reading PyG files needs torch_geometric (pip install 'liftnn[pyg]')") from None
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import EdgeStorage, GlobalStorage, NodeStorage

    path = Path(path)
    try:
        with torch.serialization.safe_globals([DataEdgeAttr, DataTensorAttr, GlobalStorage, NodeStorage, EdgeStorage]):
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ValueError(f"{path}: not a PyG dataset file this reader can open safely ({first}); save the graphs "
                         "with torch.save(list(dataset), path) or InMemoryDataset.save(list(dataset), path)") from None
    if isinstance(obj, tuple) and len(obj) in (2, 3) and isinstance(obj[0], dict):  # InMemoryDataset.save
        ds = InMemoryDataset()
        data_cls = obj[2] if len(obj) == 3 else torch_geometric.data.Data
        ds.data, ds.slices = data_cls.from_dict(obj[0]), obj[1]
        graphs = [ds.get(i) for i in range(ds.len())]
    elif isinstance(obj, list | tuple):
        graphs = list(obj)
    elif hasattr(obj, "edge_index"):
        graphs = [obj]
    else:
        raise ValueError(f"{path}: holds a {type(obj).__name__}; expected a list of torch_geometric Data")
    return from_pyg(graphs, name=path.stem)
