"""The audit report as a person sees it: headless Chromium (DevTools protocol) and pdftoppm.

Chromium and poppler-utils come from Debian (`apt-get install -y chromium poppler-utils`, done
by .ci/run); the test skips, saying so, only when they are not installed. It checks that every
figure loaded, that the page logs no console error, runs no injected script, makes no network
request, shows hostile vocabulary entries literally, sorts a table on click, and saves a
screenshot; then renders every PDF page and checks none is blank.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tokbench.audit import audit

CORPUS = "sample:eng_Latn,fra_Latn,rus_Cyrl,hin_Deva,python"
HOSTILE = ['<script>window.__pwned=1</script>', '"><img/src=x/onerror=window.__pwned=2>']


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("chromium is not installed (apt-get install -y chromium poppler-utils; .ci/run does this)")


def _hostile_tokenizer(folder: Path) -> Path:
    from tokbench.corpora import load_sample
    from tokbench.trainers.bpe import train_bpe

    data = json.loads(train_bpe(load_sample("eng_Latn"), vocab_size=300, progress=False).to_hf_json())
    for token in HOSTILE:
        data["model"]["vocab"][token] = len(data["model"]["vocab"])
    path = folder / '"><img src=x onerror=alert(1)>.json'
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


class _Page:
    """A minimal DevTools-protocol client: one page target, commands and buffered events."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.events: list[dict] = []
        self._id = 0

    def send(self, method: str, **params) -> dict:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(e.get("method") == method for e in self.events):
                return
            self.ws.settimeout(max(0.1, deadline - time.time()))
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(method)

    def eval(self, expression: str):
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return res["result"].get("value")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    out = folder / "out"
    result = audit([_hostile_tokenizer(folder), folder / "missing.model"], corpus=CORPUS, out=out, n_bootstrap=50,
                   progress=False)
    result.write(out)
    return out


def test_html_report_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    profile = tmp_path / "profile"
    proc = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
         "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.time() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.time() > deadline or proc.poll() is not None:
                pytest.fail("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        page = _Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log", "Network"):
            page.send(f"{domain}.enable")
        page.send("Emulation.setDeviceMetricsOverride", width=1280, height=900, deviceScaleFactor=1, mobile=False)
        url = (report / "report.html").resolve().as_uri()
        page.send("Page.navigate", url=url)
        page.wait_for("Page.loadEventFired")
        time.sleep(0.5)

        images = page.eval("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
        assert len(images) >= 6, images
        assert all(c and w > 100 and h > 100 for c, w, h in images), images
        assert page.eval("typeof window.__pwned") == "undefined"  # no injected script ran
        text = page.eval("document.body.innerText")
        for token in HOSTILE:
            assert token in text  # shown literally
        assert '"><img src=x onerror=alert(1)>' in text  # the hostile file name, as text
        assert page.eval("document.querySelectorAll('img[onerror], script[src]').length") == 0
        # Sorting works (the one inline script, allowed by its CSP hash) and logs no error.
        page.eval("document.querySelector('table.sortable th').click()")
        assert page.eval("document.querySelector('table.sortable th').getAttribute('aria-sort')") == "ascending"

        height = page.eval("document.documentElement.scrollHeight")
        page.send("Emulation.setDeviceMetricsOverride", width=1280, height=min(int(height), 16000), deviceScaleFactor=1,
                  mobile=False)
        shot = page.send("Page.captureScreenshot", format="png")
        import base64

        target = Path(os.environ.get("TOKBENCH_SCREENSHOT", tmp_path / "report.png"))
        target.write_bytes(base64.b64decode(shot["data"]))
        assert target.stat().st_size > 10_000
        page.send("Runtime.evaluate", expression="1")  # flush pending events

        errors = [e for e in page.events if e.get("method") == "Runtime.exceptionThrown"]
        errors += [e for e in page.events if e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error"]
        errors += [e for e in page.events if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"]
        assert not errors, errors
        requests = [e["params"]["request"]["url"] for e in page.events if e.get("method") == "Network.requestWillBeSent"]
        assert [u for u in requests if not u.startswith("data:") and u != url] == []
        page.ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_pdf_pages_render_and_are_not_blank(report: Path, tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None or shutil.which("pdfinfo") is None:
        pytest.skip("poppler-utils is not installed (apt-get install -y poppler-utils; .ci/run does this)")
    from PIL import Image

    info = subprocess.run(["pdfinfo", str(report / "report.pdf")], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert pages >= 10  # title + contents, a section per analysis with figures and tables, signatures
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(report / "report.pdf"), str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages
    for path in images:
        gray = Image.open(path).convert("L")
        dark = sum(gray.histogram()[:200])
        assert dark > 0.002 * gray.width * gray.height, f"{path.name} looks blank"
