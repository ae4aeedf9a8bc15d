"""Run the bad-input matrix and classify every case.

Outcomes: ``clean`` (the exit status due; for an error exactly one ``tokbench ...: error:`` line on
stderr, besides argparse's usage and ``warning:`` lines, and no file written or changed; for a
success the checks pass), ``traceback`` (an exception escaped, or ``Traceback`` on stderr),
``wrong`` (exit 0 where an error was due, an error where success was due, an output-path error that
came only after the work, a file left behind or changed, or a failed output check), ``noisy`` (an error, but not as one clean line) and ``hang``
(over the case's time bound).

As a script it prints the counts per outcome and the cases that were not clean::

    TOKBENCH_DATA=../shared/data python tests/bad_input/run.py          # fast cases
    TOKBENCH_DATA=../shared/data python -m tests.bad_input.run --all    # and the slow ones
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle  # only to plant a hostile cache entry that must never be loaded
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    from .cases import API_CASES, CLI_CASES, ApiCase, Case
except ImportError:  # run as a file: import the package from tests/ (appended, so that a
    # PYTHONPATH naming another tokbench checkout still wins)
    sys.path.append(str(Path(__file__).resolve().parents[1]))
    from bad_input.cases import API_CASES, CLI_CASES, ApiCase, Case  # type: ignore[no-redef]

OUTCOMES = ("clean", "traceback", "wrong", "noisy", "hang")
_ERROR_LINE = re.compile(r"^tokbench( [\w-]+)*: error: \S")
_WARNING_LINE = re.compile(r"^tokbench( [\w-]+)*: warning: ")


@dataclass
class Outcome:
    case: str
    outcome: str
    detail: str
    seconds: float


# ------------------------------------------------------------------------------------ fixtures


def data_dir() -> Path:
    env = os.environ.get("TOKBENCH_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    return root


def prepare(tmp: Path) -> None:
    """The files every case may name: empty, blank, garbage, binary, folders, a FIFO, an old output."""
    (tmp / "empty.txt").write_bytes(b"")
    (tmp / "empty.json").write_bytes(b"")
    (tmp / "blank.txt").write_text("\n  \n\t\n", encoding="utf-8")
    (tmp / "garbage.json").write_text("{not json", encoding="utf-8")
    (tmp / "list.json").write_text("[1, 2, 3]", encoding="utf-8")
    binary = bytes(range(256)) * 8
    for name in ("binary.bin", "binary.model", "binary.tiktoken"):
        (tmp / name).write_bytes(binary)
    (tmp / "afile.txt").write_text("hello world\n", encoding="utf-8")
    (tmp / "afile.tiktoken").write_text("hello world\nnot base64 ranks\n", encoding="utf-8")
    (tmp / "bad_utf8.txt").write_bytes(b"abc \xff\xfe def\n")
    (tmp / "notjson.jsonl").write_text("nope\n", encoding="utf-8")
    (tmp / "old.csv").write_text("old\n", encoding="utf-8")
    (tmp / "adir").mkdir()
    (tmp / "onlyvocab").mkdir()
    (tmp / "onlyvocab" / "vocab.json").write_text('{"a": 0, "b": 1}', encoding="utf-8")
    with contextlib.suppress(OSError, AttributeError):
        os.mkfifo(tmp / "fifo.json")


def fill(text: str, tmp: Path) -> str:
    tok = data_dir() / "tokenizers"
    return text.format(tmp=tmp, tok=tok, gpt2=tok / "gpt2", cl100k=tok / "cl100k_base.tiktoken",
                       bert=tok / "bert-base-uncased_wordpiece_tokenizer.json", spm=tok / "mistral_v1.model")


_ITEMS: dict[str, bytes] = {}


def setup_items(tmp: Path) -> None:
    """A valid CharBench item file and an answer file (generated once per process, then copied)."""
    if not _ITEMS:
        from tokbench.corpora import load_corpus
        from tokbench.metrics.charbench.tasks import generate_charbench

        bench = generate_charbench(load_corpus("sample:eng_Latn"), per_length=2, seed=0)
        bench.write_jsonl(tmp / "items.jsonl")
        lines = [f'{{"id": "{item.id}", "reply": "1"}}' for item in bench.items]
        _ITEMS["items.jsonl"] = (tmp / "items.jsonl").read_bytes()
        _ITEMS["answers.jsonl"] = ("\n".join(lines) + "\n").encode("utf-8")
    for name, data in _ITEMS.items():
        (tmp / name).write_bytes(data)


def setup_truncated_traces(tmp: Path, case: Case) -> None:
    """Run the attack once, then cut every trace-cache entry to 300 bytes."""
    _run_inproc(case, tmp)
    entries = list((tmp / "cache").rglob("*.npz"))
    assert entries, "the first run wrote no trace cache"
    for path in entries:
        path.write_bytes(path.read_bytes()[:300])


class _Plant:
    """Unpickling this creates the marker file: proof that a cache entry was executed."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (Path(self.marker),))


def setup_planted_pickle(tmp: Path, case: Case) -> None:
    """Run the audit once, then replace every cache entry by a pickle (and an .npz holding a
    pickled object array) that would create ``tmp/PWNED`` if anything loaded it."""
    _run_inproc(case, tmp)
    import numpy as np

    entries = list((tmp / "rep" / ".cache").rglob("*.npz"))
    assert entries, "the first audit wrote no cache"
    payload = pickle.dumps(_Plant(str(tmp / "PWNED")))
    for k, path in enumerate(entries):
        if k % 2 == 0:
            path.write_bytes(payload)
        else:
            arr = np.empty(1, dtype=object)
            arr[0] = _Plant(str(tmp / "PWNED"))
            with open(path, "wb") as handle:
                np.savez(handle, __meta__=arr, __key__=arr)
    (tmp / "rep" / ".cache" / "legacy.pkl").write_bytes(payload)


SETUPS = {"items": lambda tmp, case: setup_items(tmp), "truncated_traces": setup_truncated_traces,
          "planted_pickle": setup_planted_pickle}


# ------------------------------------------------------------------------------------ checks


def check_pure_csv(tmp: Path, out: str, err: str) -> str | None:
    import pandas as pd

    if any(line.startswith("#") for line in out.splitlines()):
        return "comment lines inside the CSV on stdout"
    try:
        frame = pd.read_csv(io.StringIO(out))
    except Exception as exc:  # noqa: BLE001
        return f"pandas cannot read stdout as CSV ({exc})"
    if len(frame) != len(out.strip().splitlines()) - 1 or frame.isna().all(axis=1).any():
        return "stdout has lines that are not CSV rows"
    return None


def check_char_tokens_at_most_2(tmp: Path, out: str, err: str) -> str | None:
    from tokbench.formats import load_tokenizer

    tok = load_tokenizer(tmp / "o.json")
    longest = max(len(tok.token_bytes(i).decode("utf-8", "replace")) for i in range(tok.vocab_size)
                  if i not in set(tok.special_tokens.values()))
    return None if longest <= 2 else f"--max-token-length 2 gave tokens of {longest} characters"


def check_train_outputs(tmp: Path, out: str, err: str) -> str | None:
    import pandas as pd

    if not (tmp / "o.json").is_file() or not (tmp / "t.csv").is_file():
        return "the tokenizer or the trace is missing"
    trace = pd.read_csv(tmp / "t.csv")
    return None if len(trace) > 0 else "empty trace"


def check_single_category_note(tmp: Path, out: str, err: str) -> str | None:
    return None if "by construction" in out + err else "a one-category attack's 1.0 share is not called trivial"


def check_identical_warning(tmp: Path, out: str, err: str) -> str | None:
    return None if "identical" in out + err else "two names for the same text were not flagged"


def check_one_cache_warning(tmp: Path, out: str, err: str) -> str | None:
    n = sum("cache" in line and "warning" in line for line in err.splitlines())
    return None if n == 1 else f"{n} cache warnings on stderr (want exactly one)"


def check_report_written(tmp: Path, out: str, err: str) -> str | None:
    return None if (tmp / "rep" / "report.html").is_file() else "no report written"


def check_pickle_not_run(tmp: Path, out: str, err: str) -> str | None:
    return "a planted pickle was executed" if (tmp / "PWNED").exists() else None


def check_nothing_written(tmp: Path, out: str, err: str) -> str | None:
    left = [p.name for p in tmp.iterdir() if p.name.startswith(("big", ".big"))]
    return f"left behind: {left}" if left else None


def check_abs_values(value: Any) -> str | None:
    return None if value == [1, 2] else f"map(abs, [1, -2]) gave {value}"


def check_note_by_construction(value: Any) -> str | None:
    return None if any("by construction" in n for n in value) else f"notes do not say it: {value}"


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}


# ------------------------------------------------------------------------------------ running


def _snapshot(tmp: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for p in tmp.rglob("*"):
        rel = p.relative_to(tmp)
        if rel.parts[0] == "cache" or ".cache" in rel.parts:
            continue
        st = p.lstat()
        out[str(rel)] = (st.st_size, st.st_mtime_ns) if p.is_file() else (-1, 0)
    return out


class _Timeout(KeyboardInterrupt):
    pass


def _run_inproc(case: Case, tmp: Path) -> tuple[int | None, str, str, bool]:
    """(exit status or None if an exception escaped, stdout, stderr, timed out)."""
    from tokbench.cli.main import main

    argv = [fill(a, tmp) for a in case.argv]
    out, err = io.StringIO(), io.StringIO()
    fired = []

    def on_alarm(signum, frame):  # type: ignore[no-untyped-def]
        fired.append(True)
        raise _Timeout()

    old_env = {k: os.environ.get(k) for k in ("TOKBENCH_CACHE", *case.env)}
    os.environ["TOKBENCH_CACHE"] = str(tmp / "cache")
    os.environ.update({k: fill(v, tmp) for k, v in case.env.items()})
    old_cwd = os.getcwd()
    old_alarm = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(case.timeout))
    code: int | None
    try:
        os.chdir(tmp)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
            except _Timeout:
                code = None
            except BaseException:  # noqa: BLE001 - an escaped exception is the finding
                import traceback

                traceback.print_exc(file=err)
                code = None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old_alarm)
        os.chdir(old_cwd)
        for k, v in old_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, out.getvalue(), err.getvalue(), bool(fired)


def _run_subprocess(case: Case, tmp: Path) -> tuple[int | None, str, str, bool]:
    argv = [sys.executable, "-m", "tokbench", *(fill(a, tmp) for a in case.argv)]
    env = {**os.environ, "TOKBENCH_CACHE": str(tmp / "cache"), "PYTHONPATH": _pythonpath()}
    for k, v in case.env.items():
        if v:
            env[k] = fill(v, tmp)
        else:
            env.pop(k, None)
    proc = subprocess.Popen(argv, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if case.mode in ("sigterm", "sigint"):
        _wait_until_working(proc, tmp)
        proc.send_signal(signal.SIGTERM if case.mode == "sigterm" else signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=case.timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, out, err, True
    return proc.returncode, out, err, False


def _pythonpath() -> str:
    import tokbench

    root = str(Path(tokbench.__file__).resolve().parents[1])
    return os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)


def _wait_until_working(proc: subprocess.Popen, tmp: Path, *, seconds: float = 6.0) -> None:
    """Give the command time to import and start its work (training), then return."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)


def classify(case: Case, code: int | None, out: str, err: str, timed_out: bool,
             before: dict, after: dict, tmp: Path, seconds: float = 0.0) -> tuple[str, str]:
    if timed_out:
        return "hang", f"over {case.timeout:.0f} s"
    if "Traceback" in err or code is None:
        last = [line for line in err.strip().splitlines() if line.strip()][-1:] or ["?"]
        return "traceback", last[0][:160]
    leftovers = [p for p in after if p.endswith(".tmp")]
    if leftovers:
        return "wrong", f"temporary files left: {leftovers[:3]}"
    if case.expect == 2:
        if code == 0:
            return "wrong", "exit 0 where an error was due" + (f": {out.strip()[-120:]!r}" if out.strip() else "")
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        if changed:
            return "wrong", f"error, but files were written or changed: {changed[:4]}"
        lines = [line for line in err.splitlines() if line.strip()]
        errors = [line for line in lines if _ERROR_LINE.match(line)]
        usage = code == 2 and lines and lines[0].startswith("usage:")
        other = [line for line in lines if not _ERROR_LINE.match(line) and not _WARNING_LINE.match(line)
                 and not (usage and (line.startswith("usage:") or line.startswith(" ")))]
        if code != 2 or len(errors) != 1 or other:
            return "noisy", f"exit {code}; stderr: {err.strip()[:200]!r}"
        if out.strip():
            return "noisy", f"error with output on stdout: {out.strip()[:100]!r}"
        if case.within is not None and seconds > case.within:
            return "wrong", f"the error came after {seconds:.0f} s of work (check paths before): {errors[0][:100]}"
        return "clean", errors[0][:160]
    if code != case.expect:
        return "wrong", f"exit {code} (want {case.expect}): {err.strip()[-200:]!r}"
    if case.check:
        problem = CHECKS[case.check](tmp, out, err)
        if problem:
            return "wrong", problem
    return "clean", f"exit {code}"


def run_case(case: Case, root: Path) -> Outcome:
    tmp = Path(tempfile.mkdtemp(prefix=f"{case.id}.", dir=root))
    prepare(tmp)
    start = time.perf_counter()
    try:
        if case.setup:
            SETUPS[case.setup](tmp, case)
        before = _snapshot(tmp)
        runner = _run_inproc if case.mode == "inproc" else _run_subprocess
        started = time.perf_counter()
        code, out, err, timed_out = runner(case, tmp)
        seconds = time.perf_counter() - started
        after = _snapshot(tmp)
        outcome, detail = classify(case, code, out, err, timed_out, before, after, tmp, seconds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Outcome(case.id, outcome, detail, time.perf_counter() - start)


def run_api_case(case: ApiCase, root: Path, gpt2: Any) -> Outcome:
    from tokbench import corpora
    from tokbench._io import atomic_write, write_csv_rows
    from tokbench.errors import TokbenchError

    tmp = Path(tempfile.mkdtemp(prefix=f"{case.id}.", dir=root))
    prepare(tmp)

    def atomic_write_text(path: Path, text: str) -> None:
        with atomic_write(path) as handle:
            handle.write(text)

    def cache_store(root_dir: Path) -> None:
        import numpy as np

        from tokbench.cache import Cache, Record

        cache = Cache(root_dir, namespace="t")
        cache.store(cache.key({"x": 1}), Record(meta={"n": 1}, arrays={"a": np.arange(3)}))

    def run_mixture_attack(*args: Any, **kwargs: Any) -> Any:
        from tokbench.attacks.mixture import run_mixture_attack as attack

        return attack(*args, **kwargs)

    from tokbench.executor import map as executor_map

    scope = {**{name: getattr(corpora, name) for name in corpora.__all__}, "tmp": tmp, "Path": Path,
             "executor_map": executor_map,
             "gpt2": gpt2, "atomic_write_text": atomic_write_text, "write_csv_rows": write_csv_rows,
             "cache_store": cache_store, "run_mixture_attack": run_mixture_attack}
    start = time.perf_counter()
    old_cache = os.environ.get("TOKBENCH_CACHE")
    os.environ["TOKBENCH_CACHE"] = str(tmp / "cache")
    try:
        with contextlib.redirect_stderr(io.StringIO()), _quiet_warnings():
            value = eval(case.call, scope)  # noqa: S307 - the calls are this file's own data
    except TokbenchError as exc:
        outcome = ("clean", str(exc)[:160]) if case.expect == "error" else ("wrong", f"error where a result was due: {exc}")
    except Exception as exc:  # noqa: BLE001 - an escaped exception is the finding
        outcome = ("traceback", f"{type(exc).__name__}: {str(exc)[:140]}")
    else:
        if case.expect == "error":
            outcome = ("wrong", f"returned {str(value)[:100]!r} where an error was due")
        else:
            problem = CHECKS[case.check](value) if case.check else None
            outcome = ("wrong", problem) if problem else ("clean", "ok")
    finally:
        if old_cache is None:
            os.environ.pop("TOKBENCH_CACHE", None)
        else:
            os.environ["TOKBENCH_CACHE"] = old_cache
        shutil.rmtree(tmp, ignore_errors=True)
    return Outcome(case.id, outcome[0], outcome[1], time.perf_counter() - start)


@contextlib.contextmanager
def _quiet_warnings():  # type: ignore[no-untyped-def]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def load_gpt2() -> Any:
    from tokbench.formats import load_tokenizer

    return load_tokenizer(data_dir() / "tokenizers" / "gpt2")


def run_matrix(*, slow: bool, only: str | None = None) -> list[Outcome]:
    root = Path(tempfile.mkdtemp(prefix="bad_input."))
    results = []
    try:
        for case in CLI_CASES:
            if (case.slow and not slow) or (only and only not in case.id):
                continue
            results.append(run_case(case, root))
        api = [c for c in API_CASES if (slow or not c.slow) and (not only or only in c.id)]
        if api:
            gpt2 = load_gpt2()
            results += [run_api_case(c, root, gpt2) for c in api]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return results


def table(results: list[Outcome]) -> str:
    counts = Counter(r.outcome for r in results)
    cli = [r for r in results if not r.case.startswith("api-")]
    api = [r for r in results if r.case.startswith("api-")]
    rows = ["| | cases | " + " | ".join(OUTCOMES) + " |", "|---|---:|" + "---:|" * len(OUTCOMES)]
    for name, group in (("CLI", cli), ("API", api), ("all", results)):
        c = Counter(r.outcome for r in group)
        rows.append(f"| {name} | {len(group)} | " + " | ".join(str(c[o]) for o in OUTCOMES) + " |")
    assert sum(counts.values()) == len(results)
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Run the bad-input matrix and print the counts.")
    parser.add_argument("--all", action="store_true", help="include the slow cases")
    parser.add_argument("--only", help="run the cases whose id contains this text")
    parser.add_argument("--verbose", action="store_true", help="list every case, not only the unclean ones")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = run_matrix(slow=args.all, only=args.only)
    for r in results:
        if args.verbose or r.outcome != "clean":
            print(f"{r.outcome:9} {r.seconds:6.1f}s  {r.case}: {r.detail}")
    print(table(results))
    print(f"{len(results)} cases in {time.perf_counter() - start:.0f} s")
    return 0 if all(r.outcome == "clean" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
