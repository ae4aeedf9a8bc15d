"""Loader fuzz: seeded mutations of every shared tokenizer file either load and encode a FLORES
line (native == reference where both exist) or raise a ``TokbenchError`` naming the file, within
a time bound and a memory bound (``RLIMIT_AS`` in a worker process).

The default suite runs a few mutations per tokenizer; ``slow`` runs 40 per tokenizer. As a
script it prints per-tokenizer counts (and can run against another checkout via PYTHONPATH)::

    python tests/test_loader_fuzz.py --count 40 [--seed 0] [--show escape,hang]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from bad_input_mutations import OUTCOMES, fuzz_text, mutate, run_batch
from shared_files import SHARED_TOKENIZERS

BAD = ("vague", "escape", "memory", "hang", "crash", "mismatch")


def fuzz_tokenizer(data_dir: Path, name: str, count: int, seed: int, work: Path,
                   env: dict[str, str] | None = None) -> list[dict]:
    """``count`` seeded mutations of one shared tokenizer, each checked in the worker."""
    source = data_dir / "tokenizers" / name
    cases = []
    for k in range(count):
        rng = random.Random(f"{seed}:{name}:{k}")
        path, what = mutate(source, work / f"{k}", rng)
        cases.append((path, what))
    results = run_batch([p for p, _ in cases], fuzz_text(data_dir), env=env)
    for (_path, what), result in zip(cases, results, strict=True):
        result["mutation"] = what
        result["tokenizer"] = name
    return results


@pytest.mark.parametrize("name", SHARED_TOKENIZERS)
def test_mutated_files_load_or_fail_cleanly(shared_data: Path, tmp_path: Path, name: str):
    results = fuzz_tokenizer(shared_data, name, 3, seed=2026, work=tmp_path)
    bad = [r for r in results if r["outcome"] in BAD]
    assert not bad, bad
    assert len(results) == 3


@pytest.mark.slow
@pytest.mark.parametrize("name", SHARED_TOKENIZERS)
def test_many_mutated_files_load_or_fail_cleanly(shared_data: Path, tmp_path: Path, name: str):
    results = fuzz_tokenizer(shared_data, name, 40, seed=7, work=tmp_path)
    bad = [r for r in results if r["outcome"] in BAD]
    assert not bad, bad
    # the mutations must exercise both sides: some files still load, some are rejected
    outcomes = Counter(r["outcome"] for r in results)
    assert outcomes["clean"] > 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40, help="mutations per tokenizer")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", default="", help="comma-separated tokenizer names")
    parser.add_argument("--show", default="vague,escape,memory,hang,crash,mismatch",
                        help="outcomes whose cases are listed")
    args = parser.parse_args(argv)
    data_dir = Path(os.environ.get("TOKBENCH_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
    names = args.only.split(",") if args.only else SHARED_TOKENIZERS
    show = set(args.show.split(","))
    totals: Counter[str] = Counter()
    print(f"{'tokenizer':44s} {'mutations':>9s} " + " ".join(f"{o:>8s}" for o in OUTCOMES), flush=True)
    listed = []
    for name in names:
        work = Path(tempfile.mkdtemp(prefix="fuzz-"))
        try:
            results = fuzz_tokenizer(data_dir, name, args.count, args.seed, work, env=dict(os.environ))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        counts = Counter(r["outcome"] for r in results)
        totals.update(counts)
        print(f"{name:44s} {len(results):9d} " + " ".join(f"{counts[o]:8d}" for o in OUTCOMES), flush=True)
        listed += [r for r in results if r["outcome"] in show]
    print(f"{'total':44s} {sum(totals.values()):9d} " + " ".join(f"{totals[o]:8d}" for o in OUTCOMES))
    for r in listed:
        print(f"[{r['outcome']}] {r['tokenizer']}: {r['mutation']} -> {r['detail']} ({r['seconds']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
