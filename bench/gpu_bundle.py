"""Pack what bench/gpu_check.py needs on a GPU machine with no network: .gpu/site.tar.xz (git-ignored).

The workplace's device machine runs Python 3.12 with torch, numpy, pandas, pyarrow, aiohttp, grpcio, protobuf
and the like already installed, but not Ray or Optuna (/work/.library/device/KINDS.md), and a call carries at
most 64 MiB. So this resolves Ray (with the extras the project installs) and Optuna, at this environment's
versions, for CPython 3.12 on x86-64 Linux; installs what the device lacks into a folder `site/` (no bytecode,
no scripts); drops Ray's Java jars (31 MB compressed; a search starts no Java worker) and strips the debug
symbols of its three binaries; and packs it with xz: 44 MiB (xz's compression takes minutes on 2 cores). The real
data's training files (21.5 MiB) do not fit beside it, so the device check runs on the demo data, tiled to the
same 48,000 samples of the same shapes: the figures measure speed, which the data's content barely changes.

    python bench/gpu_bundle.py            # then: the device call in bench/gpu_check.py's docstring
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / ".gpu"
PLATFORM = [
    "--only-binary=:all:",
    "--python-version",
    "3.12",
    "--implementation",
    "cp",
    *[
        arg
        for tag in (
            "manylinux_2_28_x86_64",
            "manylinux_2_27_x86_64",
            "manylinux_2_17_x86_64",
            "manylinux2014_x86_64",
            "manylinux_2_5_x86_64",
            "manylinux1_x86_64",
        )
        for arg in ("--platform", tag)
    ],
]
# Compiled or large packages that the device image holds already (KINDS.md's list); the rest is small and carried.
ON_DEVICE = {
    "numpy",
    "pandas",
    "pyarrow",
    "grpcio",
    "protobuf",
    "aiohttp",
    "yarl",
    "multidict",
    "frozenlist",
    "propcache",
    "msgpack",
    "markupsafe",
    "pyyaml",
    "charset-normalizer",
    "wrapt",
    "python-dateutil",
    "tzdata",
    "six",
    "requests",
    "urllib3",
    "certifi",
    "idna",
    "torch",
    "scikit-learn",
    "scipy",
    "matplotlib",
    "tensorboard",
}
DROP = ["ray/jars", "bin"]
STRIP = ["ray/_raylet.so", "ray/core/src/ray/gcs/gcs_server", "ray/core/src/ray/raylet/raylet"]


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


def requirements(work: Path) -> list[str]:
    """name==version of everything Ray and Optuna need on CPython 3.12, less what the device holds."""
    report = work / "report.json"
    pip(
        "install",
        "--quiet",
        "--dry-run",
        "--ignore-installed",
        "--report",
        str(report),
        *PLATFORM,
        "--target",
        str(work / "t"),
        f"ray[default,tune,train]=={version('ray')}",
        f"optuna=={version('optuna')}",
    )
    installs = json.loads(report.read_text())["install"]
    return [
        f"{m['name']}=={m['version']}"
        for m in (i["metadata"] for i in installs)
        if m["name"].lower().replace("_", "-") not in ON_DEVICE
    ]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        reqs = requirements(work)
        print(f"{len(reqs)} packages for the device: {' '.join(reqs)}", flush=True)
        site = work / "site"
        pip("install", "--quiet", "--no-deps", "--no-compile", *PLATFORM, "--target", str(site), *reqs)
        for path in DROP:
            shutil.rmtree(site / path, ignore_errors=True)
        subprocess.run(["strip", "--strip-unneeded", *[str(site / path) for path in STRIP]], check=True)
        tar = OUT / "site.tar.xz"
        subprocess.run(["tar", "-cJf", str(tar), "-C", str(work), "site"], check=True, env={**os.environ, "XZ_OPT": "-6 -T0"})
    print(f"wrote {tar} ({tar.stat().st_size / 2**20:.1f} MiB; a call carries at most 64 MiB, the repository's files included)")


if __name__ == "__main__":
    main()
