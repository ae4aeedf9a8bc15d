"""The audit report as a person sees it: headless Chromium (DevTools protocol) and pdftoppm.

Chromium and poppler-utils come from Debian (`apt-get install -y chromium poppler-utils`, done
by .ci/run); the test skips, saying so, only when they are not installed. One audit and one
browser serve every check. At 1,400 and 800 CSS px wide the page must not scroll sideways, every
figure must load and be shown no larger than its natural size, no console error or exception,
no network request, no injected script; hostile vocabulary entries and file names are shown
literally; the per-tokenizer cards are there (the missing file's card marked failed); every
contents link leads somewhere; tables sort by click and by keyboard (numbers as numbers, text
with digits in order, missing values last). Screenshots go to ``$TOKBENCH_SCREENSHOTS`` (a
folder) when set. Then every PDF page is rendered and checked not blank.
"""

from __future__ import annotations

import base64
import json
import math
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
HOSTILE_FILE = '"><img src=x onerror=alert(1)>'
WIDTHS = (1400, 800)


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
    path = folder / f"{HOSTILE_FILE}.json"
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
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression[:60]}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def load(self, path: Path, width: int, height: int = 900) -> str:
        """Open ``path`` at ``width`` CSS px with a fresh event log; returns its URL."""
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        url = path.resolve().as_uri()
        self.events.clear()
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        assert self.eval("location.href") == url
        self.eval("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        return url

    def key(self, key: str, code: str, keycode: int) -> None:
        """A real key press (down, char, up) on the focused element."""
        for kind in ("rawKeyDown", "char", "keyUp"):
            params = {"type": kind, "key": key, "code": code, "windowsVirtualKeyCode": keycode}
            if kind == "char":
                params["text"] = "\r" if key == "Enter" else key
            self.send("Input.dispatchKeyEvent", **params)

    def screenshot(self, target: Path, *, full: bool = False) -> None:
        params: dict = {"format": "png"}
        if full:
            width, height = self.eval("[innerWidth, Math.min(document.documentElement.scrollHeight, 16000)]")
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
        target.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", **params)["data"]))

    def problems(self, url: str) -> tuple[list, list]:
        """(console errors and exceptions, requests other than the page and data: URIs) so far."""
        self.eval("1")  # flush pending events
        errors = [e for e in self.events if e.get("method") == "Runtime.exceptionThrown"]
        errors += [e for e in self.events if e.get("method") == "Runtime.consoleAPICalled"
                   and e["params"]["type"] == "error"]
        errors += [e for e in self.events if e.get("method") == "Log.entryAdded"
                   and e["params"]["entry"]["level"] == "error"]
        requests = [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]
        return errors, [u for u in requests if not u.startswith("data:") and u != url]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    out = folder / "out"
    result = audit([_hostile_tokenizer(folder), folder / "missing.model"], corpus=CORPUS, out=out, n_bootstrap=50,
                   progress=False)
    result.write(out)
    return out


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    chromium = _chromium()
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
         "--hide-scrollbars", "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={profile}",
         "about:blank"],
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
        client = _Page(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
        for domain in ("Page", "Runtime", "Log", "Network"):
            client.send(f"{domain}.enable")
        yield client
        client.ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = os.environ.get("TOKBENCH_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize("width", WIDTHS)
def test_report_in_headless_chromium(report: Path, page: _Page, shots: Path, width: int) -> None:
    url = page.load(report / "report.html", width)
    page.screenshot(shots / f"report-{width}-first-screen.png")
    # the page never scrolls sideways; wide tables scroll inside their own wrapper
    assert page.eval("document.documentElement.scrollWidth") <= page.eval("innerWidth")
    wide = page.eval("Array.from(document.querySelectorAll('main *')).filter(e => !e.closest('.tablewrap, nav')"
                     " && e.getBoundingClientRect().right > innerWidth + 1).map(e => e.tagName + '.' + e.className)")
    assert wide == []

    # every figure loaded, crisp (SVG or a PNG with more pixels than it is shown with), never
    # shown wider than its natural size nor wider than the column
    images = page.eval("Array.from(document.querySelectorAll('figure img')).map(i => [i.complete, i.naturalWidth,"
                       " i.naturalHeight, i.getAttribute('width') | 0, i.getBoundingClientRect().width,"
                       " i.closest('main').clientWidth, i.src.slice(0, 26)])")
    assert len(images) >= 6, images
    for complete, nat_w, nat_h, attr_w, shown_w, column, src in images:
        assert complete and nat_w > 0 and nat_h > 0, (src, nat_w)
        assert shown_w <= attr_w + 0.5 and shown_w <= column + 0.5, (shown_w, attr_w, column)
        assert src.startswith("data:image/svg+xml") or nat_w >= 2 * attr_w, src
    assert page.eval("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    # a figure shrunk to fit the window offers its full size, which scrolls inside its own box
    zoom = page.eval("Array.from(document.querySelectorAll('figure')).map(f => [f.querySelector('button.zoom').hidden,"
                     " f.querySelector('.figwrap').clientWidth < (+f.querySelector('img').getAttribute('width')) - 1])")
    assert all(hidden != shrunk for hidden, shrunk in zoom), zoom
    if width < 1000:
        assert any(shrunk for _, shrunk in zoom)  # 800 px is narrower than the figures
        i = next(i for i, (_, shrunk) in enumerate(zoom) if shrunk)
        fig = f"document.querySelectorAll('figure')[{i}]"
        page.eval(f"{fig}.querySelector('button.zoom').click()")
        shown, natural = page.eval(f"[{fig}.querySelector('img').getBoundingClientRect().width,"
                                   f" +{fig}.querySelector('img').getAttribute('width')]")
        assert shown == pytest.approx(natural, abs=1)
        assert page.eval("document.documentElement.scrollWidth") <= page.eval("innerWidth")
        page.eval(f"{fig}.querySelector('button.zoom').click()")
        assert page.eval(f"{fig}.querySelector('img').getBoundingClientRect().width") < natural

    # untrusted names and tokens shown literally, nothing injected ran
    assert page.eval("typeof window.__pwned") == "undefined"
    text = page.eval("document.body.innerText")
    for token in HOSTILE:
        assert token in text
    assert HOSTILE_FILE in text
    assert page.eval("document.querySelectorAll('img[onerror], script[src], img:not([src^=\"data:\"])').length") == 0

    # a card per tokenizer after the summary, the missing file's card marked failed
    cards = page.eval("Array.from(document.querySelectorAll('.card')).map(c => [c.className, c.innerText,"
                      " c.getBoundingClientRect().width])")
    assert len(cards) >= 2
    failed = [c for c in cards if "failed" in c[0]]
    assert failed and all("missing.model" in c[1] and "FAILED" in c[1].upper() for c in failed)
    assert any(HOSTILE_FILE in c[1] and "failed" not in c[0] for c in cards)
    assert page.eval("!!document.querySelector('#summary ~ #tokenizers-at-a-glance .card dl dt')")

    # the contents bar stays on screen and every link leads to a heading on the page
    links = page.eval("Array.from(document.querySelectorAll('nav.toc a')).map(a => a.getAttribute('href'))")
    assert len(links) >= 6 and all(page.eval(f"!!document.getElementById({json.dumps(h[1:])})") for h in links)
    page.eval("document.querySelector('nav.toc a[href=\"#signatures\"]').click()")
    time.sleep(0.3)
    top = page.eval("[document.querySelector('nav.toc').getBoundingClientRect().bottom,"
                    " document.querySelector('#signatures h2').getBoundingClientRect().top]")
    assert top[0] <= top[1] + 1, top  # the heading is not hidden under the sticky bar
    page.screenshot(shots / f"report-{width}-full.png", full=True)

    errors, requests = page.problems(url)
    assert not errors, errors
    assert requests == []


def _column(page: _Page, table: str, col: int) -> list:
    return page.eval(f"Array.from({table}.tBodies[0].rows).map(r => [r.cells[{col}].getAttribute('data-v'),"
                     f" r.cells[{col}].textContent])")


def _numbers(cells: list) -> list[float]:
    return [float(v) if v not in ("NaN", None) else math.nan for v, _ in cells]


def test_tables_sort_by_click_and_by_keyboard(report: Path, page: _Page) -> None:
    url = page.load(report / "report.html", 1400)
    # the first table with a numeric column holding several distinct values
    found = page.eval("""(function () {
      var tables = Array.from(document.querySelectorAll('table.sortable'));
      for (var t = 0; t < tables.length; t++) {
        var ths = Array.from(tables[t].tHead.rows[0].cells);
        for (var c = 0; c < ths.length; c++) {
          var vals = Array.from(tables[t].tBodies[0].rows).map(r => r.cells[c].getAttribute('data-v'));
          if (ths[c].dataset.type === 'num' && new Set(vals).size >= 3) { return [t, c]; }
        }
      }
      return null; })()""")
    assert found, "no table with a numeric column to sort"
    t, col = found
    table = f"document.querySelectorAll('table.sortable')[{t}]"
    header = f"{table}.tHead.rows[0].cells[{col}]"
    before = sorted(map(tuple, _column(page, table, col)))

    page.eval(f"{header}.querySelector('button').click()")
    assert page.eval(f"{header}.getAttribute('aria-sort')") == "ascending"
    values = _numbers(_column(page, table, col))
    present = [v for v in values if not math.isnan(v)]
    assert present == sorted(present) and all(math.isnan(v) for v in values[len(present):])
    assert sorted(map(tuple, _column(page, table, col))) == before  # the same rows, reordered

    # keyboard: focus the header's button and press Enter (then Space) like a person would
    page.eval(f"{header}.querySelector('button').focus()")
    assert page.eval("document.activeElement.tagName") == "BUTTON"
    page.key("Enter", "Enter", 13)
    assert page.eval(f"{header}.getAttribute('aria-sort')") == "descending"
    present = [v for v in _numbers(_column(page, table, col)) if not math.isnan(v)]
    assert present == sorted(present, reverse=True)
    page.key(" ", "Space", 32)
    assert page.eval(f"{header}.getAttribute('aria-sort')") == "ascending"
    others = page.eval(f"Array.from({table}.tHead.rows[0].cells).filter(h => h !== {header})"
                       ".map(h => h.getAttribute('aria-sort'))")
    assert set(others) <= {"none"}
    errors, requests = page.problems(url)
    assert not errors and requests == []


def test_sort_order_numbers_text_and_missing_values(page: _Page, tmp_path: Path) -> None:
    """Negative numbers, infinities and missing values in a numeric column; text with digits."""
    import pandas as pd

    from tokbench.reports.document import Report, Section, Table
    from tokbench.reports.html import write_html

    frame = pd.DataFrame({"name": ["l10", "l9", None, "L1", "l100"],
                          "x": [2.5, float("nan"), -3.0, float("inf"), 10.0]})
    path = write_html(Report("Sort", [Section("S", "e", tables=[Table("T", frame)])]), tmp_path / "sort.html")
    url = page.load(path, 800)
    table = "document.querySelector('table.sortable')"

    def click(col: int) -> list[str]:
        page.eval(f"{table}.tHead.rows[0].cells[{col}].querySelector('button').click()")
        return [c[1] for c in _column(page, table, col)]

    assert click(1) == ["-3.000", "2.500", "10.000", "inf", "–"]
    assert click(1) == ["inf", "10.000", "2.500", "-3.000", "–"]  # missing stays last
    assert click(0) == ["L1", "l9", "l10", "l100", "–"]  # digits compared as numbers, case folded
    assert click(0) == ["l100", "l10", "l9", "L1", "–"]
    errors, requests = page.problems(url)
    assert not errors and requests == []


def test_pdf_pages_render_and_are_not_blank(report: Path, tmp_path: Path) -> None:
    """Every page renders and has ink; the PDF holds every section the HTML report has."""
    if shutil.which("pdftoppm") is None or shutil.which("pdfinfo") is None:
        pytest.skip("poppler-utils is not installed (apt-get install -y poppler-utils; .ci/run does this)")
    import re

    from PIL import Image

    pdf = str(report / "report.pdf")
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    subprocess.run(["pdftoppm", "-r", "30", "-png", pdf, str(tmp_path / "page")], check=True)
    images = sorted(tmp_path.glob("page-*.png"))
    assert pages >= 2 and len(images) == pages
    for path in images:
        gray = Image.open(path).convert("L")
        dark = sum(gray.histogram()[:200])
        assert dark > 0.002 * gray.width * gray.height, f"{path.name} looks blank"
    text = " ".join(subprocess.run(["pdftotext", pdf, "-"], capture_output=True, text=True, check=True).stdout.split())
    html = (report / "report.html").read_text(encoding="utf-8")
    titles = re.findall(r'<section class="status-\w+" id="section-\d+">\s*<h2>([^<]+?)(?: — \w+)?</h2>', html)
    assert len(titles) >= 4
    import html as html_lib

    missing = [t for t in map(html_lib.unescape, titles) if " ".join(t.split()) not in text]
    assert not missing, missing
