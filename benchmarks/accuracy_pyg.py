"""Test accuracy of the default model, liftnn (lifted) against PyG, 10-fold CV on MUTAG, PTC_MR and NCI1.

    python benchmarks/accuracy_pyg.py [--quick] [--datasets MUTAG,PTC_MR]

Writes benchmarks/results/accuracy/vs_pyg.{md,json}. See liftnn.bench.vs_pyg for the set-up.
`liftnn bench accuracy` runs it too, after the lifted-vs-unlifted experiment.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from liftnn.bench import vs_pyg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="MUTAG only, 20 epochs")
    parser.add_argument("--datasets", help="comma-separated subset of MUTAG,PTC_MR,NCI1")
    args = parser.parse_args()
    names = tuple(args.datasets.split(",")) if args.datasets else None
    print(vs_pyg.run(Path("benchmarks/results/accuracy"), quick=args.quick, datasets=names)["text"])


if __name__ == "__main__":
    main()
