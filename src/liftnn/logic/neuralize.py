"""Neuralization: a grounding becomes a computation :class:`~liftnn.Graph`.

The reference semantics (NeuraLogic's), for a rule ``W_h h :- W_1 b_1, ..., W_n b_n, o``:

* a *fact neuron* (leaf) per ground fact used: its value, default 1.0; a template
  fact is **one** neuron shared by every example: ``W_v · 1`` for a weighted one
  (``[v] e(x).``: a learnable value), the leaf 1.0 for an unweighted one;
* a *rule neuron* per grounding: ``act_rule(comb_i(W_i · b_i) + o)`` (unweighted
  literals have ``W = 1``; soft-negated ``~b`` enter as ``1 - b``);
* an *aggregation neuron* per (rule, ground head): ``agg`` over the rule's groundings
  with that head (no activation);
* an *atom neuron* per derived ground atom: ``act_atom(Σ_rules W_h · agg + offset_pred)``
  (``pred/n [combination=product]``: a product over the rules instead of the sum);
* hidden literals (``*p``) and hard-negated ones feed no neuron;
* a query's output is its atom's neuron; a query nothing derives is an error, or with
  ``allow_underivable`` outputs ``0`` (a placeholder leaf, not counted as a neuron).

The constant leaf 1.0 under weighted template facts and the 0 placeholder are
*helpers*: :func:`~liftnn.logic.checks.neuron_count` leaves them out, so that the count
is the reference's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..graph import Graph, GraphBuilder
from . import functions as _functions  # noqa: F401  (registers signum and count)
from .facts import Signature
from .ground import Grounding
from .relations import lookup, unique_rows
from .template import (
    DEFAULT_AGGREGATION,
    DEFAULT_ATOM_ACTIVATION,
    DEFAULT_COMBINATION,
    DEFAULT_RULE_ACTIVATION,
    Weight,
)
from .weights import WeightTable, number_weights


class UnderivableQueryError(ValueError):
    """A query that no rule derives and no fact states, naming the query's file:line."""


@dataclass
class Network:
    """A neuralized dataset: the graph, its weights and the query targets (``[O]``);
    ``origin[i]`` indexes :attr:`sources`, the file:line that made node ``i``; ``helpers``
    are the nodes that are not neurons of the reference (see the module docstring);
    ``query_sources[q]`` is the file:line of query ``q`` (output ``q``)."""

    graph: Graph
    weights: WeightTable
    targets: np.ndarray
    stats: dict[str, int]
    products: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # combination=product nodes
    origin: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    sources: list[str] = field(default_factory=list)
    helpers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    query_sources: list[str] = field(default_factory=list)

    def where(self, node: int) -> str:
        """The file:line that made ``node``."""
        return self.sources[int(self.origin[node])] if 0 <= node < self.origin.size else self.sources[0]


class _Origins:
    """Which file:line made each node, recorded as node-id ranges while building."""

    def __init__(self, default: str) -> None:
        self.sources = [default]
        self.index = {default: 0}
        self.marks: list[tuple[int, int]] = [(0, 0)]

    def at(self, b: GraphBuilder, where: str) -> None:
        """Nodes created from now on come from ``where``."""
        self.marks.append((b.num_nodes, self.index.setdefault(where, len(self.sources))))
        if self.marks[-1][1] == len(self.sources):
            self.sources.append(where)

    def array(self, n: int) -> np.ndarray:
        starts = np.array([m[0] for m in self.marks] + [n], dtype=np.int64)
        return np.repeat(np.array([m[1] for m in self.marks], dtype=np.int64), np.diff(starts))


def neuralize(grounding: Grounding, allow_underivable: bool = False) -> Network:
    """Build the computation graph of a grounding (see the module docstring)."""
    tpl, facts = grounding.template, grounding.facts
    weights = number_weights(tpl)
    b = GraphBuilder()
    origins = _Origins(tpl.source)
    helpers: list[int] = []
    products: list[np.ndarray] = []  # nodes with combination=product

    # atom neurons: one per distinct head atom of the relevant groundings
    heads: dict[Signature, np.ndarray] = {}
    for rg in grounding.rules:
        if rg.head_rows.shape[0]:
            sig = rg.rule.head.signature
            heads[sig] = unique_rows(np.concatenate([heads[sig], rg.head_rows]) if sig in heads else rg.head_rows)
    bias_labels: set[str] = set()
    atom_ids: dict[Signature, np.ndarray] = {}
    first_rule = {}
    for r in tpl.rules:
        first_rule.setdefault(r.head.signature, r.source)
    for sig, rows in heads.items():
        ps = tpl.predicate(sig)
        bias = weights.label(ps.offset)
        if bias:
            bias_labels.add(bias)
        origins.at(b, first_rule[sig])
        atom_ids[sig] = b.nodes(rows.shape[0], combine=_combine(ps.combination),
                                act=ps.activation or DEFAULT_ATOM_ACTIVATION, bias=bias)
        if ps.combination == "product":
            products.append(atom_ids[sig])

    fact_cache: dict[Signature, tuple[np.ndarray, np.ndarray]] = {}  # rows -> node ids of used facts

    def node_of(sig: Signature, rows: np.ndarray, where: str) -> np.ndarray:
        """Node ids of ground atoms: their atom neuron if derived, else their fact neuron."""
        ids = np.full(rows.shape[0], -1, dtype=np.int64)
        if sig in heads:
            pos = lookup(heads[sig], rows)
            ids[pos >= 0] = atom_ids[sig][pos[pos >= 0]]
        missing = ids < 0
        if missing.any():
            ids[missing] = _fact_nodes(sig, rows[missing], where)
        return ids

    def _fact_nodes(sig: Signature, rows: np.ndarray, where: str) -> np.ndarray:
        uniq = unique_rows(rows)
        known_rows, known_ids = fact_cache.get(sig, (np.zeros((0, rows.shape[1]), np.int64), np.zeros(0, np.int64)))
        new = uniq[lookup(known_rows, uniq) < 0] if known_rows.shape[0] else uniq
        if new.shape[0]:
            new_ids = _make_facts(sig, new, where)
            known_rows = np.concatenate([known_rows, new])
            known_ids = np.concatenate([known_ids, new_ids])
            fact_cache[sig] = (known_rows, known_ids)
        return known_ids[lookup(known_rows, rows)]

    shared: dict[int, int] = {}  # template fact index -> its one node
    unit: list[int] = []  # the constant leaf 1.0 under weighted template facts

    def _template_fact(k: int) -> int:
        if k not in shared:
            lit, fwhere = tpl.facts[k]
            origins.at(b, fwhere)
            if lit.weight is None:
                shared[k] = b.input(1.0)
            else:
                if not unit:
                    unit.append(b.input(1.0))
                    helpers.append(unit[0])
                shared[k] = int(b.nodes(1)[0])
                b.connect(np.array(unit), np.array([shared[k]]), weights.label(lit.weight, fwhere))
        return shared[k]

    def _make_facts(sig: Signature, rows: np.ndarray, where: str) -> np.ndarray:
        out = np.full(rows.shape[0], -1, dtype=np.int64)
        if sig in facts.tables:
            pos = lookup(facts.tables[sig], rows)
            ok = pos >= 0
            vids = facts.value_ids[sig][pos[ok]]
            origins.at(b, where)
            out[ok] = b.inputs([facts.value(v) for v in vids.tolist()])
        if sig in grounding.template_facts and (out < 0).any():
            for k, (lit, _) in enumerate(tpl.facts):
                if lit.signature != sig:
                    continue
                consts = np.array([facts.symbols.id(t) for t in lit.terms], dtype=np.int64)
                hit = (out < 0) & np.all(rows[:, 1:] == consts, axis=1)
                if hit.any():
                    out[hit] = _template_fact(k)
        if (out < 0).any():
            raise ValueError(f"{where}: internal error: atom of {sig[0]}/{sig[1]} is neither derived nor a fact")
        return out

    negations: dict[int, int] = {}
    for rg in grounding.rules:
        g = rg.subst.shape[0]
        if not g:
            continue
        rule = rg.rule
        offset = weights.label(rule.offset, rule.source)
        origins.at(b, rule.source)
        rule_nodes = b.nodes(g, combine=_combine(rule.combination),
                             act=rule.activation or DEFAULT_RULE_ACTIVATION, bias=offset)
        if rule.combination == "product":
            products.append(rule_nodes)
        for lit, rows in zip(rule.body, rg.body_rows, strict=True):
            if rows is None:  # hard-negated or hidden: a condition, not an input
                continue
            child = node_of(lit.signature, rows, rule.source)
            if lit.negation == "soft":
                origins.at(b, rule.source)
                child = _negate(b, negations, child)
            b.connect(child, rule_nodes, weights.label(lit.weight, rule.source))
        # aggregation neuron per distinct head atom of this rule
        head_pos = lookup(heads[rule.head.signature], rg.head_rows)
        uniq, agg_of = np.unique(head_pos, return_inverse=True)
        origins.at(b, rule.source)
        agg = b.nodes(uniq.size, combine=rule.aggregation or DEFAULT_AGGREGATION)
        b.connect(rule_nodes, agg[agg_of])
        b.connect(agg, atom_ids[rule.head.signature][uniq], weights.label(rule.head.weight, rule.source))

    outputs = np.full(len(grounding.queries), -1, dtype=np.int64)
    zero: np.ndarray | None = None
    by_sig: dict[Signature, list[int]] = {}
    for q, sig in enumerate(grounding.queries.signatures):
        by_sig.setdefault(sig, []).append(q)
    for sig, qs in by_sig.items():
        rows = np.stack([grounding.queries.rows[q] for q in qs])
        ids = np.full(len(qs), -1, dtype=np.int64)
        if sig in heads:
            pos = lookup(heads[sig], rows)
            ids[pos >= 0] = atom_ids[sig][pos[pos >= 0]]
        if sig in facts.tables:
            rest = ids < 0
            if rest.any():
                in_facts = lookup(facts.tables[sig], rows[rest]) >= 0
                sub = np.flatnonzero(rest)[in_facts]
                if sub.size:
                    ids[sub] = node_of(sig, rows[sub], grounding.queries.where[qs[0]])
        if (ids < 0).any():
            bad = qs[int(np.flatnonzero(ids < 0)[0])]
            if not allow_underivable:
                raise UnderivableQueryError(_underivable(grounding, bad))
            if zero is None:
                zero = b.inputs(np.zeros(1))
                helpers.append(int(zero[0]))
            ids[ids < 0] = zero[0]
        outputs[qs] = ids

    for label, shape in _shapes(weights, bias_labels | _rule_offsets(grounding, weights)).items():
        b.weight(label, shape)
    b.outputs(outputs, np.arange(outputs.size))
    origin = origins.array(b.num_nodes)
    try:
        graph = b.build(num_samples=len(grounding.queries))
    except ValueError as err:
        nodes = getattr(err, "nodes", None)
        if not nodes:
            raise
        lines = sorted({origins.sources[int(origin[n])] for n in nodes})
        raise ValueError(f"{lines[0]}: the ground network is cyclic: an atom depends on itself through the "
                         f"rules at {', '.join(lines)}") from None
    stats = {**grounding.facts.stats(), **grounding.stats(), "neurons": graph.num_nodes - len(helpers)}
    product_nodes = np.concatenate(products) if products else np.zeros(0, np.int64)
    return Network(graph, weights, grounding.queries.target, stats, product_nodes, origin, origins.sources,
                   np.array(sorted(helpers), dtype=np.int64), list(grounding.queries.where))


def _combine(combination: str | None) -> str:
    """The graph combine of a ``combination``: NeuraLogic's ``product`` is computed element-wise,
    which it equals while at most one input is a vector (checked after the build)."""
    return "prod" if combination == "product" else combination or DEFAULT_COMBINATION


def _underivable(grounding: Grounding, q: int) -> str:
    """The message for a query nothing derives: which, and why that is likely."""
    qs, tpl = grounding.queries, grounding.template
    sig = qs.signatures[q]
    atom = f"{sig[0]}({', '.join(grounding.facts.symbols.names[i] for i in qs.rows[q][1:])})" if sig[1] else sig[0]
    if not tpl.rules and not tpl.facts:
        why = f"the template {tpl.source} has no rules"
    elif not any(r.head.signature == sig for r in tpl.rules):
        why = f"no rule of {tpl.source} has the head {sig[0]}/{sig[1]}"
    else:
        why = f"the rules for {sig[0]}/{sig[1]} in {tpl.source} ground nothing for it in this example"
    return (f"{qs.where[q]}: query {atom} cannot be derived: {why} (allow_underivable=True, or "
            "--allow-underivable, makes such queries output 0)")


def _negate(b: GraphBuilder, cache: dict[int, int], child: np.ndarray) -> np.ndarray:
    """Soft negation ``1 - x``: one neuron per negated atom."""
    uniq, inv = np.unique(child, return_inverse=True)
    fresh = np.array([u for u in uniq.tolist() if u not in cache], dtype=np.int64)
    if fresh.size:
        neg = b.nodes(fresh.size, act="reverse")
        b.connect(fresh, neg)
        cache.update(zip(fresh.tolist(), neg.tolist(), strict=True))
    return np.array([cache[u] for u in uniq.tolist()], dtype=np.int64)[inv]


def _rule_offsets(grounding: Grounding, weights: WeightTable) -> set[str]:
    return {weights.label(rg.rule.offset) for rg in grounding.rules if rg.rule.offset is not None}


def _shapes(weights: WeightTable, bias_labels: set[str]) -> dict[str, tuple[int, ...]]:
    """Weight shapes for the engine; biases written as columns ``{n,1}`` become vectors ``(n,)``."""
    out = {}
    for label, w in weights.weights.items():
        shape = w.shape
        if label in bias_labels and len(shape) == 2:
            if shape[1] != 1:
                raise ValueError(f"offset {label} has shape {shape}; an offset must be a scalar or a vector")
            shape = (shape[0],)
            weights.weights[label] = Weight(shape, w.init, w.fixed, w.name)
        out[label] = shape
    return out
