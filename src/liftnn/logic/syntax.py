"""The NeuraLogic text syntax: templates, example files and query files.

Templates::

    import ./embeddings.txt                               % another template file
    {3,3} l1(X) :- {3,3} atom(Y), bond(X,Y,B), {3,3} bond_embed(B).  [activation=relu, aggregation=sum]
    {1,3} predict :- l1(X).
    $w={3,1} h(X) :- <-7> a(X), ~b(X), 0.5.               % named, fixed, soft negation, rule offset
    l1/1 [activation=tanh]                                 % atom activation
    atom_embed/1 {3,1}                                     % atom offset
    [0.5, 2.0] e(x).                                       % a template fact: a learnable value

Examples: ``fact, fact, ... .`` per example, facts optionally valued
(``[1,0,1] f(a)``, ``0.5 b(y)``). Queries: the i-th ``.``-terminated entry
belongs to the i-th example (``1.0 predict.``; several queries per entry allowed),
or names it (``e7 :- 1.0 predict.``).

Every error names ``file:line:column``.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from pathlib import Path

from .builtins import BUILTINS
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

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<comment>%[^\n]*|/\*.*?\*/)
      | (?P<implies>:-|<=)
      | (?P<number>[-+]?(?:\d+\.\d+|\d+)(?:[eE][-+]?\d+)?)(?![A-Za-z_])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*|\d+[A-Za-z_][A-Za-z0-9_]*|"[^"\n]*"|'[^'\n]*')
      | (?P<punct>[()\[\]{},.<>$=/~!@*|])
      | (?P<bad>.)""",
    re.S | re.X,
)


class TemplateSyntaxError(ValueError):
    """A syntax error, naming ``file:line:column``."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


class _Source:
    """Text with a token stream and position -> line:column mapping."""

    def __init__(self, text: str, name: str) -> None:
        self.text, self.name = text, name
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.tokens = [
            Token(m.lastgroup, m.group(), m.start())
            for m in _TOKEN.finditer(text)
            if m.lastgroup not in ("ws", "comment")
        ]
        self.i = 0
        for t in self.tokens:
            if t.kind == "bad":
                self.fail(f"unexpected character {t.text!r}", t)

    def where(self, tok: Token | None = None) -> str:
        pos = tok.pos if tok is not None else (self.peek().pos if self.peek() else len(self.text))
        line = bisect.bisect_right(self.line_starts, pos)
        return f"{self.name}:{line}:{pos - self.line_starts[line - 1] + 1}"

    def line_of(self, tok: Token) -> int:
        return bisect.bisect_right(self.line_starts, tok.pos)

    def fail(self, msg: str, tok: Token | None = None) -> None:
        raise TemplateSyntaxError(f"{self.where(tok)}: {msg}")

    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.tokens[j] if j < len(self.tokens) else None

    def at(self, text: str, k: int = 0) -> bool:
        t = self.peek(k)
        return t is not None and t.text == text and t.kind in ("punct", "implies")

    def next(self) -> Token:
        t = self.peek()
        if t is None:
            self.fail("unexpected end of input")
        self.i += 1
        return t

    def expect(self, text: str) -> Token:
        t = self.peek()
        if t is None or t.text != text:
            self.fail(f"expected {text!r}, found {t.text if t else 'end of input'!r}", t)
        return self.next()

    def done(self) -> bool:
        return self.i >= len(self.tokens)


# ----------------------------------------------------------------------------- values


def _number(src: _Source) -> float:
    t = src.next()
    if t.kind != "number":
        src.fail(f"expected a number, found {t.text!r}", t)
    value = float(t.text)
    if not math.isfinite(value):
        src.fail(f"number {t.text} is out of the float64 range", t)
    return value


def _numbers_until(src: _Source, close: str) -> list[float]:
    out = [_number(src)]
    while src.at(","):
        src.next()
        out.append(_number(src))
    src.expect(close)
    return out


def _value(src: _Source) -> Weight:
    """``2`` | ``[a, b]`` | ``[[a, b], [c, d]]`` | ``{dims}``."""
    t = src.peek()
    if t is None:
        src.fail("expected a weight")
    if t.kind == "number":
        return Weight((), (_number(src),))
    if src.at("{"):
        src.next()
        sizes = _numbers_until(src, "}")
        dims = [int(d) for d in sizes]
        if any(d < 1 or d != s or d > 2**31 for d, s in zip(dims, sizes, strict=True)) or len(dims) > 2:
            src.fail(f"weight dimensions {{{', '.join(map(str, dims))}}} must be one or two positive whole sizes", t)
        if dims in ([1], [1, 1]):
            return Weight(())
        return Weight((dims[0], 1) if len(dims) == 1 else tuple(dims))
    if src.at("["):
        src.next()
        if src.at("["):
            rows = []
            while src.at("["):
                src.next()
                rows.append(_numbers_until(src, "]"))
                if src.at(","):
                    src.next()
            src.expect("]")
            if len({len(r) for r in rows}) != 1:
                src.fail("matrix rows have different lengths", t)
            return Weight((len(rows), len(rows[0])), tuple(v for r in rows for v in r))
        vals = _numbers_until(src, "]")
        return Weight((len(vals), 1), tuple(vals))
    src.fail(f"expected a weight, found {t.text!r}", t)
    raise AssertionError


def _starts_weight(src: _Source) -> bool:
    t = src.peek()
    if t is None:
        return False
    if t.kind == "number" or src.at("{") or src.at("<") or src.at("$"):
        return True
    return src.at("[") and not (src.peek(1) is not None and src.peek(1).kind == "name" and src.at("=", 2))


def _weight(src: _Source) -> Weight:
    """``[$name=] (<value> | value)`` or a bare ``$name`` (a reference to a named weight)."""
    name = None
    if src.at("$"):
        src.next()
        name = _name(src)
        if not src.at("="):
            return Weight((), None, False, name, reference=True)  # resolved to the definition by name
        src.next()
    fixed = src.at("<")
    if fixed:
        src.next()
    w = _value(src)
    if fixed:
        src.expect(">")
    return Weight(w.shape, w.init, fixed, name)


def _name(src: _Source) -> str:
    t = src.next()
    if t.kind == "number":
        return t.text
    if t.kind != "name":
        src.fail(f"expected a name, found {t.text!r}", t)
    return t.text.strip("\"'")


# ----------------------------------------------------------------------------- literals


def _literal(src: _Source, weight: Weight | None = None, allow_variables: bool = True) -> Literal:
    neg = None
    if src.at("~") or src.at("!"):
        neg = "soft" if src.next().text == "~" else "hard"
    hidden = src.at("*")
    if hidden:
        src.next()
    builtin = src.at("@")
    if builtin:
        src.next()
        hidden = True  # a condition: built-ins feed no neuron
    t = src.peek()
    if t is None or t.kind != "name" or t.text[0].isupper() or t.text[0] == "_":
        src.fail(f"expected a predicate name (lower case), found {t.text if t else 'end of input'!r}", t)
    pred = _name(src)
    terms: list = []
    if src.at("("):
        src.next()
        while True:
            tt = src.next()
            if tt.kind not in ("name", "number"):
                src.fail(f"expected a term, found {tt.text!r}", tt)
            if src.at("("):
                src.fail(f"{pred}(...) applies a function to a literal; inline functions are not supported", t)
            if tt.kind == "name" and (tt.text[0].isupper() or tt.text[0] == "_"):
                if not allow_variables:
                    src.fail(f"variable {tt.text} in a ground fact", tt)
                terms.append(Var(tt.text))
            else:
                terms.append(tt.text.strip("\"'"))
            if src.at(","):
                src.next()
                continue
            src.expect(")")
            break
    if builtin:
        if (f"@{pred}", len(terms)) not in BUILTINS:
            src.fail(f"built-in predicate @{pred}/{len(terms)} is not supported (supported: @next/2)", t)
        pred = f"@{pred}"
    return Literal(pred, tuple(terms), weight, neg, hidden)


def _metadata(src: _Source) -> dict[str, tuple[str, str]]:
    """``[key=value, ...]`` -> {key: (value, where)}."""
    src.expect("[")
    out = {}
    while True:
        key_tok = src.peek()
        key = _name(src).lower()
        src.expect("=")
        if src.at("$"):
            src.next()
        val_tok = src.next()
        if src.at("("):
            src.fail(f"parameterised setting {key}={val_tok.text}(...) is not supported", val_tok)
        out[key] = (val_tok.text.strip("\"'").lower(), src.where(key_tok))
        if src.at(","):
            src.next()
            continue
        src.expect("]")
        return out


def _setting(meta: dict[str, tuple[str, str]], keys: tuple[str, ...], aliases: dict[str, str], what: str) -> str | None:
    for key in keys:
        if key in meta:
            value, where = meta[key]
            if value not in aliases:
                raise TemplateSyntaxError(f"{where}: unknown {what} {value!r}; known: {sorted(aliases)}")
            return aliases[value]
    return None


_RULE_KEYS = {"activation", "transformation", "aggregation", "combination", "duplicate_grounding"}


# ----------------------------------------------------------------------------- templates


def parse_template(
    text: str, name: str = "<template>", base: Path | None = None, importing: tuple[Path, ...] = ()
) -> Template:
    """Parse template text; ``import path`` lines are resolved relative to ``base``
    (``importing``: the files whose imports led here, to report import cycles)."""
    src = _Source(text, name)
    tpl = Template(source=name)
    while not src.done():
        t = src.peek()
        if t.kind == "name" and t.text == "import" and src.peek(1) is not None and not src.at("(", 1):
            tpl.add(_import(src, base, importing))
        elif t.kind == "name" and src.at("/", 1):
            _predicate_line(src, tpl)
        elif src.at("[") and not _starts_weight(src):
            meta = _metadata(src)  # template-level metadata: accepted, has no effect (as in the reference)
            del meta
        else:
            _rule_or_fact(src, tpl)
    return tpl


def _import(src: _Source, base: Path | None, importing: tuple[Path, ...]) -> Template:
    start = src.next()
    line = src.line_of(start)
    end = src.line_starts[line] if line < len(src.line_starts) else len(src.text)
    rel = src.text[start.pos + len("import") : end].split("%")[0].strip()
    while not src.done() and src.peek().pos < end:
        src.next()
    path = (base or Path(".")) / rel
    if not path.is_file():
        src.fail(f"imported file {rel!r} not found (looked at {path})", start)
    if path.resolve() in importing:
        chain = " -> ".join(p.name for p in (*importing, path.resolve()))
        src.fail(f"import cycle: {chain}", start)
    return load_template(path, importing)


def _predicate_line(src: _Source, tpl: Template) -> None:
    name_tok = src.peek()
    name = _name(src)
    src.expect("/")
    arity_tok = src.next()
    if arity_tok.kind != "number" or not arity_tok.text.isdigit():
        src.fail(f"expected an arity after '{name}/', found {arity_tok.text!r}", arity_tok)
    sig = (name, int(arity_tok.text))
    ps = tpl.predicates.setdefault(sig, PredicateSettings())
    if src.at("[") and not _starts_weight(src):
        meta = _metadata(src)
        unknown = set(meta) - _PREDICATE_KEYS
        if unknown:
            key = sorted(unknown)[0]
            raise TemplateSyntaxError(
                f"{meta[key][1]}: predicate {name}/{sig[1]} cannot take {key!r} (allowed: {sorted(_PREDICATE_KEYS)})"
            )
        ps.activation = _setting(meta, ("activation", "transformation"), ACTIVATION_ALIASES, "activation") or (
            ps.activation
        )
        comb = _setting(meta, ("combination",), COMBINATION_ALIASES, "combination")
        if comb in ("max", "min"):
            raise TemplateSyntaxError(f"{meta['combination'][1]}: combination={comb} of atom neurons is not supported")
        ps.combination = comb or ps.combination
        if "offset" in meta:
            value, where = meta["offset"]
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if not math.isfinite(number):
                raise TemplateSyntaxError(f"{where}: offset={value} must be a finite number")
            _set_offset(ps, Weight((), (number,), fixed=True), f"{name}/{sig[1]}", where)
    elif _starts_weight(src):
        _set_offset(ps, _weight(src), f"{name}/{sig[1]}", src.where(name_tok))
    else:
        src.fail(f"expected [metadata] or an offset weight after {name}/{sig[1]}", name_tok)


_PREDICATE_KEYS = {"activation", "transformation", "combination", "offset"}


def _set_offset(ps: PredicateSettings, offset: Weight, pred: str, where: str) -> None:
    """A predicate's offset; declaring it again differently is an error, not a silent override."""
    if ps.offset is not None and ps.offset != offset:
        raise TemplateSyntaxError(
            f"{where}: predicate {pred} already has the offset {ps.offset}; declared again as {offset}"
        )
    ps.offset = offset


def _rule_or_fact(src: _Source, tpl: Template) -> None:
    start = src.peek()
    where = f"{src.name}:{src.line_of(start)}"
    head_weight = _weight(src) if _starts_weight(src) else None
    head = _literal(src, head_weight)
    if src.at("."):
        src.next()
        if head.variables:
            src.fail(f"template fact {head} has variables; facts must be ground", start)
        tpl.facts.append((head, where))
        return
    if not (src.at(":-") or src.at("<=")):
        src.fail(f"expected ':-' or '.', found {src.peek().text if src.peek() else 'end of input'!r}")
    src.next()
    body: list[Literal] = []
    offset = None
    while True:
        w = _weight(src) if _starts_weight(src) else None
        if w is not None and (src.at(".") or src.at(",")):
            if not src.at("."):
                src.fail("a bare weight (rule offset) must be the last element of the body")
            offset = w
        else:
            body.append(_literal(src, w))
        if src.at(","):
            src.next()
            continue
        src.expect(".")
        break
    meta: dict[str, tuple[str, str]] = {}
    if src.at("[") and src.peek(1) is not None and src.peek(1).kind == "name" and src.at("=", 2):
        meta = _metadata(src)
        unknown = set(meta) - _RULE_KEYS
        if unknown:
            key = sorted(unknown)[0]
            raise TemplateSyntaxError(f"{meta[key][1]}: unknown rule setting {key!r}; known: {sorted(_RULE_KEYS)}")
        if "duplicate_grounding" in meta and meta["duplicate_grounding"][0] not in ("true", "false"):
            value, where = meta["duplicate_grounding"]
            raise TemplateSyntaxError(f"{where}: duplicate_grounding={value}: expected True or False")
    if not body:
        src.fail("a rule needs at least one body literal", start)
    tpl.rules.append(
        Rule(
            head=head,
            body=tuple(body),
            offset=offset,
            activation=_setting(meta, ("activation", "transformation"), ACTIVATION_ALIASES, "activation"),
            aggregation=_setting(meta, ("aggregation",), AGGREGATION_ALIASES, "aggregation"),
            combination=_setting(meta, ("combination",), COMBINATION_ALIASES, "combination"),
            source=where,
        )
    )


def load_template(path: str | Path, importing: tuple[Path, ...] = ()) -> Template:
    """Parse a template file (its ``import`` lines relative to its folder)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such template file: {path}")
    if not path.is_file():
        raise TemplateSyntaxError(f"{path}: is a directory, not a template file")
    return parse_template(read_text(path), str(path), path.parent, (*importing, path.resolve()))


def read_text(path: Path) -> str:
    """A text file's contents; undecodable bytes are an error naming the file and line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise TemplateSyntaxError(f"{path}:{line}: bytes that are not UTF-8 text ({err.reason})") from None


# ----------------------------------------------------------------------------- examples and queries


@dataclass(frozen=True)
class GroundFact:
    """A fact with its value (``None``: the default 1.0) and ``file:line``."""

    literal: Literal
    value: tuple[float, ...] | None
    where: str


def _ground_literal(src: _Source) -> tuple[Literal, tuple[float, ...] | None]:
    """``[value | <value>] atom``: a fact or query with its optional value (fixed or not alike)."""
    value = None
    if _starts_weight(src):
        tok = src.peek()
        if src.at("$"):
            src.fail("a fact value cannot be a named weight", tok)
        fixed = src.at("<")
        if fixed:
            src.next()
        w = _value(src)
        if fixed:
            src.expect(">")
        if w.init is None:
            src.fail("a fact value must be a number or a vector of numbers", tok)
        value = w.init
    lit = _literal(src, None, allow_variables=False)
    if lit.negation or lit.hidden:
        src.fail(f"a fact cannot be negated or hidden: {lit}")
    return lit, value


def _facts_until_dot(src: _Source, first: GroundFact | None = None) -> list[GroundFact]:
    """``fact, fact, ... .`` (a trailing comma before the dot is tolerated)."""
    facts = [first] if first is not None else []
    if first is not None:
        if not src.at(","):
            src.expect(".")
            return facts
        src.next()
    while True:
        tok = src.peek()
        lit, value = _ground_literal(src)
        facts.append(GroundFact(lit, value, f"{src.name}:{src.line_of(tok)}"))
        if src.at(","):
            src.next()
            if src.at("."):
                src.next()
                return facts
            continue
        src.expect(".")
        return facts


def parse_example_file(text: str, name: str = "<examples>") -> tuple[list[list[GroundFact]], list[Query]]:
    """Examples, each a ``,``-separated list of (valued) ground facts ending in ``.``, and the
    queries written into the file itself: an entry ``[target] query :- facts.`` is an example
    whose query (with its target) is ``query``."""
    src = _Source(text, name)
    examples: list[list[GroundFact]] = []
    queries: list[Query] = []
    while not src.done():
        tok = src.peek()
        lit, value = _ground_literal(src)
        where = f"{name}:{src.line_of(tok)}"
        if src.at(":-") or src.at("<="):
            src.next()
            queries.append(Query(lit, value, len(examples), None, where))
            examples.append(_facts_until_dot(src))
        else:
            examples.append(_facts_until_dot(src, GroundFact(lit, value, where)))
    if queries and len(queries) != len(examples):
        src.fail(f"{len(queries)} of {len(examples)} examples carry a query (`target query :- facts.`); "
                 "give every example one, or none and a queries file")
    return examples, queries


def parse_examples(text: str, name: str = "<examples>") -> list[list[GroundFact]]:
    """The examples of :func:`parse_example_file` (queries written into the file are dropped)."""
    return parse_example_file(text, name)[0]


@dataclass(frozen=True)
class Query:
    """A query atom with an optional target value; ``entry`` is the position of its
    ``.``-terminated entry (the example it belongs to), ``name`` the example id it gives, if any."""

    literal: Literal
    target: tuple[float, ...] | None
    entry: int
    name: str | None
    where: str


def parse_queries(text: str, source: str = "<queries>") -> list[Query]:
    """Queries: the i-th ``.``-terminated entry belongs to example ``i``; ``id :- q.`` names it."""
    src = _Source(text, source)
    out: list[Query] = []
    entry = 0
    while not src.done():
        name = None
        if src.peek().kind == "name" and src.at(":-", 1):
            name = _name(src)
            src.next()
        while True:
            tok = src.peek()
            lit, value = _ground_literal(src)
            out.append(Query(lit, value, entry, name, f"{src.name}:{src.line_of(tok)}"))
            if src.at(","):
                src.next()
                continue
            src.expect(".")
            break
        entry += 1
    return out
