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


def module_templates() -> dict[str, str]:
    """Every module of ``neuralogic.nn.module``, rendered by the reference to text, with a scalar
    readout ``out`` (sigmoid of an average over the module's output atoms) so that each example
    has one query."""
    import neuralogic.nn.module as M
    from neuralogic.core.constructs.function import Aggregation

    g = dict(output_name="h1", feature_name="h0", edge_name="edge")
    s = dict(output_name="h1", input_name="h0")
    modules = {
        "APPNPConv": (M.APPNPConv(k=2, alpha=0.1, **g), 2),
        "GATv2Conv": (M.GATv2Conv(2, 3, **g), 3),
        "GCNConv": (M.GCNConv(2, 3, **g), 3),
        "GINConv": (M.GINConv(2, 3, **g), 3),
        "SAGEConv": (M.SAGEConv(2, 3, **g), 3),
        "ResGatedGraphConv": (M.ResGatedGraphConv(2, 3, **g), 3),
        "RGCNConv": (M.RGCNConv(2, 3, relations=["r1", "r2"], **g), 3),
        "SGConv": (M.SGConv(2, 3, k=2, **g), 3),
        "TAGConv": (M.TAGConv(2, 3, k=2, **g), 3),
        "GINEConv": (M.GINEConv(2, feature_name="h0", edge_name="edge", nn_name="h1"), 2),
        "GENConv": (M.GENConv(2, 3, **g), 3),
        "PositionalEncoding": (M.PositionalEncoding(2, 4, **s), 2),
        "MLP": (M.MLP([2, 3, 2], **s), 2),
        "Linear": (M.Linear(2, 3, **s), 3),
        "RNN": (M.RNN(2, 3, output_name="h1", input_name="h0", hidden_0_name="h0"), 3),
        "GRU": (M.GRU(2, 3, output_name="h1", input_name="h0", hidden_0_name="h0"), 3),
        "LSTM": (M.LSTM(2, 3, output_name="h1", input_name="h0", hidden_0_name="h0", cell_state_0_name="h0"), 3),
        "RvNN": (M.RvNN(2, output_name="h1", input_name="h0", parent_map_name="edge"), 2),
        "Pooling": (M.Pooling("h1", "h0", Aggregation.SUM), 2),
        "AvgPooling": (M.AvgPooling(**s), 2),
        "MaxPooling": (M.MaxPooling(**s), 2),
        "SumPooling": (M.SumPooling(**s), 2),
        "Transformer": (M.Transformer(2, 1, 4, output_name="h1", src_name="h0", tgt_name="h0"), 2),
        "TransformerEncoder": (M.TransformerEncoder(2, 1, 4, **s), 2),
        "TransformerDecoder": (M.TransformerDecoder(2, 1, 4, encoder_name="h0", **s), 2),
        "Attention": (M.Attention(2, output_name="h1", query_name="h0", key_name="h0", value_name="h0"), 2),
        "MultiheadAttention": (M.MultiheadAttention(2, 1, output_name="h1", query_name="h0", key_name="h0",
                                                    value_name="h0"), 2),
        "MetaConv": (M.MetaConv(2, 3, output_name="h1", feature_name="h0", role_name="role", roles=["a", "b"]), 3),
        "MAGNNLinear": (M.MAGNNLinear(2, 3, output_name="h1", feature_name="h0", relation_name="rel",
                                      type_name="typ", meta_paths=["p1", "p2"]), 3),
        "MAGNNMean": (M.MAGNNMean(output_name="h1", feature_name="h0", relation_name="rel", type_name="typ",
                                  meta_paths=["p1", "p2"]), 2),
    }
    out = {}
    for name, (module, dim) in modules.items():
        rules = module()  # rendering through a Model() would leave the reference unable to load files
        arity = 0 if name.endswith("Pooling") or name == "Pooling" else 1
        head = "h1" if arity == 0 else "h1(X)"
        readout = f"{{1,{dim}}} out :- {head}. [aggregation=avg]\nout/0 [activation=sigmoid]"
        out[name] = "\n".join(str(r) for r in rules) + "\n" + readout + "\n"
    return out
