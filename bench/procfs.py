"""What ``/proc`` tells about a process: CPU time and memory (psutil is not a dependency).

``/proc/<pid>/stat`` fields 14 and 15 are user and system time in clock ticks; ``VmHWM`` and
``VmRSS`` of ``/proc/<pid>/status`` are the peak and current resident set (proc(5)).
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time ``pid`` has used so far, in seconds."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = raw[raw.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def memory_kib(pid: int, field: str = "VmHWM") -> int:
    """A ``kB`` line of ``/proc/<pid>/status`` (``VmHWM``: peak resident set; ``VmRSS``: now)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(f"no {field} for process {pid}")


@dataclass
class CpuMeter:
    """CPU a process uses over an interval, as a percentage of one core."""

    pid: int
    _cpu: float = 0.0
    _wall: float = 0.0

    def start(self) -> None:
        """Begin the interval."""
        self._cpu = cpu_seconds(self.pid)
        self._wall = time.monotonic()

    def percent(self) -> float:
        """Percent of one core used since :meth:`start`."""
        wall = time.monotonic() - self._wall
        return 100.0 * (cpu_seconds(self.pid) - self._cpu) / wall if wall > 0 else 0.0


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo``."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"
