"""What a lifting pass did, as a record, a dict and a table."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np


@dataclass(frozen=True)
class Report:
    """Sizes before/after lifting, time, and what was merged.

    ``clashes`` counts merges that exact lifting would not make (value method
    only); ``clash_pairs`` lists them as ``(node, into)`` in the input graph's ids,
    lowest level first. ``node_map[i]`` is the lifted node that computes input node
    ``i``'s value. ``assumed_shapes`` are the weight shapes the value method's draws
    assumed (the lifted graph declares them). Per-sample sizes are means:
    ``nodes / samples`` (for dataset scope an amortised figure, since lifted nodes
    are shared between samples).
    """

    method: str
    scope: str
    digits: int | None
    inits: int | None
    prune: bool
    samples: int
    nodes_before: int
    nodes_after: int
    edges_before: int
    edges_after: int
    seconds: float
    clashes: int = 0
    pruned: int = 0
    hash_collisions: int = 0
    node_map: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), compare=False, repr=False)
    clash_pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64), compare=False, repr=False)
    assumed_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """Node compression ratio ``nodes_before / nodes_after``."""
        return self.nodes_before / max(self.nodes_after, 1)

    @property
    def edge_ratio(self) -> float:
        return self.edges_before / max(self.edges_after, 1)

    @property
    def nodes_per_sample_before(self) -> float:
        return self.nodes_before / max(self.samples, 1)

    @property
    def nodes_per_sample_after(self) -> float:
        return self.nodes_after / max(self.samples, 1)

    @property
    def edges_per_sample_before(self) -> float:
        return self.edges_before / max(self.samples, 1)

    @property
    def edges_per_sample_after(self) -> float:
        return self.edges_after / max(self.samples, 1)

    @property
    def nodes_per_second(self) -> float:
        return self.nodes_before / max(self.seconds, 1e-12)

    def as_dict(self) -> dict[str, object]:
        """The scalar fields and figures (JSON-ready); ``clash_pairs`` as a list of pairs, no ``node_map``."""
        d: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "node_map"}
        d["clash_pairs"] = self.clash_pairs.tolist()
        d["assumed_shapes"] = {k: list(v) for k, v in self.assumed_shapes.items()}
        for name in ("ratio", "edge_ratio", "nodes_per_sample_before", "nodes_per_sample_after",
                     "edges_per_sample_before", "edges_per_sample_after", "nodes_per_second"):
            d[name] = getattr(self, name)
        return d

    def __str__(self) -> str:
        params = f"method={self.method} scope={self.scope} prune={self.prune}"
        if self.method == "value":
            params += f" digits={self.digits} inits={self.inits}"
        rows = [
            ("", "before", "after", "ratio"),
            ("nodes", f"{self.nodes_before:,}", f"{self.nodes_after:,}", f"{self.ratio:.2f}x"),
            ("edges", f"{self.edges_before:,}", f"{self.edges_after:,}", f"{self.edge_ratio:.2f}x"),
            ("nodes/sample", f"{self.nodes_per_sample_before:,.1f}", f"{self.nodes_per_sample_after:,.1f}", ""),
            ("edges/sample", f"{self.edges_per_sample_before:,.1f}", f"{self.edges_per_sample_after:,.1f}", ""),
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [params]
        lines += ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
                  for r in rows]
        lines.append(f"samples={self.samples} pruned={self.pruned} clashes={self.clashes} "
                     f"seconds={self.seconds:.3f} ({self.nodes_per_second:,.0f} nodes/s)")
        return "\n".join(lines)
