"""``oversight --help`` against ``python -c pass`` (issue 25 item 2, ADR 0031).

The help must answer in under half a second; what it costs beyond starting Python is
what the CLI imports before it can print. Both are run ``BENCH_CLI_RUNS`` times (default
15), alternately, in fresh processes of this interpreter, in the same run: the median of
each, and their ratio, go to ``benchmarks/results/cli_help.json``, in wall time and in
CPU time (user and system, of the child: a busy machine stretches the wall time of both,
hardly their CPU time). The ratio is what the code decides.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "cli_help.json"
ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_CLI_RUNS", "15"))
LIMIT_SECONDS = 0.5

BARE = [sys.executable, "-c", "pass"]
HELP = [sys.executable, "-c", "from oversight.cli import main; main(['--help'])"]


def _once(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    _once(BARE), _once(HELP)  # warm the file cache: every later run starts alike
    bare, help_ = [], []
    for _ in range(RUNS):
        bare.append(_once(BARE))
        help_.append(_once(HELP))
    results: dict[str, float | int] = {"runs": RUNS, "limit_s": LIMIT_SECONDS}
    for index, clock in enumerate(("wall", "cpu")):
        base = statistics.median(run[index] for run in bare)
        shown = statistics.median(run[index] for run in help_)
        results[f"python_c_pass_{clock}_s"] = base
        results[f"oversight_help_{clock}_s"] = shown
        results[f"ratio_{clock}"] = shown / base
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    within = "within" if results["oversight_help_wall_s"] <= LIMIT_SECONDS else "OVER"
    print(
        f"oversight --help: {results['oversight_help_wall_s'] * 1000:.0f} ms wall, "
        f"{results['oversight_help_cpu_s'] * 1000:.0f} ms CPU (median of {RUNS}); "
        f"python -c pass: {results['python_c_pass_wall_s'] * 1000:.0f} ms wall, "
        f"{results['python_c_pass_cpu_s'] * 1000:.0f} ms CPU; ratio "
        f"{results['ratio_wall']:.1f} x wall, {results['ratio_cpu']:.1f} x CPU; "
        f"{within} the {LIMIT_SECONDS * 1000:.0f} ms limit"
    )


if __name__ == "__main__":
    main()
