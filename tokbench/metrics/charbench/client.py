"""Asking a model CharBench questions through an OpenAI-compatible chat endpoint.

Each item is one ``POST {base_url}/chat/completions`` with the CharBench instruction as the
system message, the item's prompt as the user message and ``temperature: 0``. Only the standard
library is used (``urllib``), with a timeout on every request.

* **Retries**: connection errors, timeouts, HTTP 408/429 and 5xx are retried up to ``retries``
  times with exponential backoff (a ``Retry-After`` header is honoured); other HTTP errors stop
  the run at once with the server's message.
* **Rate limiting**: at most ``rate_limit`` requests per second (requests are sequential).
* **Resumable output**: answers are appended to the JSONL output one whole line at a time and
  flushed, so an interrupted run loses at most the question in flight; a rerun reads the file and
  asks only the items not answered yet. A torn last line (a crash mid-write) is dropped on resume.
  This append-only file is the one deliberate exception to atomic writes: it *is* the checkpoint.
* Loopback URLs (``localhost``, ``127.0.0.1``, ``::1``) bypass any HTTP proxy of the environment.

Example:
    >>> summary = ask_chat_completions(items, base_url="http://127.0.0.1:8000/v1",   # doctest: +SKIP
    ...                                model="llama-3-8b", out="answers.jsonl")
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .tasks import INSTRUCTION, CharBenchError, CharBenchItem

__all__ = ["AskSummary", "ask_chat_completions", "read_done_ids"]

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class AskSummary:
    """What one run did: items asked now, already answered before, retries made."""

    asked: int
    skipped: int
    retries: int
    out: Path


def read_done_ids(path: Path) -> set[str]:
    """Ids already answered in ``path``; truncates a torn last line left by a crash."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with open(path, "r+b") as handle:
            handle.truncate(cut)
        data = data[:cut]
    done: set[str] = set()
    for lineno, line in enumerate(data.decode("utf-8", errors="replace").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            done.add(str(obj["id"]))
        except (json.JSONDecodeError, KeyError, TypeError):
            raise CharBenchError(
                f"{path}:{lineno}: not an answer line; resume only into a file this command wrote"
            ) from None
    return done


class _Client:
    def __init__(self, base_url: str, model: str, *, api_key: str | None, timeout: float,
                 retries: int, backoff: float, max_tokens: int,
                 sleep: Callable[[float], None]) -> None:
        parsed = urllib.parse.urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise CharBenchError(f"base URL {base_url!r} is not an http(s) URL; e.g. http://127.0.0.1:8000/v1")
        self.url = base_url.rstrip("/") + "/chat/completions"
        handlers = [urllib.request.ProxyHandler({})] if parsed.hostname in _LOOPBACK else []
        self.opener = urllib.request.build_opener(*handlers)
        self.model, self.api_key, self.timeout = model, api_key, timeout
        self.retries, self.backoff, self.max_tokens, self.sleep = retries, backoff, max_tokens, sleep
        self.retried = 0

    def _request(self, prompt: str) -> urllib.request.Request:
        body = {
            "model": self.model,
            "messages": [{"role": "system", "content": INSTRUCTION},
                         {"role": "user", "content": prompt}],
            "temperature": 0,
            "max_tokens": self.max_tokens,
        }
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers,
                                      method="POST")

    def ask(self, prompt: str) -> str | None:
        attempt = 0
        while True:
            delay = self.backoff * 2 ** attempt
            try:
                with self.opener.open(self._request(prompt), timeout=self.timeout) as response:
                    payload = response.read()
                break
            except urllib.error.HTTPError as err:
                detail = err.read()[:300].decode("utf-8", "replace")
                if err.code not in _RETRY_STATUS or attempt >= self.retries:
                    raise CharBenchError(
                        f"{self.url}: HTTP {err.code} ({detail.strip() or err.reason})"
                        + (f" after {attempt} retries" if attempt else "")
                        + "; answers so far are kept, rerun to resume"
                    ) from None
                retry_after = err.headers.get("Retry-After") if err.headers else None
                if retry_after and retry_after.strip().isdigit():
                    delay = max(delay, float(retry_after))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                if attempt >= self.retries:
                    reason = getattr(err, "reason", err)
                    raise CharBenchError(
                        f"{self.url}: cannot reach the endpoint ({reason}) after {attempt} retries; "
                        "check --base-url; answers so far are kept, rerun to resume"
                    ) from None
            attempt += 1
            self.retried += 1
            self.sleep(delay)
        try:
            data = json.loads(payload)
            content = data["choices"][0]["message"]["content"]
        except (json.JSONDecodeError, KeyError, IndexError, TypeError):
            raise CharBenchError(
                f"{self.url}: the reply is not an OpenAI chat completion ({payload[:200]!r}); "
                "is the base URL an OpenAI-compatible /v1 endpoint?"
            ) from None
        if content is not None and not isinstance(content, str):
            raise CharBenchError(f"{self.url}: message content is {type(content).__name__}, not text")
        return content


def ask_chat_completions(
    items: Sequence[CharBenchItem],
    *,
    base_url: str,
    model: str,
    out: str | Path,
    api_key: str | None = None,
    api_key_env: str | None = "OPENAI_API_KEY",
    timeout: float = 60.0,
    retries: int = 4,
    backoff: float = 1.0,
    rate_limit: float | None = None,
    max_tokens: int = 16,
    progress: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> AskSummary:
    """Ask ``model`` every item not yet answered in ``out`` and append its raw replies there.

    Each output line is ``{"id", "reply", "model"}``, the format :func:`load_answers` reads.
    ``api_key`` defaults to the environment variable named by ``api_key_env`` (none is sent when
    it is unset, as local servers expect).
    """
    if rate_limit is not None and rate_limit <= 0:
        raise CharBenchError(f"rate limit must be positive (requests per second), got {rate_limit}")
    if retries < 0 or timeout <= 0:
        raise CharBenchError("retries must be >= 0 and timeout > 0")
    if api_key is None and api_key_env:
        api_key = os.environ.get(api_key_env) or None
    client = _Client(base_url, model, api_key=api_key, timeout=timeout, retries=retries,
                     backoff=backoff, max_tokens=max_tokens, sleep=sleep)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = read_done_ids(path)
    todo = [i for i in items if i.id not in done]
    from tqdm.auto import tqdm

    interval = 1.0 / rate_limit if rate_limit else 0.0
    last = -float("inf")
    asked = 0
    with open(path, "a", encoding="utf-8") as handle, tqdm(
        total=len(items), initial=len(items) - len(todo), disable=not progress,
        desc=f"charbench {model}", unit="item",
    ) as bar:
        for item in todo:
            wait = last + interval - time.monotonic()
            if wait > 0:
                sleep(wait)
            last = time.monotonic()
            reply = client.ask(item.prompt)
            record: dict[str, Any] = {"id": item.id, "reply": reply, "model": model}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            asked += 1
            bar.update(1)
    return AskSummary(asked=asked, skipped=len(items) - len(todo), retries=client.retried, out=path)
