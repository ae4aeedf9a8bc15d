"""Seeded mutations of the real shared tokenizer files, and a sandboxed worker that loads them.

Not a test module: :mod:`test_loader_fuzz` and :mod:`test_bad_input_files` use it.

* :func:`mutate` writes one mutated copy of a shared tokenizer (``tokenizer.json``: JSON fields
  deleted, retyped, set out of range, lists shortened, type names made unknown; ``.tiktoken``:
  ranks duplicated, huge or negative, lines duplicated or dropped; ``vocab.json``/``merges.txt``;
  SentencePiece ``.model``: pieces dropped, duplicated or re-scored, specs changed; every
  format: bytes truncated, flipped, ``\\xff\\xfe`` inserted) and says what it did.
* :func:`run_batch` loads a list of files in a worker process with a memory limit
  (``RLIMIT_AS``) and a per-file time limit, and classifies each outcome.

The worker is this file run as ``python bad_input_mutations.py --worker``; it imports
``tokbench`` from ``PYTHONPATH`` first, so the same fuzz can run against another checkout.
"""

from __future__ import annotations

import base64
import json
import random
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

#: Outcome categories, in the order the fuzz table prints them.
OUTCOMES = ("ok", "clean", "vague", "escape", "memory", "hang", "crash", "mismatch")
MEMORY_LIMIT = 2 << 30  # bytes of address space per worker
TIME_LIMIT = 15.0  # seconds per file (load + encode both backends + decode)

_RETYPES: list[Any] = ["x", 1.5, -1, 10**12, None, [], {}, True, "Bogus", [1, 2]]


# ----------------------------------------------------------------------------- byte mutations


def _raw_ops(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    op = rng.choice(["truncate", "flip", "xff", "dup_line", "drop_line", "swap_lines"])
    if op == "truncate":
        cut = rng.randrange(len(data))
        return data[:cut], f"truncate at byte {cut}"
    if op == "flip":
        out = bytearray(data)
        spots = [rng.randrange(len(data)) for _ in range(rng.choice([1, 3, 20]))]
        for k in spots:
            out[k] ^= 1 << rng.randrange(8)
        return bytes(out), f"flip bits at {spots[:3]}"
    if op == "xff":
        k = rng.randrange(len(data))
        return data[:k] + b"\xff\xfe" + data[k:], f"insert \\xff\\xfe at byte {k}"
    lines = data.split(b"\n")
    if len(lines) < 10:  # a one-line file (minified JSON): cut it instead
        cut = rng.randrange(len(data))
        return data[:cut], f"truncate at byte {cut}"
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    if op == "dup_line":
        lines.insert(j, lines[i])
        return b"\n".join(lines), f"duplicate line {i + 1} at {j + 1}"
    if op == "drop_line":
        del lines[i]
        return b"\n".join(lines), f"drop line {i + 1}"
    lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines), f"swap lines {i + 1} and {j + 1}"


# ----------------------------------------------------------------------------- JSON mutations


def _paths(node: Any, rng: random.Random, prefix: tuple = ()) -> list[tuple]:
    """Paths into ``node``: every small container's items, a few sampled items of big ones."""
    out: list[tuple] = []
    if isinstance(node, dict):
        keys = list(node)
    elif isinstance(node, list):
        keys = list(range(len(node)))
    else:
        return out
    if len(keys) > 40:
        keys = rng.sample(keys, 3)
    for key in keys:
        out.append((*prefix, key))
        out.extend(_paths(node[key], rng, (*prefix, key)))
    return out


def _out_of_range(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool):
        return rng.choice(["yes", 2])
    if isinstance(value, int):
        return rng.choice([-1, -(2**31), 10**12, 2**64, value + 1_000_000])
    if isinstance(value, float):
        return rng.choice([float("nan"), 1e308, -1e308])
    if isinstance(value, str):
        return rng.choice(["", "Bogus", "\u0000", value * 3])
    if isinstance(value, list):
        return value[: rng.choice([0, 1, len(value) // 2])]
    if isinstance(value, dict):
        return {}
    return "x"


def mutate_json(data: Any, rng: random.Random) -> str:
    """Mutate parsed JSON in place; the description of what changed."""
    paths = _paths(data, rng)
    if isinstance(data.get("model"), dict):
        for field in ("vocab", "merges"):
            if field in data["model"]:  # weight the model's big tables
                paths.extend([("model", field)] * 3 + _paths({field: data["model"][field]}, rng, ("model",)))
    path = rng.choice(paths)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    op = rng.choice(["delete", "retype", "range", "range"])
    if path[-1] == "type":
        op = rng.choice(["delete", "unknown_type"])
    where = "/".join(map(str, path))
    if op == "delete":
        del parent[last]
        return f"delete {where}"
    if op == "unknown_type":
        parent[last] = "Bogus"
        return f"{where} = 'Bogus'"
    if op == "retype":
        parent[last] = rng.choice(_RETYPES)
        return f"{where} retyped to {parent[last]!r}"
    parent[last] = _out_of_range(parent[last], rng)
    shown = parent[last] if not isinstance(parent[last], list | dict) else f"{type(parent[last]).__name__} of {len(parent[last])}"
    return f"{where} out of range: {shown!r}"[:160]


# -------------------------------------------------------------------------- format mutators


def _tiktoken_ops(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    lines = data.splitlines()
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    op = rng.choice(["dup_rank", "huge_rank", "neg_rank", "bad_token", "raw", "raw"])
    token, rank = lines[i].split(b" ")
    if op == "dup_rank":
        lines[i] = token + b" " + lines[j].split(b" ")[1]
        what = f"line {i + 1} gets the rank of line {j + 1}"
    elif op == "huge_rank":
        lines[i] = token + b" 1000000000000"
        what = f"line {i + 1} rank 10**12"
    elif op == "neg_rank":
        lines[i] = token + b" -5"
        what = f"line {i + 1} rank -5"
    elif op == "bad_token":
        lines[i] = base64.b64encode(b"\xff\xfe" + base64.b64decode(token)) + b" " + rank
        what = f"line {i + 1} token prefixed with \\xff\\xfe"
    else:
        return _raw_ops(data, rng)
    return b"\n".join(lines) + b"\n", what


def _protobuf_fields(data: bytes) -> list[tuple[int, int, int]]:
    """Top-level (field number, start, end) spans of a length-delimited-only message."""
    spans, pos = [], 0
    while pos < len(data):
        start = pos
        key = shift = 0
        while True:
            byte = data[pos]
            key |= (byte & 0x7F) << shift
            pos += 1
            shift += 7
            if byte < 0x80:
                break
        length = shift = 0
        while True:
            byte = data[pos]
            length |= (byte & 0x7F) << shift
            pos += 1
            shift += 7
            if byte < 0x80:
                break
        pos += length
        spans.append((key >> 3, start, pos))
    return spans


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _model_ops(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    spans = _protobuf_fields(data)
    pieces = [s for s in spans if s[0] == 1]
    _, a, b = rng.choice(pieces)
    piece = data[a:b]
    op = rng.choice(["drop_piece", "dup_piece", "piece_type", "piece_score", "empty_piece", "spec", "raw", "raw"])
    if op == "drop_piece":
        return data[:a] + data[b:], f"drop piece at byte {a}"
    if op == "dup_piece":
        _, c, _ = rng.choice(pieces)
        return data[:c] + piece + data[c:], f"duplicate piece at byte {a} before byte {c}"
    if op in ("piece_type", "piece_score", "empty_piece"):
        if op == "piece_type":
            extra, what = b"\x18" + _varint(rng.choice([0, 2, 3, 6, 99])), "type"
        elif op == "piece_score":
            extra, what = b"\x15" + rng.choice([b"\x00\x00\xc0\x7f", b"\x00\x00\x80\x7f", b"\xff\xff\x7f\x7f"]), "score"
        else:
            extra, what = b"\x0a\x00", "empty text"
        # protobuf: a later field wins, so appending re-sets the field
        inner = _protobuf_inner(piece) + extra
        return data[:a] + _field(1, inner) + data[b:], f"piece at byte {a}: {what} changed"
    if op == "spec":
        number = rng.choice([2, 3])
        _, c, d = next(s for s in spans if s[0] == number)
        if number == 2:
            extra = rng.choice([b"\x18" + _varint(rng.choice([0, 1, 3, 4, 99])), b"\x98\x02\x00", b"\x98\x02\x01"])
        else:
            extra = rng.choice([b"\x0a\x08identity", b"\x0a\x05bogus", b"\x18\x00", b"\x12\x03abc"])
        inner = _protobuf_inner(data[c:d]) + extra
        return data[:c] + _field(number, inner) + data[d:], f"spec field {number} += {extra!r}"
    return _raw_ops(data, rng)


def _protobuf_inner(field_bytes: bytes) -> bytes:
    """The payload of one length-delimited field."""
    pos = 1
    while field_bytes[pos - 1] & 0x80:
        pos += 1
    shift = length = 0
    while True:
        byte = field_bytes[pos]
        length |= (byte & 0x7F) << shift
        pos += 1
        shift += 7
        if byte < 0x80:
            return field_bytes[pos : pos + length]


def mutate(source: Path, out_dir: Path, rng: random.Random, cache: dict[str, Any] | None = None) -> tuple[Path, str]:
    """Write one mutated copy of the shared tokenizer ``source`` under ``out_dir``.

    Returns the path to load and a description of the mutation; ``cache`` keeps parsed JSON
    between calls (each mutation re-reads it: ``mutate_json`` edits in place).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    if source.is_dir():  # gpt2: vocab.json + merges.txt
        target = out_dir / source.name
        target.mkdir(exist_ok=True)
        shutil.copy(source / "vocab.json", target / "vocab.json")
        shutil.copy(source / "merges.txt", target / "merges.txt")
        if rng.random() < 0.5:
            data, what = _raw_ops((source / "merges.txt").read_bytes(), rng)
            (target / "merges.txt").write_bytes(data)
            return target, f"merges.txt: {what}"
        if rng.random() < 0.3:
            data, what = _raw_ops((source / "vocab.json").read_bytes(), rng)
            (target / "vocab.json").write_bytes(data)
            return target, f"vocab.json: {what}"
        wrapper = {"model": {"vocab": json.loads((source / "vocab.json").read_text(encoding="utf-8"))}}
        what = mutate_json(wrapper, rng)
        vocab = wrapper.get("model", {}).get("vocab") if isinstance(wrapper.get("model"), dict) else None
        (target / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        return target, f"vocab.json: {what}"
    target = out_dir / source.name
    raw = source.read_bytes()
    if source.suffix == ".tiktoken":
        data, what = _tiktoken_ops(raw, rng)
    elif source.suffix == ".model":
        data, what = _model_ops(raw, rng)
    elif rng.random() < 0.25:
        data, what = _raw_ops(raw, rng)
    else:
        parsed = json.loads(raw)
        what = mutate_json(parsed, rng)
        data = json.dumps(parsed, ensure_ascii=False).encode("utf-8", errors="surrogatepass")
    target.write_bytes(data)
    return target, what


# ------------------------------------------------------------------------------------ worker


def _chain(err: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while err is not None and err not in seen:
        seen.append(err)
        err = err.__cause__ or err.__context__  # type: ignore[assignment]
    return seen


def classify_error(err: BaseException, path: Path) -> str:
    """``clean``: a TokbenchError that names the file; ``vague``: one that does not; ``memory``:
    anything caused by MemoryError; ``escape``: any other exception."""
    from tokbench.errors import TokbenchError

    if any(isinstance(e, MemoryError) for e in _chain(err)):
        return "memory"
    if not isinstance(err, TokbenchError):
        return "escape"
    message = str(err)
    names = {path.name, path.stem, path.parent.name}
    return "clean" if message.strip() and any(n and n in message for n in names) else "vague"


def check_file(path: Path, text: str) -> tuple[str, str]:
    """Load ``path``, encode ``text`` with every available backend, decode; (outcome, detail)."""
    import tokbench
    from tokbench.errors import UnsupportedTokenizerError

    try:
        tok = tokbench.load_tokenizer(path)
        results: dict[str, list[int]] = {}
        for backend in ("reference", "native"):
            try:
                results[backend] = tok.encode(text, backend=backend)
            except UnsupportedTokenizerError as err:
                if "no native" not in str(err) and "no reference" not in str(err):
                    raise
        if not results:
            return "clean", "no backend can encode it"
        for ids in results.values():
            tok.decode(ids)
    except BaseException as err:  # noqa: BLE001 - classifying is the point
        if isinstance(err, KeyboardInterrupt):
            raise
        kind = classify_error(err, path)
        return kind, f"{type(err).__name__}: {str(err)[:200]}"
    if len(results) == 2 and results["reference"] != results["native"]:
        return "mismatch", f"reference {results['reference'][:8]}... native {results['native'][:8]}..."
    return "ok", f"{len(next(iter(results.values())))} tokens"


def _worker() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    text = sys.stdin.readline().rstrip("\n")
    text = json.loads(text)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        path = Path(json.loads(line))
        start = time.perf_counter()
        outcome, detail = check_file(path, text)
        print(json.dumps({"outcome": outcome, "detail": detail, "seconds": time.perf_counter() - start}), flush=True)


def fuzz_text(data_dir: Path) -> str:
    """FLORES line 3 in English, Chinese and Amharic (words, CJK, a non-Latin script) joined."""
    lines = [(data_dir / "flores200" / "devtest" / f"{lang}.devtest").read_text(encoding="utf-8").splitlines()[3]
             for lang in ("eng_Latn", "zho_Hans", "amh_Ethi")]
    return " ".join(lines)


class _Worker:
    def __init__(self, text: str, env: dict[str, str] | None):
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)
        self.send(json.dumps(text))
        self.read(60.0)

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def read(self, timeout: float) -> dict[str, Any] | None:
        """The worker's next line, or None when it died or exceeded ``timeout``."""
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return json.loads(line) if line else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def run_batch(paths: list[Path], text: str, *, time_limit: float = TIME_LIMIT,
              env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Check each file in a memory-limited worker; a worker that hangs or dies is replaced."""
    results: list[dict[str, Any]] = []
    worker: _Worker | None = None
    try:
        for path in paths:
            if worker is None:
                worker = _Worker(text, env)
            worker.send(json.dumps(str(path)))
            start = time.perf_counter()
            reply = worker.read(time_limit)
            if reply is None:
                hung = worker.proc.poll() is None
                worker.stop()
                code = worker.proc.returncode
                worker = None
                reply = {"outcome": "hang" if hung else "crash",
                         "detail": f"no answer in {time_limit:.0f} s" if hung else f"worker exit code {code}",
                         "seconds": time.perf_counter() - start}
            results.append(reply)
    finally:
        if worker is not None:
            worker.stop()
    return results


if __name__ == "__main__" and sys.argv[1:] == ["--worker"]:
    _worker()
