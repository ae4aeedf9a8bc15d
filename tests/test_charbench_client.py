"""The OpenAI-compatible CharBench adapter, against a small HTTP server on 127.0.0.1 started here
(an ephemeral port; nothing else is contacted)."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tokbench.metrics.charbench.client import ask_chat_completions
from tokbench.metrics.charbench.scoring import load_answers, score_answers
from tokbench.metrics.charbench.tasks import (
    INSTRUCTION,
    TASKS,
    CharBenchError,
    CharBenchItem,
    gold_answer,
)


class _Server:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.failures: list[tuple[int, dict[str, str]]] = []  # served first, in order
        self.raw: bytes | None = None
        state = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                state.requests.append(body)
                state.headers.append(dict(self.headers))
                if self.path != "/v1/chat/completions":
                    self.send_response(404)
                    self.end_headers()
                    return
                if state.failures:
                    code, headers = state.failures.pop(0)
                    self.send_response(code)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(b'{"error": "busy"}')
                    return
                payload = state.raw if state.raw is not None else json.dumps({
                    "choices": [{"message": {"role": "assistant",
                                             "content": _answer(body["messages"][1]["content"])}}]
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _answer(prompt: str) -> str:
    """A 'model' that solves count_unique and misplaces indices by one."""
    word = re.findall(r'word "([^"]+)"', prompt)[0]
    chars = re.findall(r'character "(.)"', prompt)
    if "distinct" in prompt:
        return str(len(set(word)))
    if "times" in prompt:
        return f"The answer is {word.count(chars[0])}"
    return str(word.index(chars[0]) + 1)


@pytest.fixture
def server() -> Iterator[_Server]:
    s = _Server()
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHARBENCH_TEST_KEY", raising=False)


def _items() -> list[CharBenchItem]:
    out = []
    for task in TASKS:
        for k, word in enumerate(["banana", "letter", "apple"]):
            c = word[2] if TASKS[task].needs_char else None
            out.append(CharBenchItem(f"{task}-{k}", task, word, c, gold_answer(task, word, c),
                                     TASKS[task].prompt(word, c), len(word)))
    return out


def _ask(server: _Server, out: Path, **kw: Any) -> Any:
    kw.setdefault("sleep", lambda s: None)
    return ask_chat_completions(_items(), base_url=server.url, model="toy-model", out=out,
                                api_key_env="CHARBENCH_TEST_KEY", progress=False, **kw)


def test_asks_every_item_and_scores(server: _Server, tmp_path: Path) -> None:
    out = tmp_path / "answers.jsonl"
    summary = _ask(server, out)
    assert (summary.asked, summary.skipped, summary.retries) == (12, 0, 0)
    body = server.requests[0]
    assert body["model"] == "toy-model" and body["temperature"] == 0
    assert body["messages"][0] == {"role": "system", "content": INSTRUCTION}
    assert body["messages"][1]["content"] == _items()[0].prompt
    assert "Authorization" not in server.headers[0]
    answers = load_answers(out)
    assert len(answers) == 12 and answers["count_unique-0"] == "3"
    by_task = score_answers(_items(), {"toy": answers}).by_task().set_index("task")
    assert by_task.loc["count_unique", "accuracy"] == 1.0
    assert by_task.loc["count_char", "invalid"] == 3  # "The answer is 2" is not a bare integer
    assert by_task.loc["first_index", "accuracy"] == 0.0


def test_api_key_from_environment(server: _Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARBENCH_TEST_KEY", "sk-test")
    _ask(server, tmp_path / "a.jsonl")
    assert server.headers[0]["Authorization"] == "Bearer sk-test"


def test_retries_with_backoff_and_retry_after(server: _Server, tmp_path: Path) -> None:
    server.failures = [(500, {}), (429, {"Retry-After": "3"})]
    waits: list[float] = []
    summary = _ask(server, tmp_path / "a.jsonl", backoff=0.5, sleep=waits.append)
    assert summary.retries == 2 and summary.asked == 12
    assert waits[:2] == [0.5, 3.0]  # backoff 0.5, then Retry-After beats 0.5 * 2
    assert len(load_answers(tmp_path / "a.jsonl")) == 12


def test_gives_up_after_retries_and_stops_on_client_errors(server: _Server, tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    server.failures = [(503, {})] * 3
    with pytest.raises(CharBenchError, match=r"HTTP 503 .* after 2 retries"):
        _ask(server, out, retries=2)
    server.failures = [(400, {})]
    with pytest.raises(CharBenchError, match="HTTP 400"):
        _ask(server, out)
    assert len(server.requests) == 4  # a 400 is not retried


def test_resumes_without_asking_again(server: _Server, tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    done = _items()[:5]
    out.write_text("".join(json.dumps({"id": i.id, "reply": "9", "model": "toy-model"}) + "\n" for i in done)
                   + '{"id": "count_unique-2", "rep')  # a torn line from a crash
    summary = _ask(server, out)
    assert (summary.asked, summary.skipped) == (7, 5)
    asked = {r["messages"][1]["content"] for r in server.requests}
    assert not asked & {i.prompt for i in done}
    answers = load_answers(out)
    assert len(answers) == 12 and answers[done[0].id] == "9"
    assert _ask(server, out).asked == 0


def test_interrupted_run_keeps_answers(server: _Server, tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    items = _items()
    # 4 answers, then a run that stops at once on a non-retryable error
    ask_chat_completions(items[:4], base_url=server.url, model="m", out=out, progress=False,
                         api_key_env=None, sleep=lambda s: None)
    server.failures = [(401, {})]
    with pytest.raises(CharBenchError, match="HTTP 401"):
        ask_chat_completions(items, base_url=server.url, model="m", out=out, progress=False,
                             api_key_env=None, sleep=lambda s: None)
    assert len(load_answers(out)) == 4


def test_rate_limit_spaces_requests(server: _Server, tmp_path: Path) -> None:
    waits: list[float] = []
    _ask(server, tmp_path / "a.jsonl", rate_limit=0.5, sleep=waits.append)
    assert len(waits) == 11 and all(1.5 < w <= 2.0 for w in waits)


def test_malformed_reply_and_bad_url(server: _Server, tmp_path: Path) -> None:
    server.raw = b'{"unexpected": true}'
    with pytest.raises(CharBenchError, match="not an OpenAI chat completion"):
        _ask(server, tmp_path / "a.jsonl")
    with pytest.raises(CharBenchError, match="not an http"):
        ask_chat_completions(_items(), base_url="ftp://127.0.0.1/", model="m", out=tmp_path / "b.jsonl")
    with socket.socket() as s:  # a port on 127.0.0.1 that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(CharBenchError, match="cannot reach the endpoint"):
        ask_chat_completions(_items(), base_url=f"http://127.0.0.1:{port}/v1", model="m",
                             out=tmp_path / "c.jsonl", retries=1, timeout=2, progress=False,
                             api_key_env=None, sleep=lambda s: None)


def test_cli_ask(server: _Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from tokbench.cli import main as cli
    from tokbench.metrics.charbench.tasks import write_items

    assert "charbench" in cli.COMMANDS
    items = write_items(_items(), tmp_path / "items.jsonl")
    out = tmp_path / "answers.jsonl"
    argv = ["charbench", "ask", str(items), "--base-url", server.url, "--model", "toy", "--out", str(out),
            "--api-key-env", "CHARBENCH_TEST_KEY", "--no-progress", "--limit", "5"]
    assert cli.main(argv) == 0
    assert cli.main(argv[:-2]) == 0
    assert "asked 7, already answered 5" in capsys.readouterr().out
    assert len(load_answers(out)) == 12
