"""Headless Chromium driven over the DevTools protocol, for testing the HTML report.

Chromium listens on a loopback port (``--remote-debugging-port``); we talk to the page
target over its websocket: enable the console/log domains, open the file, wait until the
page reports ready, evaluate expressions and take a screenshot. Every console error,
uncaught exception and failed resource load is collected, so a test can assert "none".
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from websockets.sync.client import connect

from tests.support.procs import free_port, stop_pid, wait_for_tcp

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
]


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageProblems:
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return self.console_errors + self.exceptions + self.log_errors


class Browser:
    """One headless Chromium with a fresh profile; use as a context manager."""

    def __init__(self, profile_dir: Path, width: int = 1400, height: int = 1800):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [chromium_binary(), *FLAGS, f"--user-data-dir={profile_dir}", f"--window-size={width},{height}",
             "--remote-debugging-address=127.0.0.1", f"--remote-debugging-port={self.port}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self._ids = itertools.count(1)
        self.problems = PageProblems()
        self._closing = contextlib.ExitStack()
        self._closing.callback(stop_pid, self.proc)
        try:
            wait_for_tcp(self.port, timeout=60, proc=self.proc)
            self.ws = self._closing.enter_context(connect(self._page_ws_url(), max_size=64 * 2**20, open_timeout=30))
        except BaseException:
            self._closing.close()
            raise

    def _page_ws_url(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=5) as response:
                pages = [t for t in json.load(response) if t.get("type") == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.1)
        raise TimeoutError("Chromium opened no page target")

    def __enter__(self) -> "Browser":
        for domain in ("Runtime", "Log", "Page"):
            self.call(f"{domain}.enable")
        return self

    def __exit__(self, *exc) -> None:
        self._closing.close()  # websocket first, then the browser

    def call(self, method: str, timeout: float = 60.0, **params) -> dict:
        """Send one command and return its result, recording events that arrive meanwhile."""
        message_id = next(self._ids)
        self.ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._record(message)

    def _record(self, event: dict) -> None:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.problems.console_errors.append(" ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.problems.exceptions.append(details.get("exception", {}).get("description") or details.get("text"))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.problems.log_errors.append(f"{params['entry'].get('text')} {params['entry'].get('url', '')}")

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, ready_expression: str, timeout: float = 60.0) -> None:
        """Navigate and wait until ``ready_expression`` is truthy (or the timeout)."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        # right after navigation the new document may have no body yet: not ready, not an error
        guarded = f"(() => {{ try {{ return !!({ready_expression}); }} catch (e) {{ return false; }} }})()"
        while time.monotonic() < deadline:
            if self.evaluate(guarded):
                return
            time.sleep(0.1)
        raise TimeoutError(f"{url}: {ready_expression} not true after {timeout}s; problems: {self.problems.all()}")

    def emulate_phone(self, width: int = 390, height: int = 844, scale: float = 3.0) -> None:
        """A phone's viewport (an iPhone 12/13/14 is 390x844 CSS px at 3x): ``mobile`` turns on
        the meta-viewport handling and overlay scrollbars, as on the device."""
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=scale,
                  mobile=True, screenWidth=width, screenHeight=height)
        self.call("Emulation.setTouchEmulationEnabled", enabled=True, maxTouchPoints=5)

    def emulate_desktop(self, width: int = 1400, height: int = 1000) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=full_page)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def element_screenshot(self, path: Path, selector: str) -> Path:
        """A screenshot of one element's box (CSS px of the page, at the device scale)."""
        box = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
            " return {x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height}; })()"
        )
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip={**box, "scale": 1})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


def colour_census(png: Path, background: tuple[int, int, int]) -> tuple[int, float]:
    """(distinct colours, share of pixels that differ from ``background``) of a screenshot:
    a blank or one-colour map scores low on both."""
    from PIL import Image

    with Image.open(png) as image:
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 24) or []
        pixels = rgb.width * rgb.height
    background_pixels = sum(n for n, colour in colours if max(abs(a - b) for a, b in zip(colour, background)) <= 6)
    return len(colours), 1 - background_pixels / pixels
