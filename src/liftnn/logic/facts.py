"""Examples and queries as integer tables (the grounder's input)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .relations import Symbols, lookup, unique_rows
from .syntax import GroundFact, Query

Signature = tuple[str, int]


@dataclass
class FactBase:
    """Ground facts of all examples.

    ``tables[sig]`` is ``int64[n, 1 + arity]`` (example id, constant ids), rows distinct;
    ``value_ids[sig]`` is ``int64[n]``: index into :attr:`values`, or ``-1`` for the default 1.0.
    """

    symbols: Symbols = field(default_factory=Symbols)
    tables: dict[Signature, np.ndarray] = field(default_factory=dict)
    value_ids: dict[Signature, np.ndarray] = field(default_factory=dict)
    values: list[np.ndarray] = field(default_factory=list)
    num_examples: int = 0

    @staticmethod
    def from_examples(examples: Sequence[Sequence[GroundFact]], symbols: Symbols | None = None) -> FactBase:
        """Intern parsed examples; a repeated fact keeps its first value."""
        fb = FactBase(symbols or Symbols(), num_examples=len(examples))
        rows: dict[Signature, list[list[int]]] = {}
        vids: dict[Signature, list[int]] = {}
        for ex, facts in enumerate(examples):
            for f in facts:
                sig = f.literal.signature
                rows.setdefault(sig, []).append([ex] + [fb.symbols.id(t) for t in f.literal.terms])
                vid = -1
                if f.value is not None and f.value != (1.0,):
                    vid = len(fb.values)
                    fb.values.append(np.asarray(f.value, dtype=np.float64))
                vids.setdefault(sig, []).append(vid)
        for sig, r in rows.items():
            fb.add(sig, np.asarray(r, dtype=np.int64).reshape(-1, 1 + sig[1]), np.asarray(vids[sig], np.int64))
        return fb

    def add(self, sig: Signature, table: np.ndarray, value_ids: np.ndarray | None = None) -> None:
        """Add rows (deduplicated, first occurrence wins) to a relation."""
        if value_ids is None:
            value_ids = np.full(table.shape[0], -1, dtype=np.int64)
        if sig in self.tables:
            table = np.concatenate([self.tables[sig], table])
            value_ids = np.concatenate([self.value_ids[sig], value_ids])
        uniq = unique_rows(table)
        first = _first_index(table, uniq)
        self.tables[sig] = uniq
        self.value_ids[sig] = value_ids[first]

    def value(self, vid: int) -> np.ndarray:
        return np.ones(1) if vid < 0 else self.values[vid]

    def stats(self) -> dict[str, int]:
        return {
            "examples": self.num_examples,
            "facts": int(sum(t.shape[0] for t in self.tables.values())),
            "predicates": len(self.tables),
            "constants": len(self.symbols),
        }


def _first_index(table: np.ndarray, uniq: np.ndarray) -> np.ndarray:
    """For each distinct row, the index of its first occurrence in ``table``."""
    idx = lookup(uniq, table)  # position of every row among the distinct rows
    first = np.full(uniq.shape[0], table.shape[0], dtype=np.int64)
    np.minimum.at(first, idx, np.arange(table.shape[0]))
    return first


@dataclass
class QuerySet:
    """``sig[q]`` predicate of each query, ``rows[q]`` its ground atom (example id first),
    ``target[q]`` its value (NaN when unlabelled); graph sets with multi-task labels give
    ``target[q, k]`` per task (NaN: not measured). Query files hold one number per query."""

    signatures: list[Signature]
    rows: list[np.ndarray]
    target: np.ndarray
    where: list[str]

    @staticmethod
    def from_queries(queries: Sequence[Query], symbols: Symbols, num_examples: int) -> QuerySet:
        """The i-th query entry asks the i-th example, or the only example when there is one
        (a knowledge base); an entry's ``id :-`` name is kept for messages only."""
        sigs, rows, targets, where = [], [], [], []
        for q in queries:
            ex = 0 if num_examples == 1 else q.entry
            if not 0 <= ex < num_examples:
                raise ValueError(f"{q.where}: query entry {ex + 1} has no example (there are {num_examples})")
            if any(not isinstance(t, str) for t in q.literal.terms):
                raise ValueError(f"{q.where}: a query must be ground")
            sigs.append(q.literal.signature)
            rows.append(np.array([ex] + [symbols.id(t) for t in q.literal.terms], dtype=np.int64))
            if q.target is not None and len(q.target) != 1:
                raise ValueError(f"{q.where}: a query target must be a single number")
            targets.append(np.nan if q.target is None else q.target[0])
            where.append(q.where)
        return QuerySet(sigs, rows, np.asarray(targets, dtype=np.float64), where)

    def __len__(self) -> int:
        return len(self.signatures)
