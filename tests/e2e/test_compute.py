"""Compute types and instruction-set levels from the CLI: every compute type transcribes jfk.wav right, at the
baseline level (AVX2) and at the best this CPU has; --isa and WISP_ISA force a level (a level the CPU lacks,
or a name that is none, is a usage error, exit 2); wisp bench names the backend and reports GFLOP/s and the
share of the measured peak."""
import os

from common import AUDIO, MODELS, Checks, normalize, run_wisp

c = Checks("e2e compute types")
JFK = os.path.join(AUDIO, "jfk.wav")
TINY = os.path.join(MODELS, "tiny.en")
WORDS = normalize("And so my fellow Americans ask not what your country can do for you "
                  "ask what you can do for your country")

flags = set()
with open("/proc/cpuinfo") as f:
    for line in f:
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
levels = ["avx2"]
if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= flags:
    levels.append("avx512")
    if "avx512_vnni" in flags:
        levels.append("avx512_vnni")
        if "avx512_bf16" in flags:
            levels.append("avx512_bf16")
            if {"amx_tile", "amx_int8", "amx_bf16"} <= flags:
                levels.append("amx")
best = levels[-1]

for compute in ("auto", "float32", "bfloat16", "int8"):
    for isa in sorted({"avx2", best}):
        p = run_wisp("transcribe", "-m", TINY, "--compute-type", compute, "--isa", isa, "--beam-size", "1", JFK)
        c.check(p.returncode == 0 and normalize(p.stdout) == WORDS,
                f"{compute} at {isa}: {' '.join(p.stdout.split())!r} {p.stderr.strip()[:100]}")

p = run_wisp("bench", "-m", TINY, "-r", "1", "--compute-type", "int8", JFK)
c.check(p.returncode == 0 and f"cpu {best} int8" in p.stdout, f"bench names the backend (cpu {best} int8)")
c.check("GFLOP/s" in p.stdout and "% of peak" in p.stdout and "peak of the compute type" in p.stdout,
        "bench reports GFLOP/s and the share of the peak")
env_bench = run_wisp("bench", "-m", TINY, "-r", "1", JFK, env={"WISP_ISA": "avx2"})
c.check(env_bench.returncode == 0 and "cpu avx2 " in env_bench.stdout, "WISP_ISA=avx2 forces the baseline kernels")

p = run_wisp("transcribe", "-m", TINY, "--isa", "sse2", JFK)
c.check(p.returncode == 2, f"--isa sse2 is a usage error (exit {p.returncode})")
p = run_wisp("transcribe", "-m", TINY, JFK, env={"WISP_ISA": "sse2"})
c.check(p.returncode == 2 and "WISP_ISA" in p.stderr, f"WISP_ISA=sse2 is refused: {p.stderr.strip()[:120]!r}")
missing = [lvl for lvl in ("avx512", "avx512_vnni", "avx512_bf16", "amx") if lvl not in levels]
if missing:
    p = run_wisp("transcribe", "-m", TINY, "--isa", missing[-1], JFK)
    c.check(p.returncode == 2 and "cannot run" in p.stderr,
            f"--isa {missing[-1]} on a CPU without it: exit {p.returncode}, {p.stderr.strip()[:120]!r}")
p = run_wisp("transcribe", "-m", TINY, "--compute-type", "int4", JFK)
c.check(p.returncode == 2, f"--compute-type int4 is a usage error (exit {p.returncode})")
c.finish()
