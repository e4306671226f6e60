"""Table 1 of the lifting paper, extended: epoch times of liftnn vs PyTorch Geometric.

    python benchmarks/table1.py [--quick]

See :mod:`liftnn.bench.table1` for the setup; results go to benchmarks/results/table1/.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from liftnn.bench import table1

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 molecules, one repeat")
    args = parser.parse_args()
    print(table1.run(Path(__file__).resolve().parent / "results/table1", quick=args.quick)["text"])
