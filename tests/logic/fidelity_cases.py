"""The cases of the fidelity suite: PyNeuraLogic's bundled datasets with their templates,
its Mutagenesis template variants, and its ``neuralogic.nn.module`` zoo rendered to text
over small synthetic graphs written here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

NL = Path("neuralogic-not-installed")
try:
    import neuralogic

    NL = Path(neuralogic.__file__).parent / "utils/data/datasets"
except ImportError:  # pragma: no cover - the suite skips without the reference
    pass


@dataclass(frozen=True)
class Case:
    """A template with examples (and queries, unless the examples carry them); ``head``: use only
    the first ``head`` examples and queries of a large dataset."""

    name: str
    template: Path
    examples: Path
    queries: Path | None = None
    head: int | None = None


def bundled_cases() -> list[Case]:
    """Every dataset shipped in ``neuralogic/utils/data/datasets`` with its template."""
    xor = NL / "simple/xor"
    muta = NL / "molecules/mutagenesis"
    return [
        Case("xor/naive", xor / "naive/template.txt", xor / "naive/trainExamples.txt"),
        Case("xor/vectorized", xor / "vectorized/template.txt", xor / "vectorized/trainExamples.txt"),
        Case("xor/solution", xor / "solution/template.txt", xor / "solution/testExamples.txt"),
        Case("xor/generalized", xor / "generalized/template.txt", xor / "generalized/examples.txt"),
        Case("xor/generalized-t", xor / "generalized/template.txt", xor / "generalized/texamples.txt"),
        Case("xor/generalized-zt", xor / "generalized/template.txt", xor / "generalized/ztexamples.txt"),
        Case("family", NL / "simple/family/template.txt", NL / "simple/family/examples.txt",
             NL / "simple/family/queries.txt"),
        Case("trains", NL / "simple/trains/template.txt", NL / "simple/trains/examples.txt",
             NL / "simple/trains/queries.txt"),
        Case("nations", NL / "nations/template.txt", NL / "nations/examples.txt", NL / "nations/queries.txt",
             head=60),
        Case("mutagenesis", muta / "templates/template.txt", muta / "examples.txt", muta / "queries.txt", head=20),
    ]


MUTAGENESIS_VARIANTS = ["template.txt", "template_gnn.txt", "template_graphlets.txt", "template_partial.txt",
                        "template_crosssum.txt", "template_elementProduct.txt", "template_product.txt"]


def mutagenesis_case(variant: str) -> Case:
    muta = NL / "molecules/mutagenesis"
    return Case(f"mutagenesis/{variant}", muta / "templates" / variant, muta / "examples.txt",
                muta / "queries.txt", head=12)


def head_files(case: Case, folder: Path) -> tuple[Path, Path | None]:
    """The case's examples and queries, cut to ``case.head`` entries (one per line in these files;
    a knowledge base's single example is kept whole and only its queries are cut)."""
    if case.head is None:
        return case.examples, case.queries
    ex_lines = case.examples.read_text().splitlines()
    q_lines = case.queries.read_text().splitlines() if case.queries else []
    single = len(ex_lines) > 1 and ex_lines[0].rstrip().endswith(",")  # one example over many lines
    ex = folder / "examples.txt"
    ex.write_text("\n".join(ex_lines if single else ex_lines[: case.head]) + "\n")
    q = folder / "queries.txt"
    q.write_text("\n".join(q_lines[: case.head]) + "\n")
    return ex, q


# --------------------------------------------------------------------------- modules


def graph_examples(rng: np.random.Generator, graphs: int = 3, nodes: int = 4, dim: int = 2) -> str:
    """Small random graphs: ``<[..]> h0(i)`` features, ``edge(i, j)`` both ways, relation-typed
    ``edge(i, r, j)``, roles, meta-path types and parse-tree facts, one example a line."""
    lines = []
    for _ in range(graphs):
        facts = []
        for i in range(nodes):
            vec = ", ".join(f"{v:.3f}" for v in rng.uniform(-1, 1, dim))
            facts.append(f"<[{vec}]> h0({i})")
            facts.append(f"typ({i}, {'p1' if i % 2 else 'p2'})")
        for i in range(nodes):
            for j in range(i + 1, nodes):
                if rng.random() < 0.6 or j == i + 1:
                    r = "r1" if rng.random() < 0.5 else "r2"
                    facts += [f"edge({i}, {j})", f"edge({j}, {i})", f"edge({i}, {r}, {j})", f"edge({j}, {r}, {i})",
                              f"role({i}, a, {j})", f"role({j}, b, {i})", f"rel({i}, {j})", f"rel({j}, {i})"]
        lines.append(", ".join(facts) + ".")
    return "\n".join(lines) + "\n"


def sequence_examples(rng: np.random.Generator, examples: int = 3, steps: int = 4) -> str:
    """Sequences ``<[..]> h0(s, t)`` for t = 0..steps-1 with initial states ``hz(s)``, ``cz(s)``."""
    lines = []
    for _ in range(examples):
        facts = [f"<{_vec(rng, 2)}> h0(s, {t})" for t in range(steps)]
        lines.append(", ".join(facts + [f"<{_vec(rng, 3)}> hz(s)", f"<{_vec(rng, 3)}> cz(s)"]) + ".")
    return "\n".join(lines) + "\n"


def tree_examples(rng: np.random.Generator, examples: int = 3) -> str:
    """Parse trees: leaves ``h0(s, i)`` marked ``par(i)``, inner nodes ``par(P, C1[, C2])``."""
    tree = ["par(0)", "par(1)", "par(2)", "par(3, 0, 1)", "par(4, 3, 2)", "par(5, 4)"]
    return "".join(", ".join([f"<{_vec(rng, 2)}> h0(s, {i})" for i in range(3)] + tree) + ".\n"
                   for _ in range(examples))


def token_examples(rng: np.random.Generator, examples: int = 3, tokens: int = 3) -> str:
    """Token features ``h0(i)`` and separate queries, keys and values ``q(i)``, ``k(i)``, ``v(i)``."""
    return "".join(", ".join(f"<{_vec(rng, 2)}> {p}({i})" for i in range(tokens) for p in ("h0", "q", "k", "v"))
                   + ".\n" for _ in range(examples))


def _vec(rng: np.random.Generator, dim: int) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in rng.uniform(-1, 1, dim)) + "]"


def module_cases() -> dict[str, tuple[str, str]]:
    """Every module of ``neuralogic.nn.module``, rendered by the reference to text, with a scalar
    readout ``out`` (sigmoid of an average over the module's output atoms) so that each of three
    examples has one query, and examples of the kind the module reads: ``(template, examples)``."""
    import neuralogic.nn.module as M
    from neuralogic.core.constructs.function import Aggregation

    g = dict(output_name="h1", feature_name="h0", edge_name="edge")
    s = dict(output_name="h1", input_name="h0")
    att = dict(output_name="h1", query_name="q", key_name="k", value_name="v")
    rng = np.random.default_rng(0)
    graphs, seqs = graph_examples(rng), sequence_examples(rng)
    trees, tokens = tree_examples(rng), token_examples(rng)
    modules = {  # name: (module, output dimension, output arity, examples)
        "APPNPConv": (M.APPNPConv(k=2, alpha=0.1, **g), 2, 1, graphs),
        "GATv2Conv": (M.GATv2Conv(2, 3, **g), 3, 1, graphs),
        "GCNConv": (M.GCNConv(2, 3, **g), 3, 1, graphs),
        "GINConv": (M.GINConv(2, 3, **g), 3, 1, graphs),
        "SAGEConv": (M.SAGEConv(2, 3, **g), 3, 1, graphs),
        "ResGatedGraphConv": (M.ResGatedGraphConv(2, 3, **g), 3, 1, graphs),
        "RGCNConv": (M.RGCNConv(2, 3, relations=["r1", "r2"], **g), 3, 1, graphs),
        "SGConv": (M.SGConv(2, 3, k=2, **g), 3, 1, graphs),
        "TAGConv": (M.TAGConv(2, 3, k=2, **g), 3, 1, graphs),
        "GINEConv": (M.GINEConv(2, feature_name="h0", edge_name="edge", nn_name="h1"), 2, 1, graphs),
        "GENConv": (M.GENConv(2, 3, **g), 3, 1, graphs),
        "PositionalEncoding": (M.PositionalEncoding(2, 4, **s), 2, 1, graphs),
        "MLP": (M.MLP([2, 3, 2], **s), 2, 1, graphs),
        "Linear": (M.Linear(2, 3, **s), 3, 1, graphs),
        "RNN": (M.RNN(2, 3, output_name="h1", input_name="h0", hidden_0_name="hz"), 3, 2, seqs),
        "GRU": (M.GRU(2, 3, output_name="h1", input_name="h0", hidden_0_name="hz"), 3, 2, seqs),
        "LSTM": (M.LSTM(2, 3, output_name="h1", input_name="h0", hidden_0_name="hz", cell_state_0_name="cz"),
                 3, 2, seqs),
        "RvNN": (M.RvNN(2, output_name="h1", input_name="h0", parent_map_name="par"), 2, 2, trees),
        "Pooling": (M.Pooling("h1", "h0", Aggregation.SUM), 2, 0, graphs),
        "AvgPooling": (M.AvgPooling(**s), 2, 0, graphs),
        "MaxPooling": (M.MaxPooling(**s), 2, 0, graphs),
        "SumPooling": (M.SumPooling(**s), 2, 0, graphs),
        "Transformer": (M.Transformer(2, 1, 4, output_name="h1", src_name="q", tgt_name="k"), 2, 1, tokens),
        "TransformerEncoder": (M.TransformerEncoder(2, 1, 4, **s), 2, 1, tokens),
        "TransformerDecoder": (M.TransformerDecoder(2, 1, 4, encoder_name="q", **s), 2, 1, tokens),
        "Attention": (M.Attention(2, **att), 2, 1, tokens),
        "MultiheadAttention": (M.MultiheadAttention(2, 1, **att), 2, 1, tokens),
        "MetaConv": (M.MetaConv(2, 3, output_name="h1", feature_name="h0", role_name="role", roles=["a", "b"]),
                     3, 1, graphs),
        "MAGNNLinear": (M.MAGNNLinear(2, 3, output_name="h1", feature_name="h0", relation_name="rel",
                                      type_name="typ", meta_paths=["p1", "p2"]), 3, 1, graphs),
        "MAGNNMean": (M.MAGNNMean(output_name="h1", feature_name="h0", relation_name="rel", type_name="typ",
                                  meta_paths=["p1", "p2"]), 2, 1, graphs),
    }
    out = {}
    for name, (module, dim, arity, examples) in modules.items():
        rules = module()  # rendering through a Model() would leave the reference unable to load files
        head = {0: "h1", 1: "h1(X)", 2: "h1(X, T)"}[arity]
        readout = f"{{1,{dim}}} out :- {head}. [aggregation=avg]\nout/0 [activation=sigmoid]"
        out[name] = ("\n".join(str(r) for r in rules) + "\n" + readout + "\n", examples)
    return out
