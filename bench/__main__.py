"""`python -m bench [--quick] [NAME ...]`: run every `bench/bench_*.py` module's `main()` in turn.

Each module measures one area and prints its own table; `--quick` is passed to the modules whose
`main` takes a `quick` argument (smaller data, fewer repetitions). Big data goes to bench/out/
(ignored by git).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import time
import traceback
from pathlib import Path


def modules(names: list[str]) -> list[str]:
    found = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    if not names:
        return found
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in names]
    unknown = [n for n in wanted if n not in found]
    if unknown:
        raise SystemExit(f"unknown bench {', '.join(unknown)}; known: {', '.join(found)}")
    return wanted


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer repetitions")
    parser.add_argument("names", nargs="*", help="bench modules to run (default: all), e.g. knowledge")
    args = parser.parse_args()
    failed = []
    for name in modules(args.names):
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            run = module.main
            run(quick=args.quick) if "quick" in inspect.signature(run).parameters else run()
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"({name}: {time.perf_counter() - started:.0f} s)", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
