"""The GPU's busy share and memory, sampled in a thread while something else runs (bench/gpu_check.py).

Device-wide figures from NVML (the `nvidia-ml-py` package, `pynvml`), else from `nvidia-smi`: a search's
trials run in other processes, so the caller's own `torch.cuda` counters would see none of their work.
Without either (a CPU machine) the sampler records nothing and says so.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Callable

Reading = tuple[float, float]  # (GPU busy %, MiB of GPU memory in use)


def nvml_reader() -> Callable[[], Reading | None] | None:
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    except pynvml.NVMLError:  # no driver or no GPU
        return None

    def read() -> Reading | None:
        try:
            return float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu), pynvml.nvmlDeviceGetMemoryInfo(handle).used / 2**20
        except pynvml.NVMLError:
            return None

    return read


def smi_reader() -> Callable[[], Reading | None] | None:
    if shutil.which("nvidia-smi") is None:
        return None
    query = ["nvidia-smi", "--id=0", "--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits"]

    def read() -> Reading | None:
        try:
            busy, used = subprocess.run(query, capture_output=True, text=True, check=True, timeout=10).stdout.split(",")
            return float(busy), float(used)
        except (OSError, subprocess.SubprocessError, ValueError):
            return None

    return read if read() is not None else None


class GpuSampler:
    """``start()``, then ``stop()`` returns the summary of the readings taken every ``interval_s`` in between.

    NVML's utilization is the share of the last sample period in which a kernel ran on the GPU.
    """

    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self.source, self.read = next(
            ((name, r) for name, make in (("nvml", nvml_reader), ("nvidia-smi", smi_reader)) if (r := make()) is not None),
            ("none", None),
        )
        self.readings: list[Reading] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            reading = self.read()
            if reading is not None:  # one failed reading must not end the sampling
                self.readings.append(reading)

    def start(self) -> None:
        if self.read is not None:
            self._thread.start()

    def stop(self) -> dict[str, float | int | str | None]:
        """{"source", "samples", "busy_mean_pct", "busy_median_pct", "memory_peak_mib"} (None without readings)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        busy = [b for b, _ in self.readings]
        return {
            "source": self.source,
            "samples": len(self.readings),
            "busy_mean_pct": statistics.fmean(busy) if busy else None,
            "busy_median_pct": statistics.median(busy) if busy else None,
            "memory_peak_mib": max(m for _, m in self.readings) if self.readings else None,
        }


def sample_for(seconds: float) -> dict[str, float | int | str | None]:
    """The summary of a sampler left to run ``seconds`` (the dry run's check that it starts and stops)."""
    sampler = GpuSampler(interval_s=min(0.5, seconds / 2))
    sampler.start()
    time.sleep(seconds)
    return sampler.stop()
