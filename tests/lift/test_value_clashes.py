"""Value lifting on random graphs: the clash branch is reached, and a clash is the only way to loss.

Each property runs as an inner Hypothesis test that counts which branch every example took
(also reported as ``hypothesis.event``, see ``pytest --hypothesis-show-statistics``); the outer
test then requires that the interesting branches were reached, so a generator that never
produces a clash cannot make these properties pass vacuously.
"""

from __future__ import annotations

import warnings
from collections import Counter

import torch
from hypothesis import event, given, settings

from lift.strategies import random_graphs
from liftnn import Graph, compress, verify
from liftnn.lift import Report, ValueClashWarning

PROPERTY = settings(max_examples=50, deadline=None, derandomize=True)


def _value_lift(g: Graph, shapes: dict, digits: int, inits: int, scope: str) -> tuple[Graph, Report]:
    """Value-lift ``g``; the clash warning is raised exactly when clashes are reported."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lifted, rep = compress(g, "value", digits=digits, inits=inits, scope=scope, shapes=shapes)
    warned = any(issubclass(w.category, ValueClashWarning) for w in caught)
    assert warned == (rep.clashes > 0), (digits, inits, scope)
    return lifted, rep


def _verified(g: Graph, lifted: Graph, shapes: dict) -> bool:
    """verify() under its own draws (never the value pass's), float64, its default tolerance."""
    return verify(g, lifted, trials=3, dtype=torch.float64, shapes=shapes, raise_on_error=False).ok


def test_value_lifting_with_many_digits_is_never_silently_lossy() -> None:
    """With 12 or 15 significant digits, a value-lifted graph without clashes verifies;
    one that fails verify reported clashes. Some examples must reach the clash branch."""
    counts: Counter = Counter()

    @PROPERTY
    @given(random_graphs())
    def check(gs: tuple[Graph, dict]) -> None:
        g, shapes = gs
        for scope, digits, inits in (("sample", 12, 1), ("dataset", 15, 2)):
            lifted, rep = _value_lift(g, shapes, digits, inits, scope)
            ok = _verified(g, lifted, shapes)
            if rep.clashes == 0:
                assert ok, (scope, digits, inits)
            elif not ok:
                counts["clash, verify fails"] += 1
            branch = "clash" if rep.clashes else "no clash"
            counts[branch] += 1
            event(f"{digits} digits: {branch}")

    check()
    print(f"value lifting, 12/15 digits: {dict(counts)}")
    assert counts["clash"] >= 5, counts
    assert counts["no clash"] >= 5, counts


def test_value_lifting_with_few_digits_verifies_or_reports_clashes() -> None:
    """With 1-3 significant digits: either the lifted graph verifies, or clashes were reported
    and verify fails. Both branches must be reached (coarse rounding does merge distinct values)."""
    counts: Counter = Counter()

    @PROPERTY
    @given(random_graphs())
    def check(gs: tuple[Graph, dict]) -> None:
        g, shapes = gs
        for scope, digits, inits in (("sample", 1, 1), ("dataset", 2, 2), ("dataset", 3, 1)):
            lifted, rep = _value_lift(g, shapes, digits, inits, scope)
            ok = _verified(g, lifted, shapes)
            assert ok or rep.clashes > 0, (scope, digits, inits)
            branch = "verifies" if ok else "clash, verify fails"
            counts[branch] += 1
            counts["clash"] += rep.clashes > 0
            event(f"{digits} digits: {branch}")

    check()
    print(f"value lifting, 1-3 digits: {dict(counts)}")
    assert counts["verifies"] >= 5, counts
    assert counts["clash, verify fails"] >= 5, counts
