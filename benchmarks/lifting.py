"""Exact lifting ratios of a 2-layer GCN over all 70 NCI-GI50 sets.

    python benchmarks/lifting.py [--quick]

Writes benchmarks/results/lifting/. See liftnn.bench.lifting for the set-up.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from liftnn.bench import lifting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small, fast version")
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = lifting.run(Path("benchmarks/results/lifting"), quick=args.quick)
    print(result["text"])


if __name__ == "__main__":
    main()
