"""Time `jindu demo --no-serve` from an empty var/ folder: migrate, collectstatic, generate.

    python bench/demo_build.py [--runs N] [-- extra demo arguments]

Each run is a fresh process on a fresh folder, as `make demo` is the first
time. Prints each run's wall-clock time, the phases of the last run as the
command reports them, and the median.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def one_run(extra: list[str]) -> tuple[float, str]:
    with tempfile.TemporaryDirectory(prefix="jindu-bench-") as var_dir:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("JINDU_") and k != "DJANGO_SETTINGS_MODULE"
        }
        env["JINDU_VAR_DIR"] = var_dir
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "jindu.cli", "demo", "--no-serve", *extra],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"jindu demo failed:\n{result.stderr}")
    return elapsed, result.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="arguments passed on to jindu demo")
    args = parser.parse_args()
    times = []
    log = ""
    for number in range(1, args.runs + 1):
        elapsed, log = one_run(args.extra)
        times.append(elapsed)
        print(f"run {number}: {elapsed:.2f} s", flush=True)
    print("phases of the last run:")
    for line in log.splitlines():
        if "秒" in line:
            print(f"  {line.strip()}")
    print(
        f"demo build (fresh var/, migrate + collectstatic + generate): "
        f"median {statistics.median(times):.2f} s, min {min(times):.2f} s, "
        f"max {max(times):.2f} s over {len(times)} runs"
    )


if __name__ == "__main__":
    main()
