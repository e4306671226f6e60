"""Print the fidelity suite as a table: case, neurons ours / reference, max |Δ output|, max |Δ gradient|.

The same comparisons as ``test_fidelity.py`` (which asserts them), for reading:

    python tests/logic/fidelity_table.py            # needs the [test] extra and Java
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fidelity import Comparison, compare
from fidelity_cases import MUTAGENESIS_VARIANTS, bundled_cases, head_files, module_cases, mutagenesis_case
from test_fidelity import BONDS, ELEMENTS, MODULE_REFERENCE_FAILS, MODULE_UNSUPPORTED, REFERENCE_REJECTS

from liftnn.models import molecule_template


def rows(tmp: Path) -> list[Comparison]:
    out = []
    folders = iter(range(10**6))

    def folder_() -> Path:
        folder = tmp / str(next(folders))
        folder.mkdir()
        return folder

    for case in bundled_cases():
        out.append(compare(case.name, case.template, *head_files(case, folder_())))
    for variant in MUTAGENESIS_VARIANTS:
        if variant not in REFERENCE_REJECTS:
            case = mutagenesis_case(variant)
            out.append(compare(case.name, case.template, *head_files(case, folder_())))
    for name, (template, examples) in sorted(module_cases().items()):
        if name in MODULE_REFERENCE_FAILS or name in MODULE_UNSUPPORTED:
            continue
        folder = folder_()
        (folder / f"{name}.txt").write_text(template)
        (folder / "examples.txt").write_text(examples)
        (folder / "queries.txt").write_text("1.0 out.\n0.0 out.\n1.0 out.\n")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.append(compare(f"module/{name}", folder / f"{name}.txt", folder / "examples.txt",
                               folder / "queries.txt"))
    case = mutagenesis_case("template.txt")
    for model in ("gcn", "gin", "gine", "gcn_bonds", "sage"):
        folder = folder_()
        files = head_files(case, folder)
        path = folder / "zoo.txt"
        path.write_text(str(molecule_template(model, ELEMENTS, BONDS, layers=1 if model == "gin" else 2, dim=3)) + "\n")
        out.append(compare(f"zoo/{model}", path, *files))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        table = rows(Path(tmp))
    print("| case | neurons ours / reference | max abs Δ output | max abs Δ gradient |")
    print("|---|---|---|---|")
    for r in table:
        grad = "-" if r.d_grad != r.d_grad else f"{r.d_grad:.1e}"
        print(f"| {r.name} | {r.ours:,} / {r.theirs:,} | {r.d_output:.1e} | {grad} |")


if __name__ == "__main__":
    main()
