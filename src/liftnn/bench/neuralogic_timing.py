"""Lifted NeuraLogic per-sample training on a graph set: Table 1's reference column.

The reference system (NeuraLogic, Java, driven through the ``neuralogic`` package) trains
the zoo model that liftnn trains: :func:`liftnn.models.molecule_template` rendered to
NeuraLogic's text syntax, over the facts of :func:`liftnn.data.graph_facts` written as
one example per graph and one query ``t predict.`` per graph (``t`` its label).

Settings, for the same semantics and NeuraLogic's fastest form of it:

* value-based compression on (``iso_value_compression``: neurons with equal values under
  one random initialisation, to 12 digits, are merged within each sample: the lifting
  paper's non-exact algorithm, NeuraLogic's default);
* chain pruning off: it drops the activation of single-input neurons, which changes the
  function (its identity-only form changes nothing on the zoo models: same neuron count);
* squared error per sample, ``E = (y - t)²``; Adam (betas 0.9, 0.999, eps 1e-8) with
  learning rate ``lr``; one update per graph (``batch_size = 1``); doubles;
* the JVM runs with ``-XX:+UseParallelGC`` (NeuraLogic's fastest collector here) and
  NeuraLogic's ``-Xms1g``. The JVM starts once per process: :func:`configure_jvm` puts
  the flag into ``neuralogic``'s options before anything starts it, and
  :attr:`NeuraLogicTrainer.gc_flag` says whether the running JVM has it (read from the
  JVM's own input arguments).

Timing: :attr:`NeuraLogicTrainer.build_seconds` is NeuraLogic's parsing and template
build plus its dataset build (grounding, neuralization, compression), after a warm-up
build on the first few graphs (class loading, once per process); writing the text files
is :attr:`~NeuraLogicTrainer.export_seconds`. :meth:`NeuraLogicTrainer.epoch` is one Java
call that trains one epoch over all graphs (the training strategy's ``learnSamples`` with
one epoch and batch size 1, on a sample list built once) and the mean error, aggregated in
Java too (reading it back per sample through jpype costs 20% of an MDA epoch);
:attr:`~NeuraLogicTrainer.last_epoch_seconds` is the training call alone. The first epochs
of a process also pay the JIT's warm-up: a caller timing epochs discards the first (and
takes a median of the rest).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..data import graph_facts
from ..data.encode import edge_type_predicates, node_type_predicates
from ..data.graphs import GraphSet
from ..logic.facts import FactBase, QuerySet
from ..models import molecule_template

GC_FLAG = "-XX:+UseParallelGC"
WARMUP_GRAPHS = 8
_warmed: set[str] = set()


def neuralogic_available() -> str | None:
    """``None`` when NeuraLogic can run here, else why not (no package, no Java)."""
    try:
        import jpype
        import neuralogic  # noqa: F401
    except ImportError as e:
        return f"the neuralogic package is not installed ({e}); the [test] extra installs it"
    if jpype.isJVMStarted():
        return None
    try:
        jpype.getDefaultJVMPath()
    except Exception as e:  # jpype's JVMNotFoundException and platform errors
        return f"NeuraLogic needs a Java runtime (17+), none found: {e}"
    return None


def configure_jvm() -> None:
    """Make the JVM that ``neuralogic`` starts next run with :data:`GC_FLAG` (any other
    collector flag is dropped: the JVM refuses two). Starts nothing; without effect once the
    JVM runs."""
    import neuralogic.setup as setup

    options = [o for o in setup.jvm_options if not (o.startswith("-XX:+Use") and o.endswith("GC"))]
    setup.set_jvm_options([*options, GC_FLAG])


def jvm_arguments() -> list[str]:
    """The running JVM's input arguments, starting it (with :data:`GC_FLAG`, in a scratch
    working directory) if none runs."""
    import jpype
    import neuralogic

    if not neuralogic.is_initialized():
        if jpype.isJVMStarted():
            raise RuntimeError("a JVM was started outside neuralogic in this process; NeuraLogic cannot use it")
        configure_jvm()
        scratch = tempfile.mkdtemp(prefix="liftnn-neuralogic-jvm-")
        atexit.register(shutil.rmtree, scratch, True)
        with _inside(Path(scratch)):
            neuralogic.initialize(started_check=False)
    bean = jpype.JClass("java.lang.management.ManagementFactory").getRuntimeMXBean()
    return [str(a) for a in bean.getInputArguments()]


@contextlib.contextmanager
def _inside(folder: Path) -> Iterator[None]:
    """Run in ``folder`` (the process's working directory is restored after)."""
    here = os.getcwd()
    folder.mkdir(parents=True, exist_ok=True)
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(here)


def _java_dir() -> Path:
    """The JVM's working directory (``user.dir``, fixed when it started). NeuraLogic writes a
    ``target/`` folder there and fails when the process runs elsewhere: it runs in this one."""
    import jpype

    return Path(str(jpype.JClass("java.lang.System").getProperty("user.dir")))


# ---------------------------------------------------------------- files


def _fact_strings(facts: FactBase) -> tuple[np.ndarray, np.ndarray]:
    """``(example id, fact text)`` of every fact, sorted by example (vectorised per relation)."""
    names = np.asarray(facts.symbols.names, dtype=object)
    values = np.asarray([f"{_value_text(v)} " for v in facts.values] + [""], dtype=object)  # [-1]: default 1.0
    examples, texts = [], []
    for (pred, arity), table in facts.tables.items():
        args = names[table[:, 1]]
        for k in range(2, 1 + arity):
            args = args + ", " + names[table[:, k]]
        texts.append(values[facts.value_ids[(pred, arity)]] + f"{pred}(" + args + ")")
        examples.append(table[:, 0])
    ex = np.concatenate(examples)
    order = np.argsort(ex, kind="stable")
    return ex[order], np.concatenate(texts)[order]


def _value_text(value: np.ndarray) -> str:
    v = np.asarray(value, dtype=np.float64).ravel()
    return repr(float(v[0])) if v.size == 1 else "[" + ", ".join(repr(float(x)) for x in v) + "]"


def write_examples(facts: FactBase, queries: QuerySet, folder: Path) -> tuple[Path, Path]:
    """``examples.txt`` (one line of facts per example) and ``queries.txt`` (``target
    predicate(args).`` per query, in example order) in NeuraLogic's syntax."""
    ex, texts = _fact_strings(facts)
    bounds = np.searchsorted(ex, np.arange(facts.num_examples + 1))
    lines = [", ".join(texts[bounds[i]:bounds[i + 1]]) + "." for i in range(facts.num_examples)]
    names = facts.symbols.names
    qlines = []
    for (pred, _), row, target in zip(queries.signatures, queries.rows, queries.target, strict=True):
        atom = pred if row.size == 1 else f"{pred}({', '.join(names[c] for c in row[1:])})"
        qlines.append(f"{float(target)!r} {atom}." if np.isfinite(target) else f"{atom}.")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "examples.txt").write_text("\n".join(lines) + "\n")
    (folder / "queries.txt").write_text("\n".join(qlines) + "\n")
    return folder / "examples.txt", folder / "queries.txt"


# ---------------------------------------------------------------- trainer


class NeuraLogicTrainer:
    """A built NeuraLogic model and dataset, ready for per-sample epochs.

    Attributes:
        build_seconds: NeuraLogic's template build + dataset build (grounding,
            neuralization, compression), measured after a per-process warm-up.
        export_seconds: writing the template, examples and queries as text.
        neurons: neurons of all samples after NeuraLogic's compression.
        gc_flag: whether the running JVM has :data:`GC_FLAG`.
        last_epoch_seconds: the training call of the last :meth:`epoch` (without the
            aggregation of its errors).
    """

    def __init__(self, model: Any, built: Any, folder: Path, build_seconds: float, export_seconds: float,
                 gc_flag: bool) -> None:
        import jpype

        self._model = model
        self._folder = folder
        self._samples = jpype.java.util.ArrayList([s._java_sample for s in built])
        self._results = jpype.JClass("cz.cvut.fel.ida.learning.results.ClassificationResults")
        self.num_samples = len(built)
        self.build_seconds = build_seconds
        self.export_seconds = export_seconds
        self.neurons = int(sum(s._java_sample.query.evidence.getNeuronCount() for s in built))
        self.gc_flag = gc_flag
        self.last_epoch_seconds = float("nan")

    def epoch(self) -> float:
        """One per-sample epoch: every sample once, in order, one Adam step each, in one Java
        call. Returns the mean of the samples' errors ``(y - t)²``, each taken before its step."""
        with _inside(_java_dir()):
            t0 = time.perf_counter()
            results = self._model._strategy.learnSamples(self._samples, 1, 1)
            self.last_epoch_seconds = time.perf_counter() - t0
            return self._mean_error(results)

    def loss(self) -> float:
        """The mean error ``(y - t)²`` over all samples at the current weights (no training)."""
        with _inside(_java_dir()):
            return self._mean_error(self._model._strategy.validateSamples(self._samples, 1))

    def _mean_error(self, results: Any) -> float:
        """The mean of the results' errors, aggregated in Java (NeuraLogic's error aggregation
        is the average; ``ClassificationResults`` computes it, with binary metrics beside)."""
        return float(self._results(results, self._model._settings.settings).error.value)

    def outputs(self) -> np.ndarray:
        """``float64[samples]``: the current outputs of every sample (no training)."""
        with _inside(_java_dir()):
            results = self._model._strategy.evaluateSamples(self._samples, 1)
            return np.array([float(r.value) for r in results])

    def weights(self) -> dict[str, np.ndarray]:
        """The learnable weights by NeuraLogic's name (``w<index>``, liftnn's labels too)."""
        state = self._model.state_dict()
        return {state["weight_names"][i]: np.asarray(v, dtype=np.float64) for i, v in state["weights"].items()}

    def close(self) -> None:
        """Remove the scratch folder of the text files."""
        shutil.rmtree(self._folder, ignore_errors=True)


def _build(template: Path, examples: Path, queries: Path, lr: float, seed: int) -> tuple[Any, Any]:
    import neuralogic
    from neuralogic.core import Model, Settings
    from neuralogic.dataset import FileDataset
    from neuralogic.nn.loss import MSE
    from neuralogic.nn.optim import Adam

    neuralogic.manual_seed(seed)
    model = Model(model_file=str(template))
    model.build(Settings(iso_value_compression=True, chain_pruning=False, optimizer=Adam(lr=lr),
                         error_function=MSE()))
    built = model.build_dataset(FileDataset(examples_file=str(examples), queries_file=str(queries)))
    return model, built


def _head(examples: Path, queries: Path, n: int) -> tuple[Path, Path]:
    """Copies of the first ``n`` examples and queries, in a sibling folder ``head``."""
    head = examples.parent.parent / "head"
    head.mkdir(exist_ok=True)
    for path in (examples, queries):
        (head / path.name).write_text("\n".join(path.read_text().splitlines()[:n]) + "\n")
    return head / examples.name, head / queries.name


def neuralogic_trainer(data: GraphSet, model: str, layers: int, dim: int, lr: float = 0.01,
                       seed: int = 0) -> NeuraLogicTrainer:
    """NeuraLogic, built on ``data`` with the zoo ``model`` (``layers`` layers, width ``dim``),
    per-sample Adam at ``lr``; weights drawn by NeuraLogic from ``seed``. Raises
    :class:`RuntimeError` when NeuraLogic cannot run here (:func:`neuralogic_available`)."""
    reason = neuralogic_available()
    if reason is not None:
        raise RuntimeError(reason)
    gc_flag = GC_FLAG in jvm_arguments()
    if not gc_flag:
        warnings.warn(f"the JVM was started without {GC_FLAG} (before liftnn could configure it); "
                      "NeuraLogic runs with the JVM's default collector", RuntimeWarning, stacklevel=2)
    from neuralogic.logging import clear_handlers

    clear_handlers()
    folder = Path(tempfile.mkdtemp(prefix="liftnn-neuralogic-"))
    t0 = time.perf_counter()
    template = molecule_template(model, node_type_predicates(data), edge_type_predicates(data), layers, dim)
    # NeuraLogic scans the template's folder for default file names: the template is alone in its own
    template_file = folder / "tpl" / "template.txt"
    template_file.parent.mkdir()
    template_file.write_text(str(template) + "\n")
    facts, queries = graph_facts(data)
    examples, query_file = write_examples(facts, queries, folder / "samples")
    export_seconds = time.perf_counter() - t0
    try:
        with _inside(_java_dir()):
            if model not in _warmed:  # class loading and first JIT, once per process and model
                _build(template_file, *_head(examples, query_file, min(WARMUP_GRAPHS, facts.num_examples)), lr, seed)
                _warmed.add(model)
            t0 = time.perf_counter()
            nl_model, built = _build(template_file, examples, query_file, lr, seed)
            build_seconds = time.perf_counter() - t0
    except Exception as e:  # Java exceptions, surfaced by jpype
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"NeuraLogic could not build {model} on {data.name or 'the graphs'}: {e}") from e
    return NeuraLogicTrainer(nl_model, built, folder, build_seconds, export_seconds, gc_flag)
