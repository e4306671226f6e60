"""Print the test count and durations of a CI run from pytest's JUnit XML report.

    python .ci/summary.py REPORT.xml TOTAL_SECONDS
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def main(report: str, total_seconds: str) -> None:
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    print(f"CI: {counts['tests']} tests ({passed} passed, {counts['skipped']} skipped, {counts['failures']} failed, "
          f"{counts['errors']} errors); tests {float(suite.get('time', 0)):.0f} s, whole run {total_seconds} s")


if __name__ == "__main__":
    main(*sys.argv[1:])
