"""The model zoo as relational templates (the paper's experimental models).

Molecule models read the fact encoding of :func:`liftnn.data.graph_facts`:
a type fact per atom (``car(a)``), ``bond(a, b, e)`` per directed bond ``e`` and a
type fact per bond (``b_ar(e)``); the output is ``predict`` per molecule. With
``dim = d`` every embedding is a ``d``-vector and every weight ``d×d``; atom
types enter through one ``{d,1}`` embedding weight per type.

=========  ===========================================================================
gcn        ``h_l(X) = avg_{Y ~ X} act(W_l h_{l-1}(Y))``                       (2 layers)
gcn_bonds  ``h_l(X) = avg_{Y ~_e X} act(W_l h_{l-1}(Y) + U_l bond(e))``        (2 layers)
sage       ``h_l(X) = act(S_l h_{l-1}(X) + A_l avg_{Y ~ X} h_{l-1}(Y))``      (2 layers)
gin        ``h_l(X) = relu(W2_l relu(W1_l (h_{l-1}(X) + Σ_{Y ~ X} h_{l-1}(Y))))`` (5 layers)
gine       ``a_l(X) = h_{l-1}(X) + Σ_{Y ~_e X} relu(M_l h_{l-1}(Y) + U_l bond(e))``,
           ``h_l(X) = relu(W2_l relu(W1_l a_l(X) + b1_l) + b2_l)`` (3 layers; the default
           preset's model, readout ``sigmoid(W · avg_X h_L(X) + b)``)
graphlets  ``h_l(X) = avg over 3-node paths X-Y-Z of act(A h(X) + B h(Y) + C h(Z))``
kbe        knowledge bases: a relational GCN over entity embeddings and an MLP scoring
           each queried triple ``predict(S, R, O)``
=========  ===========================================================================

Readout (molecules): ``predict = sigmoid(W · avg_X h_L(X))``; with ``outputs = T`` (multi-task
targets) ``W`` is ``T×d`` and ``predict`` a ``T``-vector, one probability per task.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..logic.dsl import DslTemplate, R, V, settings

MODELS = ("gcn", "gcn_bonds", "sage", "gin", "gine", "graphlets")
DEFAULT_LAYERS = {"gcn": 2, "gcn_bonds": 2, "sage": 2, "gin": 5, "gine": 3, "graphlets": 2}


def _embed(t: DslTemplate, node_types: Sequence[str], dim: int, name: str = "h0") -> None:
    for typ in node_types:
        t += getattr(R, name)(V.X)[dim, 1] <= getattr(R, typ)(V.X)


def _readout(t: DslTemplate, last: str, dim: int, bias: bool = False, outputs: int = 1) -> None:
    t += (R.predict[outputs, dim] <= getattr(R, last)(V.X)) | settings(aggregation="avg")
    t += R.predict / 0 | (settings(activation="sigmoid", offset=(outputs,)) if bias else
                          settings(activation="sigmoid"))


def molecule_template(model: str, node_types: Sequence[str], edge_types: Sequence[str] = (),
                      layers: int | None = None, dim: int = 10, activation: str = "sigmoid",
                      outputs: int = 1) -> DslTemplate:
    """A zoo model over the molecule fact encoding (see the module docstring); ``outputs``: the width of
    ``predict`` (one column per task)."""
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; the zoo has {list(MODELS)} (and kbe for knowledge bases)")
    layers = DEFAULT_LAYERS[model] if layers is None else layers
    if layers < 1:
        raise ValueError(f"layers must be >= 1, got {layers}")
    t = DslTemplate()
    _embed(t, node_types, dim)
    if model in ("gcn_bonds", "gine"):
        for typ in edge_types:
            t += R.bond_embed(V.B)[dim, 1] <= getattr(R, typ)(V.B)
    for lv in range(1, layers + 1):
        h, prev = getattr(R, f"h{lv}"), getattr(R, f"h{lv - 1}")
        if model == "gcn":
            t += (h(V.X) <= (prev(V.Y)[dim, dim], R.bond(V.X, V.Y, V.B))) | settings(activation=activation)
        elif model == "gcn_bonds":
            t += (h(V.X) <= (prev(V.Y)[dim, dim], R.bond(V.X, V.Y, V.B), R.bond_embed(V.B)[dim, dim])) | settings(
                activation=activation)
        elif model == "sage":
            t += h(V.X) <= prev(V.X)[dim, dim]
            t += (h(V.X) <= (prev(V.Y)[dim, dim], R.bond(V.X, V.Y, V.B))) | settings(aggregation="avg")
            t += getattr(R, f"h{lv}") / 1 | settings(activation=activation)
        elif model == "gin":
            agg, mlp = getattr(R, f"agg{lv}"), getattr(R, f"mlp{lv}")
            t += agg(V.X) <= prev(V.X)
            t += (agg(V.X) <= (prev(V.Y), R.bond(V.X, V.Y, V.B))) | settings(aggregation="sum")
            t += (mlp(V.X) <= agg(V.X)[dim, dim]) | settings(activation="relu")
            t += (h(V.X) <= mlp(V.X)[dim, dim]) | settings(activation="relu")
        elif model == "gine":
            agg, mlp = getattr(R, f"agg{lv}"), getattr(R, f"mlp{lv}")
            t += agg(V.X) <= prev(V.X)
            t += (agg(V.X) <= (prev(V.Y)[dim, dim], R.bond(V.X, V.Y, V.B), R.bond_embed(V.B)[dim, dim])) | settings(
                aggregation="sum", activation=activation)
            t += (mlp(V.X) <= agg(V.X)[dim, dim]) | settings(activation=activation, offset=(dim,))
            t += (h(V.X) <= mlp(V.X)[dim, dim]) | settings(activation=activation, offset=(dim,))
        else:  # graphlets
            t += (h(V.X) <= (prev(V.X)[dim, dim], prev(V.Y)[dim, dim], prev(V.Z)[dim, dim],
                             R.bond(V.X, V.Y, V.B1), R.bond(V.Y, V.Z, V.B2))) | settings(activation=activation)
    _readout(t, f"h{layers}", dim, bias=model == "gine", outputs=outputs)
    return t


def kbe_template(entities: Sequence[str], relations: Sequence[str], dim: int = 3, layers: int = 1,
                 activation: str = "sigmoid") -> DslTemplate:
    """Knowledge-base embedder over facts ``r(R, S, O)``: learnable entity and relation
    embeddings (template facts), ``layers`` relational-GCN layers, and an MLP scoring
    each query ``predict(S, R, O)``."""
    t = DslTemplate()
    for e in entities:
        t += R.ent_emb(e)[dim]
    for r in relations:
        t += R.rel_emb(r)[dim]
    t += R.h0(V.X) <= R.ent_emb(V.X)
    for lv in range(1, layers + 1):
        h, prev = getattr(R, f"h{lv}"), getattr(R, f"h{lv - 1}")
        t += h(V.X) <= prev(V.X)[dim, dim]
        t += (h(V.X) <= (prev(V.Y)[dim, dim], R.r(V.R, V.X, V.Y), R.rel_emb(V.R)[dim, dim])) | settings(
            activation=activation)
        t += getattr(R, f"h{lv}") / 1 | settings(activation=activation)
    last = getattr(R, f"h{layers}")
    t += (R.score(V.S, V.R, V.O) <= (last(V.S)[dim, dim], R.rel_emb(V.R)[dim, dim], last(V.O)[dim, dim])) | settings(
        activation="relu")
    t += R.predict(V.S, V.R, V.O)[1, dim] <= R.score(V.S, V.R, V.O)
    t += R.predict / 3 | settings(activation="sigmoid")
    return t
