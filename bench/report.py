"""Printing: section headings, aligned tables, and the final PASS/MISS summary block."""
from dataclasses import dataclass


def heading(title: str) -> None:
    print(f"\n== {title}", flush=True)


def table(rows: list[tuple], indent: str = "  ") -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(indent + "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
    print(end="", flush=True)


@dataclass(frozen=True)
class Figure:
    name: str
    value: str
    target: str
    passed: bool | None  # None: informational, no target
    raw: float | None = None  # the number behind `value`, for ratios

    @property
    def verdict(self) -> str:
        return "info" if self.passed is None else ("PASS" if self.passed else "MISS")


def summary(figures: list[Figure]) -> None:
    heading("summary")
    table([("figure", "value", "target", "result")] +
          [(f.name, f.value, f.target, f.verdict) for f in figures])


def fmt_int(value: float) -> str:
    return f"{value:,.0f}"
