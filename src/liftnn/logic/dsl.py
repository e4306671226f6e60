"""The Python spelling of templates; it builds the same records as the text syntax.

    from liftnn.logic.dsl import R, V, C, DslTemplate, settings

    t = DslTemplate()
    t += R.h1(V.X)[10, 10] <= (R.h0(V.Y)[10, 10], R.edge(V.Y, V.X))
    t += (R.h1(V.X) <= R.h0(V.X)[10, 10]) | settings(activation="relu", aggregation="sum")
    t += R.h1 / 1 | settings(activation="sigmoid", offset=(10,))
    t += R.predict[1, 10] <= R.h1(V.X)
    t += R.k(V.X)["shared":(1, 3)] <= R.h1(V.X)[[1.0, 2.0, 3.0]].fixed()

Weights: ``[r, c]`` a matrix, ``[n]`` a column ``(n, 1)``, ``[2.0]`` a scalar value,
``[[a, b, c]]`` a vector value, ``["name": spec]`` a named (shared) weight;
``.fixed()`` makes it non-learnable; ``~atom`` is soft negation, ``-atom`` hard negation.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from .template import (
    ACTIVATION_ALIASES,
    AGGREGATION_ALIASES,
    COMBINATION_ALIASES,
    Literal,
    PredicateSettings,
    Rule,
    Template,
    Var,
    Weight,
)


def _weight(spec: Any, name: str | None = None) -> Weight:
    if isinstance(spec, slice):
        return _weight(spec.stop, str(spec.start))
    if isinstance(spec, Weight):
        return spec
    if isinstance(spec, float):
        return Weight((), (spec,), name=name)
    if isinstance(spec, int):
        return Weight(() if spec == 1 else (spec, 1), name=name)
    if isinstance(spec, tuple) and all(isinstance(d, int) for d in spec):
        if spec in ((1,), (1, 1)):
            return Weight((), name=name)
        if len(spec) == 1:
            return Weight((spec[0], 1), name=name)
        if len(spec) == 2:
            return Weight(tuple(spec), name=name)
    if isinstance(spec, list):
        if spec and isinstance(spec[0], list):
            if len({len(r) for r in spec}) != 1:
                raise ValueError("matrix rows have different lengths")
            return Weight((len(spec), len(spec[0])), tuple(float(v) for r in spec for v in r), name=name)
        return Weight((len(spec), 1), tuple(float(v) for v in spec), name=name)
    raise ValueError(f"cannot read a weight from {spec!r}: use [r, c], [n], [2.0], [[a, b]] or ['name': spec]")


def _where() -> str:
    frame = inspect.currentframe()
    for _ in range(3):
        frame = frame.f_back if frame is not None else None
    return f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "<dsl>"


class Atom:
    """A literal under construction: ``R.pred(terms)[weight]``."""

    def __init__(self, literal: Literal) -> None:
        self.literal = literal

    def __getitem__(self, spec: Any) -> Atom:
        lit = self.literal
        return Atom(Literal(lit.predicate, lit.terms, _weight(spec), lit.negation))

    def fixed(self) -> Atom:
        lit = self.literal
        if lit.weight is None:
            raise ValueError(f"{lit}: only a weight can be fixed")
        w = lit.weight
        return Atom(Literal(lit.predicate, lit.terms, Weight(w.shape, w.init, True, w.name), lit.negation,
                            lit.hidden))

    def hidden(self) -> Atom:
        """``*pred(..)``: the atom must hold but feeds no neuron."""
        lit = self.literal
        return Atom(Literal(lit.predicate, lit.terms, lit.weight, lit.negation, True))

    def __invert__(self) -> Atom:
        lit = self.literal
        return Atom(Literal(lit.predicate, lit.terms, lit.weight, "soft", lit.hidden))

    def __neg__(self) -> Atom:
        lit = self.literal
        return Atom(Literal(lit.predicate, lit.terms, lit.weight, "hard", lit.hidden))

    def __le__(self, body: Atom | Iterable[Atom]) -> RuleBuilder:
        items = [body] if isinstance(body, Atom) else list(body)
        if not items or not all(isinstance(b, Atom) for b in items):
            raise ValueError(f"the body of {self.literal} must be one or more atoms")
        return RuleBuilder(Rule(self.literal, tuple(b.literal for b in items), source=_where()))

    def __repr__(self) -> str:
        return str(self.literal)


class RuleBuilder:
    """A rule; ``rule | settings(...)`` sets its activation, aggregation, combination, offset."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    def __or__(self, meta: dict[str, Any]) -> RuleBuilder:
        r = self.rule
        unknown = set(meta) - {"activation", "aggregation", "combination", "offset"}
        if unknown:
            raise ValueError(f"{r.source}: unknown rule setting(s) {sorted(unknown)}")
        return RuleBuilder(Rule(
            r.head, r.body,
            _weight(meta["offset"]) if "offset" in meta else r.offset,
            _alias(meta.get("activation"), ACTIVATION_ALIASES, "activation") or r.activation,
            _alias(meta.get("aggregation"), AGGREGATION_ALIASES, "aggregation") or r.aggregation,
            _alias(meta.get("combination"), COMBINATION_ALIASES, "combination") or r.combination,
            r.source,
        ))

    def __repr__(self) -> str:
        return str(self.rule)


def _alias(value: str | None, table: dict[str, str], what: str) -> str | None:
    if value is None:
        return None
    if value.lower() not in table:
        raise ValueError(f"unknown {what} {value!r}; known: {sorted(table)}")
    return table[value.lower()]


class PredicateRef:
    """``R.pred / arity``: ``| settings(activation=..., combination=..., offset=...)`` sets the atom neurons."""

    def __init__(self, name: str, arity: int) -> None:
        self.signature = (name, arity)
        self.settings = PredicateSettings()

    def __or__(self, meta: dict[str, Any]) -> PredicateRef:
        unknown = set(meta) - {"activation", "combination", "offset"}
        if unknown:
            raise ValueError(f"predicate {self.signature[0]}/{self.signature[1]} cannot take {sorted(unknown)}")
        combination = _alias(meta.get("combination"), COMBINATION_ALIASES, "combination")
        if combination in ("max", "min"):
            raise ValueError(f"combination={combination} of atom neurons is not supported")
        self.settings = PredicateSettings(
            _alias(meta.get("activation"), ACTIVATION_ALIASES, "activation") or self.settings.activation,
            _weight(meta["offset"]) if "offset" in meta else self.settings.offset,
            combination or self.settings.combination,
        )
        return self


class _Predicate(Atom):
    def __init__(self, name: str) -> None:
        super().__init__(Literal(name))

    def __call__(self, *terms: Var | str | int) -> Atom:
        return Atom(Literal(self.literal.predicate, tuple(t if isinstance(t, Var) else str(t) for t in terms)))

    def __truediv__(self, arity: int) -> PredicateRef:
        return PredicateRef(self.literal.predicate, int(arity))


class _Namespace:
    def __init__(self, make) -> None:
        self._make = make

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._make(name)


R = _Namespace(_Predicate)
V = _Namespace(Var)
C = _Namespace(str)


def settings(**meta: Any) -> dict[str, Any]:
    """Rule or predicate settings, e.g. ``settings(activation="relu", aggregation="sum")``."""
    return meta


class DslTemplate(Template):
    """A :class:`Template` that also accepts DSL rules and predicate settings with ``+=``."""

    def add(self, item: Any) -> DslTemplate:  # type: ignore[override]
        if isinstance(item, RuleBuilder):
            self.rules.append(item.rule)
        elif isinstance(item, Atom):
            lit = item.literal
            if lit.variables:
                raise ValueError(f"template fact {lit} must be ground")
            self.facts.append((lit, _where()))
        elif isinstance(item, PredicateRef):
            mine = self.predicates.setdefault(item.signature, PredicateSettings())
            mine.activation = item.settings.activation or mine.activation
            mine.offset = item.settings.offset or mine.offset
            mine.combination = item.settings.combination or mine.combination
        else:
            super().add(item)
        return self

    __iadd__ = add


__all__ = ["C", "R", "V", "DslTemplate", "settings"]
