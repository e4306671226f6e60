"""The molecule schema of a NeuraLogic-format folder, inferred so that zoo models run on it.

Zoo models read ``bond(A, B, E)`` facts, unary atom-type facts on atoms (``c(a1)``),
unary bond-type facts on bond ids (``b_1(e1)``) and one ``predict`` query per molecule.
A folder in NeuraLogic format says the same with its own names: Mutagenesis writes
``bond(d59_23, d59_5, 0), h(d59_23), b_1(0)`` and queries ``1.0 predict.``. The inference:

* the **bond relation** is the binary or ternary predicate whose first two arguments are
  best covered by unary facts (ties: the one named ``bond``, then arity 3);
* **atom types** are the unary predicates that hold only of atoms (constants in the
  relation's first two arguments, per example); **bond types** those that hold only of
  bond ids (its third argument);
* the **query** is the one nullary predicate every query asks.

Anything else is reported as ignored; what cannot be inferred is an error naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..logic.facts import FactBase, QuerySet, Signature

_ZOO_NAME = re.compile(r"(h|agg|mlp)\d+")


class SchemaError(ValueError):
    """The folder's facts do not describe molecules the zoo can read; names what is missing."""


@dataclass
class MoleculeSchema:
    relation: Signature
    atom_types: list[str]
    bond_types: list[str]
    query: Signature
    ignored: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, object]:
        """The schema as shown by ``liftnn info``."""
        return {
            "bond_relation": f"{self.relation[0]}/{self.relation[1]}",
            "atom_types": self.atom_types,
            "bond_types": self.bond_types,
            "query": f"{self.query[0]}/{self.query[1]}",
            "ignored": self.ignored,
        }


def _keys(facts: FactBase, table: np.ndarray, col: int) -> np.ndarray:
    """Per row, the (example, constant) pair in column ``col`` as one integer."""
    return table[:, 0] * max(len(facts.symbols), 1) + table[:, col]


def infer_schema(facts: FactBase, queries: QuerySet, where: str) -> MoleculeSchema:
    """Infer the schema (see the module docstring); ``where`` names the folder in errors."""
    unary = {sig: t for sig, t in facts.tables.items() if sig[1] == 1}
    candidates = [sig for sig in facts.tables if sig[1] in (2, 3)]
    if not candidates:
        raise SchemaError(f"{where}: no bond relation: the zoo needs binary or ternary facts between atoms, "
                          "e.g. bond(A, B, BondId)")
    typed = np.unique(np.concatenate([_keys(facts, t, 1) for t in unary.values()])) if unary else np.zeros(0)

    def coverage(sig: Signature) -> tuple[float, bool, int]:
        t = facts.tables[sig]
        ends = np.concatenate([_keys(facts, t, 1), _keys(facts, t, 2)])
        return float(np.isin(ends, typed).mean()), sig[0] == "bond", sig[1]

    relation = max(sorted(candidates), key=coverage)
    if coverage(relation)[0] == 0:
        raise SchemaError(f"{where}: no atom-type facts: the zoo needs unary facts on the atoms of "
                          f"{relation[0]}/{relation[1]} (e.g. c(a1))")
    table = facts.tables[relation]
    atoms = np.concatenate([_keys(facts, table, 1), _keys(facts, table, 2)])
    bonds = _keys(facts, table, 3) if relation[1] == 3 else np.zeros(0, np.int64)
    atom_types, bond_types, ignored = [], [], []
    for sig in sorted(unary):
        k = _keys(facts, unary[sig], 1)
        if np.isin(k, atoms).all():
            atom_types.append(sig[0])
        elif bonds.size and np.isin(k, bonds).all():
            bond_types.append(sig[0])
        else:
            ignored.append(f"{sig[0]}/1")
    ignored += [f"{s[0]}/{s[1]}" for s in sorted(facts.tables) if s[1] > 1 and s != relation]
    asked = sorted(set(queries.signatures))
    if len(asked) != 1 or asked[0][1] != 0:
        raise SchemaError(f"{where}: the zoo needs one nullary query per molecule (e.g. 1.0 predict.); the queries "
                          f"ask {', '.join(f'{s[0]}/{s[1]}' for s in asked)}")
    clash = [t for t in atom_types + bond_types if t in ("bond", "bond_embed", "predict") or _ZOO_NAME.fullmatch(t)]
    if clash:
        raise SchemaError(f"{where}: type predicate {clash[0]} has a name the zoo uses for its own atoms; rename it")
    return MoleculeSchema(relation, atom_types, bond_types, asked[0], ignored)


def molecule_facts(facts: FactBase, queries: QuerySet, schema: MoleculeSchema) -> tuple[FactBase, QuerySet]:
    """The facts and queries in the zoo's names: the relation as ``bond/3`` (a binary one gets a
    fresh bond id per fact), the query as ``predict``."""
    out = FactBase(facts.symbols, dict(facts.tables), dict(facts.value_ids), facts.values, facts.num_examples)
    table = out.tables.pop(schema.relation)
    values = out.value_ids.pop(schema.relation)
    if schema.relation[1] == 2:
        ids = np.array([facts.symbols.id(f"_bond{k}") for k in range(table.shape[0])], dtype=np.int64)
        table = np.hstack([table, ids[:, None]])
    out.add(("bond", 3), table, values)
    renamed = QuerySet([("predict", 0)] * len(queries), queries.rows, queries.target, queries.where)
    return out, renamed
