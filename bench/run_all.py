"""Run every benchmark in turn: speed (bench/speed.py) then accuracy (bench/accuracy.py).

Usage: python bench/run_all.py [--write]   (``make bench`` runs it)
``--write`` lets each benchmark update its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    a = ap.parse_args(argv)
    failed = []
    for script in ("speed.py", "accuracy.py"):
        args = [sys.executable, str(HERE / script)]
        if a.write and "--write" in _options(script):
            args.append("--write")
        print(f"== bench/{script}", flush=True)
        if subprocess.run(args, check=False).returncode != 0:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _options(script: str) -> str:
    """The --help text of a benchmark (to pass only the options it knows)."""
    out = subprocess.run([sys.executable, str(HERE / script), "--help"],
                         capture_output=True, text=True, check=False)
    return out.stdout


if __name__ == "__main__":
    raise SystemExit(main())
