"""Value lifting versus significant digits (the lifting paper's Fig. 4/5).

    python benchmarks/digits.py [--quick]

Writes benchmarks/results/digits/{digits.md,digits.json,digits.png}.
See liftnn.bench.digits for the set-up.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from liftnn.bench import digits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small, fast version")
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = digits.run(Path("benchmarks/results/digits"), quick=args.quick)
    print(result["text"])


if __name__ == "__main__":
    main()
