"""Cross-validated accuracy, lifted vs unlifted training (the lifting paper's Fig. 6).

    python benchmarks/accuracy.py [--quick]

Writes benchmarks/results/accuracy/. See liftnn.bench.accuracy for the set-up.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from liftnn.bench import accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small, fast version")
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = accuracy.run(Path("benchmarks/results/accuracy"), quick=args.quick)
    print(result["text"])


if __name__ == "__main__":
    main()
