"""A small client of Chromium's DevTools protocol (CDP) for the browser tests: starts Debian's
headless chromium with its own fresh profile and no network of its own, talks to one page over a
websocket (Debian's python3-websocket), and stops it (the process group it started) on close.

Chromium is started as root here, so without its sandbox; the flags keep it from reaching the
network for itself (component updates, sync, field trials, QUIC), which would fail offline.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
         "--remote-debugging-port=0", "--remote-allow-origins=*", "--window-size=1280,1600"]


def find_chromium():
    """The chromium binary, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """with Browser(work_dir) as b: b.open(url) ... one page, its events collected."""

    def __init__(self, work_dir, binary=None, timeout=60):
        self.binary = binary or find_chromium()
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=work_dir)
        self.proc = None
        self.ws = None
        self.next_id = 0
        self.events = []

    def __enter__(self):
        import websocket  # Debian's python3-websocket (scripts/setup)
        self.log = open(os.path.join(self.profile, "chromium.log"), "w")
        self.proc = subprocess.Popen([self.binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        port = self._devtools_port()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            targets = [t for t in json.load(r) if t.get("type") == "page"]
        if not targets:
            raise RuntimeError("chromium: no page target")
        self.ws = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=self.timeout,
                                              suppress_origin=True)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        return self

    def _devtools_port(self):
        """Chromium writes the port it chose into DevToolsActivePort in its profile."""
        path = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with open(path) as f:
                    line = f.readline().strip()
                if line:
                    return int(line)
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"chromium wrote no DevToolsActivePort in {self.timeout} s")

    def __exit__(self, *exc):
        if self.ws is not None:
            self.ws.close()
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the group we started: chromium and its helpers
                self.proc.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=15)
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method, **params):
        """Sends a command and returns its result; events that arrive meanwhile are kept."""
        self.next_id += 1
        my = self.next_id
        self.ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, method, timeout=None):
        """Waits for an event (kept events first); returns it."""
        for i, e in enumerate(self.events):
            if e["method"] == method:
                return self.events.pop(i)
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == method:
                return msg
            if "method" in msg:
                self.events.append(msg)
        raise TimeoutError(f"no {method} in {timeout or self.timeout} s")

    def open(self, url):
        """Navigates to url, waits for its load event; returns the events of that load."""
        self.events.clear()
        r = self.call("Page.navigate", url=url)
        if r.get("errorText"):
            return [{"method": "Page.navigateFailed", "params": {"errorText": r["errorText"], "url": url}}]
        self.wait_for("Page.loadEventFired")
        # The load event waited for may be an earlier page's (about:blank's can arrive after
        # Page.enable): wait until the document is this URL's and complete.
        deadline = time.monotonic() + self.timeout
        while True:
            r = self.call("Runtime.evaluate", returnByValue=True,
                          expression="[document.readyState, location.href]")
            state, href = r.get("result", {}).get("value", ["", ""])
            if state == "complete" and href.split("#")[0] == url.split("#")[0]:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url}: still {state} at {href} after {self.timeout} s")
            time.sleep(0.05)
        events, self.events = self.events, []
        return events

    def evaluate(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"page script failed: {r['exceptionDetails'].get('text')}")
        return r["result"].get("value")

    def screenshot(self, path):
        import base64
        r = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
