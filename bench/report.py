"""What a benchmark hands back: a table (baseline row first) and what it shows, as Markdown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Table:
    """One benchmark's result."""

    title: str
    """The section heading in ``BENCHMARKS.md``."""
    setup: str
    """What was run, in a sentence or two (load, sizes, durations)."""
    columns: list[str]
    """Column headings."""
    rows: list[list[str]] = field(default_factory=list)
    """Cells, already formatted; the baseline row comes first."""
    findings: list[str] = field(default_factory=list)
    """Sentences saying what the numbers show (and how they compare with the anchors)."""

    def add(self, *cells: object) -> None:
        """Append a row; each cell is shown with ``str``."""
        if len(cells) != len(self.columns):
            raise ValueError(f"{len(cells)} cells for {len(self.columns)} columns")
        self.rows.append([str(cell) for cell in cells])

    def markdown(self) -> str:
        """The section: heading, setup, table, findings."""
        lines = [f"## {self.title}", "", self.setup, ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "|".join("---" for _ in self.columns) + "|")
        lines.extend("| " + " | ".join(row) + " |" for row in self.rows)
        if self.findings:
            lines.extend(["", " ".join(self.findings)])
        return "\n".join(lines) + "\n"


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` (0..1) percentile of ``values`` by the nearest-rank method; NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float | None) -> str:
    """Seconds as milliseconds for a cell (``-`` when unknown)."""
    if seconds is None or math.isnan(seconds):
        return "-"
    return f"{seconds * 1000:.1f} ms"


def mib(kib: int | None) -> str:
    """KiB as MiB for a cell."""
    return "-" if kib is None else f"{kib / 1024:.0f} MiB"


def pct(value: float | None) -> str:
    """A percentage of one core for a cell."""
    return "-" if value is None or math.isnan(value) else f"{value:.1f} %"
