"""Noise has a bounded cost per 30-s window. On noise every fallback temperature used to fail and each pass ran
to the 224-token limit (repetition loops), so a window cost up to 6 passes x 224 decoder steps (~7 s), and
with a fine --temperature-increment-on-fallback without end. Now a pass stuck in a loop ends early, and a
window spends at most 2 x 224 decoder steps on fallback before the last result stands. Counted in decoder
steps (--timings), not wall time. In the sequential loop (--batch 0) and in the batched mode (the default),
whose chunks each run the same fallback."""
import json
import os
import subprocess
import tempfile

from common import Checks, run_wisp

c = Checks("e2e noise")
SAMPLE_LEN = 224
# The budget (2 passes' worth), one more whole pass that may start just under it, one prompt step per pass.
MAX_STEPS_PER_WINDOW = 2 * SAMPLE_LEN + SAMPLE_LEN + 12


def timings(stderr):
    lines = [l for l in stderr.splitlines() if l.startswith("wisp-timings ")]
    return json.loads(lines[0][len("wisp-timings "):]) if lines else {}


with tempfile.TemporaryDirectory() as d:
    for colour, seed, amp in (("pink", 1, 0.3), ("white", 7, 1.0)):
        noise = os.path.join(d, f"{colour}.wav")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"anoisesrc=d=30:c={colour}:seed={seed}:a={amp}", "-ar", "16000", "-ac", "1", noise], check=True)
        # Every pass made to fail (log-prob threshold 0, no window counted as silence), 51 temperatures.
        for mode in (["--batch", "0"], []):
            p = run_wisp("transcribe", "-q", "--timings", "--temperature-increment-on-fallback", "0.02",
                         "--logprob-threshold", "0", "--no-speech-threshold", "1", *mode, noise, timeout=900)
            t = timings(p.stderr)
            per_window = t.get("decode_steps", 10**9) / max(t.get("windows", 1), 1)
            c.check(p.returncode == 0 and per_window <= MAX_STEPS_PER_WINDOW,
                    f"{colour} noise {' '.join(mode) or '(batched)'}, every pass failing: {per_window:.0f} decoder "
                    f"steps per window (<= {MAX_STEPS_PER_WINDOW}), {t.get('decode_passes')} passes, "
                    f"{t.get('windows')} windows")
        # Default options.
        p = run_wisp("transcribe", "-q", "--timings", "-f", "json", noise, timeout=900)
        t = timings(p.stderr)
        per_window = t.get("decode_steps", 10**9) / max(t.get("windows", 1), 1)
        c.check(p.returncode == 0 and per_window <= MAX_STEPS_PER_WINDOW,
                f"{colour} noise, default options: {per_window:.0f} decoder steps per window, "
                f"{t.get('decode_passes')} passes")
c.finish()
