"""The paper's experiments, reproduced and extended (``liftnn bench``).

Each experiment module has ``run(out: Path, quick: bool) -> dict`` writing Markdown,
JSON and (where it has a figure) PNG files under ``out``; every JSON file carries a
``provenance`` block (:func:`provenance`).
"""

from .experiments import EXPERIMENTS, run_experiment
from .provenance import provenance
from .results import data_dir, write_results

__all__ = ["EXPERIMENTS", "data_dir", "provenance", "run_experiment", "write_results"]
