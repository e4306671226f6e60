"""Relational templates: weighted rules over predicates (Lifted Relational Neural Networks).

A template is a list of weighted rules ``W_h  h(X) :- W_1 b_1(..), ..., W_n b_n(..), offset``
plus per-predicate settings. Both spellings — the Python DSL (:mod:`liftnn.logic.dsl`)
and the NeuraLogic text syntax (:mod:`liftnn.logic.syntax`) — produce these records.

Conventions (the same as NeuraLogic's):

* a weight ``{n}`` or ``{n, 1}`` or a vector value ``[a, b, c]`` is a column
  ``(n, 1)`` matrix: it maps a scalar input to an ``n``-vector;
* ``{r, c}`` is an ``r×c`` matrix acting as ``W @ x``; a number or ``{1}`` is a scalar;
* ``<value>`` is fixed (not learnable); ``$name=`` shares one weight between places.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Defaults of the reference implementation (PyNeuraLogic 0.9): identity
#: activations on rule and atom neurons, average aggregation, sum combination.
DEFAULT_RULE_ACTIVATION = "identity"
DEFAULT_ATOM_ACTIVATION = "identity"
DEFAULT_AGGREGATION = "mean"
DEFAULT_COMBINATION = "sum"

ACTIVATION_ALIASES = {
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "identity": "identity",
    "linear": "identity",
    "exp": "exp",
    "log": "log",
    "sqrt": "sqrt",
    "inverse": "inverse",
    "softmax": "softmax",
    "leakyrelu": "leaky_relu",
    "leaky_relu": "leaky_relu",
    "square": "square",
    "abs": "abs",
    "softplus": "softplus",
    "elu": "elu",
    "signum": "signum",
}
AGGREGATION_ALIASES = {
    "avg": "mean",
    "average": "mean",
    "mean": "mean",
    "sum": "sum",
    "max": "max",
    "min": "min",
    "count": "count",
}
COMBINATION_ALIASES = {
    "sum": "sum",
    "elproduct": "prod",
    "product": "product",  # NeuraLogic's matrix product: element-wise where at most one input is a vector
    "prod": "prod",
    "max": "max",
    "min": "min",
    "avg": "mean",
    "mean": "mean",
}


#: How the text syntax spells internal names where they differ.
_TEXT_NAMES = {"mean": "avg", "prod": "elproduct", "leaky_relu": "leakyrelu"}


@dataclass(frozen=True)
class Var:
    """A logic variable (written with a capital letter or ``_``)."""

    name: str

    def __str__(self) -> str:
        return self.name


Term = Var | str


@dataclass(frozen=True)
class Weight:
    """A weight: its shape, optional initial value (row-major numbers), fixedness and shared name."""

    shape: tuple[int, ...]
    init: tuple[float, ...] | None = None
    fixed: bool = False
    name: str | None = None
    reference: bool = False  # a bare ``$name``: the weight defined elsewhere under that name

    def __str__(self) -> str:
        if self.reference:
            return f"${self.name}"
        if self.init is None:
            text = "{" + ",".join(str(d) for d in self.shape or (1,)) + "}"
        elif not self.shape:
            text = _num(self.init[0])
        else:
            text = "[" + ", ".join(_num(v) for v in self.init) + "]"
        if self.fixed:
            text = f"<{text}>"
        return f"${self.name}={text}" if self.name else text


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


@dataclass(frozen=True)
class Literal:
    """``[weight] [~|!|*] predicate(terms)``; ``negation`` is ``"soft"`` (``~``: value ``1 - x``)
    or ``"hard"`` (``!``: the atom must be absent); a *hidden* literal (``*``) must hold but
    feeds no neuron (a purely logical condition)."""

    predicate: str
    terms: tuple[Term, ...] = ()
    weight: Weight | None = None
    negation: str | None = None
    hidden: bool = False

    @property
    def feeds_neuron(self) -> bool:
        """The literal's atom is an input of the rule neuron (not hard-negated, not hidden)."""
        return self.negation != "hard" and not self.hidden

    @property
    def arity(self) -> int:
        return len(self.terms)

    @property
    def signature(self) -> tuple[str, int]:
        return (self.predicate, len(self.terms))

    @property
    def variables(self) -> tuple[Var, ...]:
        return tuple(t for t in self.terms if isinstance(t, Var))

    def __str__(self) -> str:
        neg = {"soft": "~", "hard": "!", None: ""}[self.negation] + ("*" if self.hidden else "")
        args = "(" + ", ".join(str(t) for t in self.terms) + ")" if self.terms else ""
        w = f"{self.weight} " if self.weight is not None else ""
        return f"{w}{neg}{self.predicate}{args}"


@dataclass(frozen=True)
class Rule:
    """A weighted rule; ``None`` settings fall back to the predicate's or the defaults.

    ``source`` is ``file:line`` (or a DSL description) for error messages.
    """

    head: Literal
    body: tuple[Literal, ...]
    offset: Weight | None = None
    activation: str | None = None
    aggregation: str | None = None
    combination: str | None = None
    source: str = ""

    def __str__(self) -> str:
        body = ", ".join(str(b) for b in self.body)
        if self.offset is not None:
            body += f", {self.offset}"
        meta = [
            f"{k}={_TEXT_NAMES.get(v, v)}"
            for k, v in (
                ("activation", self.activation),
                ("aggregation", self.aggregation),
                ("combination", self.combination),
            )
            if v is not None
        ]
        return f"{self.head} :- {body}." + (f" [{', '.join(meta)}]" if meta else "")


@dataclass
class PredicateSettings:
    """Per-predicate settings of the atom neurons: activation, offset (bias) and how they
    combine the inputs of their rules (``combination``, default a sum)."""

    activation: str | None = None
    offset: Weight | None = None
    combination: str | None = None


@dataclass
class Template:
    """Rules, template facts (valued facts that are learnable weights) and predicate settings."""

    rules: list[Rule] = field(default_factory=list)
    facts: list[tuple[Literal, str]] = field(default_factory=list)
    predicates: dict[tuple[str, int], PredicateSettings] = field(default_factory=dict)
    source: str = "<template>"

    def add(self, item: Rule | Template) -> Template:
        if isinstance(item, Template):
            self.rules += item.rules
            self.facts += item.facts
            for sig, ps in item.predicates.items():
                mine = self.predicates.setdefault(sig, PredicateSettings())
                mine.activation = ps.activation or mine.activation
                mine.offset = ps.offset or mine.offset
                mine.combination = ps.combination or mine.combination
        else:
            self.rules.append(item)
        return self

    __iadd__ = add

    def predicate(self, signature: tuple[str, int]) -> PredicateSettings:
        return self.predicates.get(signature, PredicateSettings())

    def __str__(self) -> str:
        lines = [str(r) for r in self.rules] + [f"{lit}." for lit, _ in self.facts]
        for (name, arity), ps in self.predicates.items():
            meta = [f"{k}={_TEXT_NAMES.get(v, v)}" for k, v in (("activation", ps.activation),
                                                               ("combination", ps.combination)) if v]
            if meta:
                lines.append(f"{name}/{arity} [{', '.join(meta)}]")
            if ps.offset is not None:
                lines.append(f"{name}/{arity} {ps.offset}")
        return "\n".join(lines)
