"""The page `wisp serve` serves at /, in headless Chromium (Debian's chromium, driven over the DevTools protocol):
it loads, a file dropped on it (jfk.wav) is transcribed with the segments shown as they stream in, with
their times, and the download buttons appear; a screenshot of the result is taken and checked (a PNG of the
window's size, with text drawn in it), and kept next to the build for a look."""
import base64
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
import urllib.request
import zlib

import websocket  # websocket-client

from common import AUDIO, MODELS, WISP, Checks

c = Checks("e2e web page")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    raise SystemExit("chromium is not installed (scripts/setup.sh --tests installs it)")
SHOT = os.path.join(os.path.dirname(WISP), "web_page.png")


class DevTools:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def wait_event(self, method, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msg = json.loads(self.ws.recv())
            if msg.get("method") == method:
                return msg
        raise TimeoutError(method)

    def js(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return r.get("result", {}).get("value")


def png_size_and_pixels(data):
    """Width, height and the number of distinct (filtered) scanline bytes of a PNG, from its chunks."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    return width, height, len(set(zlib.decompress(idat)))


server = subprocess.Popen([WISP, "serve", "--port", "0", "-t", "2", "-m", os.path.join(MODELS, "tiny.en")],
                          stderr=subprocess.PIPE, text=True)
line = server.stderr.readline()
threading.Thread(target=server.stderr.read, daemon=True).start()
url = "http://127.0.0.1:%s/" % re.search(r":(\d+)/", line).group(1)
profile = tempfile.mkdtemp()
browser = subprocess.Popen([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1000,800",
                            "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    port_file = os.path.join(profile, "DevToolsActivePort")
    for _ in range(300):
        if os.path.exists(port_file) and open(port_file).read().count("\n") >= 1:
            break
        time.sleep(0.1)
    port = open(port_file).read().split("\n")[0]
    targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json"))
    page = DevTools(next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page"))
    page.call("Page.enable")
    page.call("Page.navigate", url=url)
    page.wait_event("Page.loadEventFired")
    c.check(page.js("document.title") == "wisp" and page.js("!!document.getElementById('drop')"),
            "the page loads (title, drop zone)")

    # jfk.wav dropped on the drop zone (a File made in the page from the file's bytes)
    audio = base64.b64encode(open(os.path.join(AUDIO, "jfk.wav"), "rb").read()).decode()
    page.js("(() => { const bytes = Uint8Array.from(atob('%s'), (ch) => ch.charCodeAt(0));"
            "const dt = new DataTransfer(); dt.items.add(new File([bytes], 'jfk.wav', {type: 'audio/wav'}));"
            "document.getElementById('drop').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true,"
            "cancelable: true})); })()" % audio)
    end = time.monotonic() + 60
    while time.monotonic() < end and page.js("document.getElementById('status').dataset.done") != "1":
        time.sleep(0.1)
    status = page.js("document.getElementById('status').textContent")
    text = page.js("document.getElementById('segments').innerText") or ""
    c.check(status.startswith("Done: 11.0 s of audio"), f"the transcription finishes: {status!r}")
    c.check("ask not what your country can do for you" in text.replace(",", "").lower()
            and "[00:00:00.000 → " in text, f"segments with their times: {text[:90]!r}...")
    c.check(page.js("document.getElementById('downloads').hidden") is False, "download buttons shown")
    srt = page.js("file_text('srt')")
    c.check(srt.startswith("1\n00:00:00,000 --> ") and "ask what you can do" in srt, "srt download content")

    shot = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
    with open(SHOT, "wb") as f:
        f.write(shot)
    w, h, distinct = png_size_and_pixels(shot)
    c.check(w == 1000 and h >= 400 and distinct > 20,
            f"screenshot {w}x{h}, {distinct} distinct byte values (text drawn), kept at {SHOT}")
finally:
    browser.kill()
    browser.wait()
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    shutil.rmtree(profile, ignore_errors=True)
c.finish()
