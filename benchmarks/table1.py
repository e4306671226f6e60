"""Table 1 of the lifting paper, extended: epoch times of liftnn vs PyG, JAX and NeuraLogic.

    python benchmarks/table1.py [--quick] [--models gcn,gin] [--regimes per-sample,mini-batch-32,full]
                                [--frameworks liftnn,pyg,...] [--repeats 10] [--memory] [--json]

See :mod:`liftnn.bench.table1` for the protocol; results go to benchmarks/results/table1/.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from liftnn.bench import table1


def _list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 molecules, two repeats")
    parser.add_argument("--models", type=_list, help="subset of gcn,sage,gin")
    parser.add_argument("--regimes", type=_list, help="subset of per-sample,mini-batch-32,full")
    parser.add_argument("--frameworks", type=_list, help="subset of " + ",".join(table1.FRAMEWORKS))
    parser.add_argument("--repeats", type=int, help="timed epochs per cell (default 10)")
    parser.add_argument("--memory", action="store_true", help="peak memory of per-sample GIN training")
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON object")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "results/table1"))
    args = parser.parse_args()
    result = table1.run(Path(args.out), quick=args.quick, models=args.models, regimes=args.regimes,
                        frameworks=args.frameworks, repeats=args.repeats, memory=args.memory)
    print(json.dumps({"rows": result["rows"], "memory": result.get("memory")}, default=float) if args.json
          else result["text"])
