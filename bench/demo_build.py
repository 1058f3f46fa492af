"""Time `jindu demo --no-serve` from an empty var/ folder: migrate, collectstatic, generate.

    python bench/demo_build.py [--runs N] [-- extra demo arguments]

Each run is a fresh process on a fresh folder, as `make demo` is the first
time. Prints each run's wall-clock and CPU time, the phases of the last run as
the command reports them, and the medians.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(extra: list[str]) -> tuple[float, float, str]:
    with tempfile.TemporaryDirectory(prefix="jindu-bench-") as var_dir:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("JINDU_") and k != "DJANGO_SETTINGS_MODULE"
        }
        env["JINDU_VAR_DIR"] = var_dir
        started, cpu_before = time.perf_counter(), children_cpu()
        result = subprocess.run(
            [sys.executable, "-m", "jindu.cli", "demo", "--no-serve", *extra],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed, cpu = time.perf_counter() - started, children_cpu() - cpu_before
    if result.returncode != 0:
        sys.exit(f"jindu demo failed:\n{result.stderr}")
    return elapsed, cpu, result.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="arguments passed on to jindu demo")
    args = parser.parse_args()
    times, cpus = [], []
    log = ""
    for number in range(1, args.runs + 1):
        elapsed, cpu, log = one_run(args.extra)
        times.append(elapsed)
        cpus.append(cpu)
        print(f"run {number}: {elapsed:.2f} s wall, {cpu:.2f} s CPU", flush=True)
    print("phases of the last run:")
    for line in log.splitlines():
        if "秒" in line:
            print(f"  {line.strip()}")
    print(
        f"demo build (fresh var/, migrate + collectstatic + generate): "
        f"median {statistics.median(times):.2f} s, min {min(times):.2f} s, "
        f"max {max(times):.2f} s over {len(times)} runs; "
        # CPU time hardly changes when other work shares the machine; wall time does.
        f"CPU median {statistics.median(cpus):.2f} s"
    )


if __name__ == "__main__":
    main()
