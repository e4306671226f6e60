"""All 70 NCI-GI50 cell-line screens together: 213,612 screenings of 3,830 distinct molecules.

Every line of every ``gi50_screen_<CELL>.txt.gz`` file is one *screening*: a molecule (its
fact list, read by :func:`liftnn.data.nci.read_nci_gi50`) tested on one cell line, labelled
``+``/``-``. A molecule is identified by the exact text of its fact list; the same text in
several files (or twice in one file) is one molecule screened several times.

Two views of the same screenings:

* **samples** (:func:`sample_facts`, :func:`sample_template`): one sample per screening, the
  molecule's facts plus the sample-level fact ``cl_<cell>`` naming its cell line; the zoo
  readout gets one more rule per cell line, ``predict :- {1,1} cl_<cell>`` (a learned offset
  per cell line). Everything below the readout is the same for the screenings of one
  molecule, which dataset-scope lifting collapses.
* **multi-task** (:func:`multitask_facts`, :func:`multitask_template`): one graph per distinct
  molecule with a 70-dimensional output and target :meth:`Screens.tasks`, the share of
  positive screenings of the molecule on each cell line, NaN (masked) where it was not screened.
"""

from __future__ import annotations

import gzip
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .._segments import ranges
from ..logic.dsl import DslTemplate, R, V, settings
from ..logic.facts import FactBase, QuerySet
from ..models import molecule_template
from ..models.zoo import DEFAULT_LAYERS
from .encode import edge_type_predicates, graph_facts, node_type_predicates
from .graphs import GraphSet
from .nci import read_nci_gi50

PATTERN = "gi50_screen_*.txt*"


@dataclass(frozen=True)
class Screens:
    """The screenings of many cell-line files.

    Attributes:
        molecules: one graph per distinct molecule (``y``: share of positive screenings).
        cell_lines: the cell-line names (file names without ``gi50_screen_`` and suffixes).
        molecule: ``int64[S]`` the molecule of each screening (file order, line order).
        cell: ``int64[S]`` the cell line of each screening.
        label: ``float64[S]`` 1.0 for ``+``, 0.0 for ``-``.
    """

    molecules: GraphSet
    cell_lines: tuple[str, ...]
    molecule: np.ndarray
    cell: np.ndarray
    label: np.ndarray

    @property
    def num_samples(self) -> int:
        return int(self.label.shape[0])

    def tasks(self) -> np.ndarray:
        """``float64[M, C]``: mean label of molecule ``m`` on cell line ``c``; NaN where never screened."""
        shape = (self.molecules.num_graphs, len(self.cell_lines))
        total = np.zeros(shape)
        count = np.zeros(shape)
        np.add.at(total, (self.molecule, self.cell), self.label)
        np.add.at(count, (self.molecule, self.cell), 1.0)
        with np.errstate(invalid="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1.0), np.nan)

    def stats(self) -> dict[str, object]:
        return {"samples": self.num_samples, "molecules": self.molecules.num_graphs,
                "cell_lines": len(self.cell_lines), "atoms": self.molecules.num_nodes,
                "positive": int(self.label.sum())}


def cell_predicate(cell: str) -> str:
    """The sample-level fact naming a cell line (``MDA_MB_231_ATCC`` -> ``cl_mda_mb_231_atcc``)."""
    return "cl_" + re.sub(r"[^a-z0-9_]", "_", cell.lower())


def cell_line(path: Path) -> str:
    """The cell line of a screen file (``gi50_screen_MDA_MB_231_ATCC.txt.gz`` -> ``MDA_MB_231_ATCC``)."""
    return re.sub(r"^gi50_screen_|\.txt(\.gz)?$", "", path.name)


def read_gi50_screens(folder: str | Path, cells: int | None = None) -> Screens:
    """Read every ``gi50_screen_<CELL>.txt[.gz]`` file of ``folder`` (the first ``cells`` of them,
    alphabetically, if given). Each distinct molecule is parsed once, by
    :func:`liftnn.data.nci.read_nci_gi50`; a malformed line is reported with its file and line."""
    folder = Path(folder)
    files = sorted(folder.glob(PATTERN))[:cells]
    if not files:
        raise FileNotFoundError(f"{folder}: no {PATTERN} files")
    ids: dict[str, int] = {}
    where: list[str] = []  # file:line of each molecule's first screening
    molecule, cell, label = [], [], []
    for c, path in enumerate(files):
        for lineno, sign, body in _lines(path):
            if ids.setdefault(body, len(ids)) == len(where):
                where.append(f"{path}:{lineno}")
            molecule.append(ids[body])
            cell.append(c)
            label.append(1.0 if sign == "+" else 0.0)
    molecules = _parse(list(ids), where, folder.name)
    screens = Screens(molecules, tuple(cell_line(p) for p in files),
                      np.array(molecule, dtype=np.int64), np.array(cell, dtype=np.int64),
                      np.array(label, dtype=np.float64))
    share = np.nanmean(screens.tasks(), axis=1)
    return replace(screens, molecules=replace(molecules, y=share))


def _lines(path: Path) -> list[tuple[int, str, str]]:
    """``(line number, label sign, fact-list text)`` of every non-empty line."""
    out = []
    with gzip.open(path, "rt") if path.suffix == ".gz" else path.open() as fh:
        for lineno, line in enumerate(fh, start=1):
            line = line.strip()
            if not line:
                continue
            if line[0] not in "+-":
                raise ValueError(f"{path}:{lineno}: a line must start with the label '+' or '-'")
            out.append((lineno, line[0], line[1:].strip()))
    return out


def _parse(bodies: list[str], where: list[str], name: str) -> GraphSet:
    """Parse the distinct molecules with the NCI-GI50 reader (errors point at ``where``)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "molecules.txt"
        path.write_text("".join(f"+ {b}\n" for b in bodies))
        try:
            data = read_nci_gi50(path)
        except ValueError as err:
            m = re.match(rf"{re.escape(str(path))}:(\d+): (.*)", str(err))
            if m is None:
                raise
            raise ValueError(f"{where[int(m.group(1)) - 1]}: {m.group(2)}") from None
    return replace(data, name=f"{name} ({len(bodies)} molecules)")


def repeat_graphs(data: GraphSet, graphs: np.ndarray) -> GraphSet:
    """The graph set listing ``data``'s graphs ``graphs`` in that order, repeats allowed."""
    graphs = np.asarray(graphs, dtype=np.int64)
    uniq, inverse = np.unique(graphs, return_inverse=True)
    base = data.subset(uniq)
    edge_graph = base.graph[base.edge_index[0]]
    by_graph = np.argsort(edge_graph, kind="stable")
    base = replace(base, edge_index=base.edge_index[:, by_graph], edge_type=base.edge_type[by_graph],
                   edge_features=None if base.edge_features is None else base.edge_features[by_graph])
    node_ptr = np.searchsorted(base.graph, np.arange(uniq.size + 1))
    edge_ptr = np.searchsorted(edge_graph[by_graph], np.arange(uniq.size + 1))
    n_nodes, n_edges = np.diff(node_ptr)[inverse], np.diff(edge_ptr)[inverse]
    node_off = np.cumsum(n_nodes) - n_nodes
    node_sel = ranges(node_ptr[inverse], n_nodes)
    edge_sel = ranges(edge_ptr[inverse], n_edges)
    shift = np.repeat(node_off - node_ptr[inverse], n_edges)  # old -> new node id offset of each edge
    return GraphSet(
        node_type=base.node_type[node_sel],
        graph=np.repeat(np.arange(graphs.size), n_nodes),
        edge_index=base.edge_index[:, edge_sel] + shift,
        edge_type=base.edge_type[edge_sel],
        y=base.y[inverse],
        node_types=base.node_types, edge_types=base.edge_types, name=base.name,
        node_features=None if base.node_features is None else base.node_features[node_sel],
        edge_features=None if base.edge_features is None else base.edge_features[edge_sel],
    )


def sample_facts(screens: Screens, samples: np.ndarray) -> tuple[FactBase, QuerySet]:
    """Facts and ``predict`` queries of the given screenings: molecule facts and ``cl_<cell>``."""
    samples = np.asarray(samples, dtype=np.int64)
    data = replace(repeat_graphs(screens.molecules, screens.molecule[samples]), y=screens.label[samples])
    facts, queries = graph_facts(data)
    cells = screens.cell[samples]
    for c, name in enumerate(screens.cell_lines):  # every cell line, so that any shard grounds the template
        facts.add((cell_predicate(name), 0), np.flatnonzero(cells == c)[:, None])
    return facts, queries


def sample_template(screens: Screens, model: str = "gcn", layers: int | None = None, dim: int = 10,
                    activation: str = "sigmoid") -> DslTemplate:
    """The zoo ``model`` with one readout offset per cell line, ``predict :- {1,1} cl_<cell>``."""
    return cell_line_template(node_type_predicates(screens.molecules), edge_type_predicates(screens.molecules),
                              screens.cell_lines, model, layers, dim, activation)


def cell_line_template(atoms: list[str], bonds: list[str], cell_lines: tuple[str, ...], model: str = "gcn",
                       layers: int | None = None, dim: int = 10, activation: str = "sigmoid") -> DslTemplate:
    """:func:`sample_template` from the atom and bond type predicates and the cell lines."""
    t = molecule_template(model, atoms, bonds, layers, dim, activation)
    for cell in cell_lines:
        t += R.predict[1, 1] <= getattr(R, cell_predicate(cell))()
    return t


def multitask_facts(screens: Screens, molecules: np.ndarray) -> tuple[FactBase, QuerySet]:
    """Facts and ``predict`` queries (targets: NaN, see :meth:`Screens.tasks`) of the given molecules."""
    data = screens.molecules.subset(np.asarray(molecules, dtype=np.int64))
    facts, queries = graph_facts(data)
    queries.target[:] = np.nan
    return facts, queries


def multitask_template(screens: Screens, model: str = "gcn", layers: int | None = None, dim: int = 10,
                       activation: str = "sigmoid") -> DslTemplate:
    """The zoo ``model`` with a ``{C, dim}`` readout: one output per cell line."""
    return tasks_template(node_type_predicates(screens.molecules), edge_type_predicates(screens.molecules),
                          len(screens.cell_lines), model, layers, dim, activation)


def tasks_template(atoms: list[str], bonds: list[str], c: int, model: str = "gcn", layers: int | None = None,
                   dim: int = 10, activation: str = "sigmoid") -> DslTemplate:
    """:func:`multitask_template` from the atom and bond type predicates and the number ``c`` of tasks."""
    t = molecule_template(model, atoms, bonds, layers, dim, activation)
    t.rules = [rule for rule in t.rules if rule.head.predicate != "predict"]
    last = getattr(R, f"h{DEFAULT_LAYERS[model] if layers is None else layers}")
    t += (R.predict[c, dim] <= last(V.X)) | settings(aggregation="avg")
    readout = t.predicates.get(("predict", 0))
    if readout is not None and readout.offset is not None:  # a readout bias (gine): one per task
        readout.offset = replace(readout.offset, shape=(c,), init=None)
    return t
