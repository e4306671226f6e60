"""liftnn beside NeuraLogic (PyNeuraLogic, needs Java) on the Mutagenesis template it ships.

    python benchmarks/neuralogic_compare.py [--quick]

Writes benchmarks/results/neuralogic_compare/. See liftnn.bench.neuralogic_compare.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from liftnn.bench import neuralogic_compare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small, fast version")
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = neuralogic_compare.run(Path("benchmarks/results/neuralogic_compare"), quick=args.quick)
    print(result["text"])


if __name__ == "__main__":
    main()
