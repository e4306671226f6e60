"""Template pipeline benchmark: grounding + neuralization + exact lifting.

GCN and GIN (zoo templates, dim 10) on the 2946 NCI-GI50 MDA_MB_231_ATCC
molecules, and KBE on Kinships with all of the paper's 20,929 labelled queries
(its own encoding, ``kbc/kinships/neuralifting_lrnn``). Medians of repeats.

    python benchmarks/bench_templates.py [--repeats 3]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import liftnn
from liftnn.bench import write_results
from liftnn.data import graph_facts, load_graphs
from liftnn.data.encode import edge_type_predicates, node_type_predicates
from liftnn.engine.timing import timed
from liftnn.logic import build, load_dataset
from liftnn.models import kbe_template, molecule_template

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared/data"


def measure(name: str, load, template, repeats: int) -> dict:
    (facts, queries), load_s = timed(load, repeats)
    net, build_s = timed(lambda: build(template, facts, queries), repeats)
    row = {"case": name, "load_s": load_s, "ground_s": net.stats["ground_seconds"],
           "neuralize_s": net.stats["neuralize_seconds"], "build_s": build_s, "neurons": net.graph.num_nodes,
           "edges": net.graph.num_edges, "samples": net.graph.num_samples}
    for scope in ("sample", "dataset"):
        (lifted, report), lift_s = timed(lambda s=scope: liftnn.compress(net.graph, scope=s), repeats)
        row[scope] = {"neurons": lifted.num_nodes, "ratio": report.ratio, "lift_s": lift_s}
    row["total_s"] = load_s + build_s + row["sample"]["lift_s"]
    liftnn.verify(net.graph, lifted, trials=1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/templates"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    mda = DATA / "molecules/nci_gi50/gi50_screen_MDA_MB_231_ATCC.txt.gz"
    graphs = load_graphs(mda)
    kin = DATA / "kbc/kinships/neuralifting_lrnn"
    kin_facts = load_dataset(kin / "examples", kin / "queries")
    kin_entities = sorted({n for n in kin_facts[0].symbols.names if n.startswith("person")})
    kin_relations = sorted({n for n in kin_facts[0].symbols.names if n.startswith("term")})
    cases = [
        (f"MDA GCN (2 layers, {graphs.num_graphs} molecules)", lambda: graph_facts(load_graphs(mda)),
         molecule_template("gcn", node_type_predicates(graphs), edge_type_predicates(graphs), dim=10)),
        (f"MDA GIN (5 layers, {graphs.num_graphs} molecules)", lambda: graph_facts(load_graphs(mda)),
         molecule_template("gin", node_type_predicates(graphs), edge_type_predicates(graphs), dim=10)),
        ("Kinships KBE (20,929 queries)", lambda: load_dataset(kin / "examples", kin / "queries"),
         kbe_template(kin_entities, kin_relations, dim=10)),
    ]
    rows = [measure(name, load, tpl, args.repeats) for name, load, tpl in cases]
    lines = ["| case | load s | ground s | neuralize s | neurons | sample-lifted | dataset-lifted | lift s "
             "(sample) | load+build+lift s |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['load_s']:.2f} | {r['ground_s']:.2f} | {r['neuralize_s']:.2f} | {r['neurons']:,} "
            f"| {r['sample']['neurons']:,} ({r['sample']['ratio']:.1f}x) | {r['dataset']['neurons']:,} "
            f"({r['dataset']['ratio']:.1f}x) | {r['sample']['lift_s']:.2f} | {r['total_s']:.2f} |")
    table = "\n".join(lines)
    print(table)
    out = Path(args.out)
    write_results(out, "templates", table, rows)


if __name__ == "__main__":
    main()
