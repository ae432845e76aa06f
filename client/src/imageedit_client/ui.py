"""The terminal: data to stdout (tables, or JSON with --json), messages and progress to stderr."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table


class Ui:
    def __init__(self, *, json_output: bool = False, quiet: bool = False) -> None:
        self.json_output = json_output
        self.quiet = quiet
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.out = Console(highlight=False, soft_wrap=True)

    @property
    def live(self) -> bool:
        """Progress bars and spinners only on a terminal; a log or a pipe gets plain lines."""
        return self.err.is_terminal and not self.quiet

    def message(self, text: str) -> None:
        if not self.quiet:
            self.err.print(text, markup=False, highlight=False)

    def warn(self, text: str) -> None:
        self.err.print(text, markup=False, highlight=False, style="yellow" if self.err.is_terminal else None)

    def error(self, text: str) -> None:
        self.err.print(
            f"error: {text}", markup=False, highlight=False, style="red" if self.err.is_terminal else None
        )

    def data(self, value) -> None:
        sys.stdout.write(json.dumps(value, indent=2, sort_keys=False, default=str) + "\n")
        sys.stdout.flush()

    def line(self, text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def table(self, title: str | None, columns: list[str], rows: list[list]) -> None:
        """A table on a terminal; tab-separated lines (header first) in a pipe, for cut and awk."""
        if not self.out.is_terminal:
            for row in [columns, *rows]:
                self.line("\t".join("" if cell is None else str(cell).replace("\t", " ") for cell in row))
            return
        table = Table(title=title, show_lines=False, header_style="bold")
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*["" if cell is None else str(cell) for cell in row])
        self.out.print(table)

    @contextmanager
    def transfer(self, label: str, total: int):
        """A progress bar in MB; yields (advance, restart)."""
        if not self.live:
            self.message(f"{label} ({total / 1e6:.1f} MB)" if total else label)
            yield (lambda _n: None), (lambda: None)
            return
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=False),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self.err,
            transient=True,
        ) as progress:
            task = progress.add_task(label, total=total or None)
            yield (lambda n: progress.advance(task, n)), (lambda: progress.reset(task, total=total))

    @contextmanager
    def waiting(self, label: str):
        """A spinner while the server works; yields a function that changes its text."""
        if not self.live:
            self.message(label)
            yield lambda text: None
            return
        with self.err.status(label) as status:
            yield lambda text: status.update(text)


def confirm(ui: Ui, question: str) -> bool:
    """Ask on the terminal; False without one (scripts pass --yes)."""
    if not sys.stdin.isatty():
        return False
    ui.err.print(f"{question} [y/N] ", end="", markup=False)
    try:
        return input().strip().lower() in ("y", "yes")
    except EOFError:
        return False
