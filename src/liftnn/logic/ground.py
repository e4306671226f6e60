"""Grounding: bottom-up Datalog over all examples at once.

Rules are evaluated stratum by stratum (strongly connected components of the
predicate dependency graph, in topological order); recursive strata use
semi-naive iteration: each round joins at least one literal against the atoms
derived in the previous round only. A rule body is a sequence of vectorised
joins over integer tables whose first column is the example id
(:mod:`liftnn.logic.relations`), greedily ordered so that each next literal
shares variables with what is bound. Finally only the groundings that the
queries depend on are kept (a top-down relevance pass).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .builtins import BUILTINS
from .facts import FactBase, QuerySet, Signature
from .relations import join, lookup, semi_join_mask, unique_rows
from .template import Literal, Rule, Template, Var


class GroundingError(ValueError):
    """An unsafe rule, an unknown predicate, or an arity clash, naming the rule's file:line."""


@dataclass
class RuleGrounding:
    """The relevant groundings of one rule: ``subst[g, 1 + nvars]`` (example id, then the
    constants of ``variables``), the head atom rows and, per body literal, the body atom
    rows (``None`` for hard-negated literals, which contribute no input)."""

    rule: Rule
    index: int
    variables: list[Var]
    subst: np.ndarray
    head_rows: np.ndarray
    body_rows: list[np.ndarray | None]


@dataclass
class Grounding:
    """All relevant groundings, the derived atoms and the facts they use."""

    template: Template
    facts: FactBase
    queries: QuerySet
    derived: dict[Signature, np.ndarray]
    rules: list[RuleGrounding]
    template_facts: dict[Signature, np.ndarray]  # rows of template facts, per example

    def stats(self) -> dict[str, int]:
        return {
            "derived_atoms": int(sum(t.shape[0] for t in self.derived.values())),
            "groundings": int(sum(r.subst.shape[0] for r in self.rules)),
        }


def ground(template: Template, facts: FactBase, queries: QuerySet, strict: bool = True) -> Grounding:
    """Ground ``template`` over ``facts``, keeping what ``queries`` depend on.

    ``strict``: a body predicate that no rule derives and no example or template
    fact mentions is an error (a typo, usually); ``strict=False`` lets it ground nothing.
    """
    rules = template.rules
    intensional = {r.head.signature for r in rules}
    template_facts = _template_fact_tables(template, facts)
    _check(template, facts, intensional, template_facts, strict)

    tables: dict[Signature, np.ndarray] = {}  # everything a body literal can match

    for rule in rules:  # intern the template's constants, so that built-ins see them
        for lit in (rule.head, *rule.body):
            for t in lit.terms:
                if isinstance(t, str):
                    facts.symbols.id(t)

    def relation(sig: Signature) -> np.ndarray:
        if sig in BUILTINS and sig not in tables:
            tables[sig] = BUILTINS[sig](facts)
        if sig not in tables:
            parts = [t for t in (facts.tables.get(sig), template_facts.get(sig)) if t is not None]
            tables[sig] = unique_rows(np.concatenate(parts)) if parts else np.zeros((0, 1 + sig[1]), np.int64)
        return tables[sig]

    derived: dict[Signature, np.ndarray] = {}
    substs: dict[int, np.ndarray] = {}
    for scc in _strata(rules, intensional):
        members = [i for i, r in enumerate(rules) if r.head.signature in scc]
        for i in members:
            for lit in rules[i].body:
                if lit.negation and lit.signature in scc:
                    why = "it derives nothing" if lit.negation == "soft" else "it has no stratified meaning"
                    raise GroundingError(
                        f"{rules[i].source}: negation through recursion ({lit}): {lit.signature[0]} depends "
                        f"on {rules[i].head.predicate}, so {why}"
                    )
        for sig in scc:
            relation(sig)
        _evaluate_stratum(rules, members, scc, facts, relation, tables, derived, substs)

    keep = _relevance(rules, intensional, queries, substs, facts)
    groundings = []
    for i, rule in enumerate(rules):
        s = substs[i][keep[i]]
        variables = _variables(rule)
        groundings.append(
            RuleGrounding(
                rule,
                i,
                variables,
                s,
                _atom_rows(rule.head, variables, s, facts),
                [_atom_rows(lit, variables, s, facts) if lit.feeds_neuron else None for lit in rule.body],
            )
        )
    return Grounding(template, facts, queries, derived, groundings, template_facts)


# --------------------------------------------------------------------------- checks


def _template_fact_tables(template: Template, facts: FactBase) -> dict[Signature, np.ndarray]:
    """Template facts hold in every example."""
    out: dict[Signature, list[np.ndarray]] = {}
    ex = np.arange(facts.num_examples, dtype=np.int64)[:, None]
    for lit, _ in template.facts:
        consts = np.array([facts.symbols.id(t) for t in lit.terms], dtype=np.int64)
        out.setdefault(lit.signature, []).append(np.hstack([ex, np.broadcast_to(consts, (ex.size, consts.size))]))
    return {sig: unique_rows(np.concatenate(parts)) for sig, parts in out.items()}


def _check(
    template: Template,
    facts: FactBase,
    intensional: set[Signature],
    template_facts: dict[Signature, np.ndarray],
    strict: bool,
) -> None:
    known = intensional | set(facts.tables) | set(template_facts) | set(template.predicates) | set(BUILTINS)
    arities: dict[str, set[int]] = {}
    for name, arity in known:
        arities.setdefault(name, set()).add(arity)
    for rule in template.rules:
        if not any(lit.feeds_neuron for lit in rule.body):
            raise GroundingError(f"{rule.source}: every body literal of this rule is hidden (*) or negated (!), "
                                 "so its neuron has no input")
        positive = {v for lit in rule.body if lit.negation != "hard" for v in lit.variables}
        for v in rule.head.variables:
            if v not in positive:
                raise GroundingError(
                    f"{rule.source}: unsafe rule: head variable {v} does not occur in a "
                    f"positive body literal of {rule.head.predicate}"
                )
        for lit in rule.body:
            if lit.negation == "hard":
                for v in lit.variables:
                    if v not in positive:
                        raise GroundingError(
                            f"{rule.source}: unsafe rule: variable {v} of negated {lit} does "
                            "not occur in a positive body literal"
                        )
            if lit.signature in known:
                continue
            other = sorted(arities.get(lit.predicate, ()))
            if other:
                raise GroundingError(
                    f"{rule.source}: predicate {lit.predicate} is used with arity {lit.arity} "
                    f"but elsewhere with arity {other[0]}"
                )
            if strict:
                raise GroundingError(
                    f"{rule.source}: unknown predicate {lit.predicate}/{lit.arity}: no rule "
                    "derives it and no example or template fact mentions it (strict=False "
                    "lets it ground nothing)"
                )


def _strata(rules: list[Rule], intensional: set[Signature]) -> list[set[Signature]]:
    """Strongly connected components of the intensional dependency graph, dependencies first."""
    deps: dict[Signature, set[Signature]] = {s: set() for s in intensional}
    for r in rules:
        deps[r.head.signature] |= {lit.signature for lit in r.body if lit.signature in intensional}
    index: dict[Signature, int] = {}
    low: dict[Signature, int] = {}
    stack: list[Signature] = []
    on_stack: set[Signature] = set()
    out: list[set[Signature]] = []

    def visit(v: Signature) -> None:  # Tarjan; recursion depth = number of predicates
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(deps[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            out.append(comp)

    for v in sorted(intensional):
        if v not in index:
            visit(v)
    return out


# --------------------------------------------------------------------------- evaluation


def _variables(rule: Rule) -> list[Var]:
    seen: dict[Var, None] = {}
    for lit in rule.body:
        if lit.negation != "hard":
            for v in lit.variables:
                seen.setdefault(v)
    return list(seen)


def _literal_table(lit: Literal, rel: np.ndarray, facts: FactBase) -> tuple[np.ndarray, list[Var]]:
    """Rows of ``rel`` matching the literal's constants and repeated variables,
    projected to ``[example, distinct variables...]``."""
    mask = np.ones(rel.shape[0], dtype=bool)
    first: dict[Var, int] = {}
    for pos, term in enumerate(lit.terms):
        col = rel[:, 1 + pos]
        if isinstance(term, Var):
            if term in first:
                mask &= col == rel[:, 1 + first[term]]
            else:
                first[term] = pos
        else:
            mask &= col == facts.symbols.ids.get(term, -1)
    variables = list(first)
    return rel[mask][:, [0] + [1 + first[v] for v in variables]], variables


def _ground_rule(
    rule: Rule,
    variables: list[Var],
    facts: FactBase,
    relation,
    delta_at: int = -1,
    delta: np.ndarray | None = None,
) -> np.ndarray:
    """All substitutions ``[g, 1 + len(variables)]`` satisfying the body; literal
    ``delta_at`` (if any) matches only the rows of ``delta``."""
    todo = []
    for k, lit in enumerate(rule.body):
        if lit.negation == "hard":
            continue
        rel = delta if k == delta_at else relation(lit.signature)
        todo.append(_literal_table(lit, rel, facts))
    start = 0
    if delta_at >= 0:
        start = sum(1 for k in range(delta_at) if rule.body[k].negation != "hard")
    else:
        start = int(np.argmin([t.shape[0] for t, _ in todo]))
    bound, bvars = todo.pop(start)
    while todo:
        best = max(range(len(todo)), key=lambda j: (len(set(todo[j][1]) & set(bvars)), -todo[j][0].shape[0]))
        table, tvars = todo.pop(best)
        shared = [v for v in tvars if v in bvars]
        i, j = join(
            bound, [0] + [1 + bvars.index(v) for v in shared], table, [0] + [1 + tvars.index(v) for v in shared]
        )
        new = [v for v in tvars if v not in bvars]
        bound = np.hstack([bound[i], table[j][:, [1 + tvars.index(v) for v in new]]])
        bvars = bvars + new
    bound = bound[:, [0] + [1 + bvars.index(v) for v in variables]]
    for lit in rule.body:
        if lit.negation == "hard" and bound.shape[0]:
            rows = _atom_rows(lit, variables, bound, facts)
            bound = bound[
                ~semi_join_mask(rows, list(range(rows.shape[1])), relation(lit.signature), list(range(rows.shape[1])))
            ]
    return bound


def _atom_rows(lit: Literal, variables: list[Var], subst: np.ndarray, facts: FactBase) -> np.ndarray:
    """Ground atom rows ``[g, 1 + arity]`` of a literal under each substitution."""
    cols = [subst[:, 0]]
    for term in lit.terms:
        if isinstance(term, Var):
            cols.append(subst[:, 1 + variables.index(term)])
        else:
            cols.append(np.full(subst.shape[0], facts.symbols.id(term), dtype=np.int64))
    return np.stack(cols, axis=1) if subst.shape[0] else np.zeros((0, 1 + lit.arity), np.int64)


def _evaluate_stratum(
    rules: list[Rule],
    members: list[int],
    scc: set[Signature],
    facts: FactBase,
    relation,
    tables: dict,
    derived: dict,
    substs: dict,
) -> None:
    recursive = any(lit.signature in scc for i in members for lit in rules[i].body)
    delta: dict[Signature, np.ndarray] = {}
    found: dict[int, list[np.ndarray]] = {i: [] for i in members}

    def add(i: int, s: np.ndarray) -> None:
        found[i].append(s)
        head = unique_rows(_atom_rows(rules[i].head, _variables(rules[i]), s, facts))
        sig = rules[i].head.signature
        new = head[lookup(tables[sig], head) < 0] if head.shape[0] else head
        if new.shape[0]:
            delta[sig] = unique_rows(np.concatenate([delta[sig], new])) if sig in delta else new

    for i in members:
        sig = rules[i].head.signature
        derived.setdefault(sig, np.zeros((0, 1 + sig[1]), np.int64))
        add(i, _ground_rule(rules[i], _variables(rules[i]), facts, relation))
    while delta:
        for sig, rows in delta.items():
            tables[sig] = unique_rows(np.concatenate([tables[sig], rows]))
            derived[sig] = unique_rows(np.concatenate([derived[sig], rows]))
        if not recursive:
            break
        last, delta = delta, {}
        for i in members:
            for k, lit in enumerate(rules[i].body):
                if lit.signature in last and lit.negation != "hard":
                    s = _ground_rule(rules[i], _variables(rules[i]), facts, relation, k, last[lit.signature])
                    seen = np.concatenate(found[i])
                    add(i, s[lookup(unique_rows(seen), s) < 0] if seen.shape[0] and s.shape[0] else s)
    for i in members:
        substs[i] = unique_rows(np.concatenate(found[i]))


def _relevance(
    rules: list[Rule], intensional: set[Signature], queries: QuerySet, substs: dict[int, np.ndarray], facts: FactBase
) -> dict[int, np.ndarray]:
    """Per rule, a mask of the groundings whose head some query (transitively) needs."""
    needed: dict[Signature, np.ndarray] = {}
    for sig, row in zip(queries.signatures, queries.rows, strict=True):
        needed.setdefault(sig, []).append(row)
    needed = {s: unique_rows(np.stack(r)) for s, r in needed.items()}
    keep = {i: np.zeros(substs[i].shape[0], dtype=bool) for i in range(len(rules))}
    changed = True
    while changed:  # a fixpoint; one sweep per recursion depth of the relevant part
        changed = False
        for i in reversed(range(len(rules))):
            rule = rules[i]
            sig = rule.head.signature
            if sig not in needed or not substs[i].shape[0]:
                continue
            variables = _variables(rule)
            heads = _atom_rows(rule.head, variables, substs[i], facts)
            mask = lookup(needed[sig], heads) >= 0
            if not (mask & ~keep[i]).any():
                continue
            fresh = mask & ~keep[i]
            keep[i] |= mask
            for lit in rule.body:
                if lit.signature in intensional and lit.feeds_neuron:
                    rows = unique_rows(_atom_rows(lit, variables, substs[i][fresh], facts))
                    old = needed.get(lit.signature)
                    merged = rows if old is None else unique_rows(np.concatenate([old, rows]))
                    if old is None or merged.shape[0] > old.shape[0]:
                        needed[lit.signature] = merged
                        changed = True
    return keep
