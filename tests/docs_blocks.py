"""The shell blocks of README.md and docs/**/*.md that a user is told to run, as the docs test runs them.

A block is a fenced ```sh, ```bash or ```console block (a console block's commands are its `$ ` lines).
An HTML comment on the line before the fence, `<!-- not-run: why -->`, leaves a block out with its reason;
`<!-- run-by: tests/....py (how) -->` anywhere in a file says a test of its own runs the file's blocks
(in order, in one shell, say) and leaves them out here.
The docs use the local stack's default addresses (http://127.0.0.1:8000, moto on :5001, the engine on
:5002); the test rewrites them to the ports of the stack it started.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_LANGUAGES = {"sh", "bash", "console"}
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)\s*$")
# Markers are lines of their own (a sentence that mentions one is not a marker).
_NOT_RUN = re.compile(r"^\s*<!--\s*not-run:\s*(?P<reason>.+?)\s*-->\s*$")
_RUN_BY = re.compile(r"^\s*<!--\s*run-by:\s*(?P<test>\S+)\s*(?P<how>.*?)\s*-->\s*$", re.M)


@dataclass(frozen=True)
class ShellBlock:
    path: str  # relative to the repository
    line: int  # of the opening fence
    language: str
    script: str
    not_run: str | None  # the reason, when the docs mark the block

    @property
    def name(self) -> str:
        return f"{self.path}:{self.line}"


def doc_files(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("**/*.md"))]


def _console_commands(lines: list[str]) -> list[str]:
    commands, continued = [], False
    for line in lines:
        if line.startswith("$ "):
            commands.append(line[2:])
        elif continued:
            commands.append(line)
        else:
            continue
        continued = line.rstrip().endswith("\\")
    return commands


def shell_blocks(path: Path, root: Path = ROOT) -> list[ShellBlock]:
    blocks: list[ShellBlock] = []
    text = path.read_text()
    lines = text.splitlines()
    run_by = _RUN_BY.search(text)
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening or not opening["lang"]:
            index += 1
            continue
        indent, language, start = opening["indent"], opening["lang"], index
        body: list[str] = []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index][len(indent) :] if lines[index].startswith(indent) else lines[index])
            index += 1
        index += 1
        if language not in RUN_LANGUAGES:
            continue
        before = next((lines[i] for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        marked = _NOT_RUN.search(before)
        reason = marked["reason"] if marked else None
        if run_by and not reason:
            reason = f"run by {run_by['test']} {run_by['how']}".strip()
        script = "\n".join(_console_commands(body) if language == "console" else body)
        blocks.append(
            ShellBlock(
                path=str(path.relative_to(root)),
                line=start + 1,
                language=language,
                script=script + "\n",
                not_run=reason,
            )
        )
    return blocks


def all_shell_blocks(root: Path = ROOT) -> list[ShellBlock]:
    return [block for path in doc_files(root) if path.exists() for block in shell_blocks(path, root)]


def for_the_stack(script: str, *, base: str, moto: str, bedrock: str) -> str:
    """The script with the documented default addresses replaced by a running stack's."""
    return (
        script.replace("http://127.0.0.1:8000", base)
        .replace("http://localhost:8000", base)
        .replace("http://127.0.0.1:5001", moto)
        .replace("http://127.0.0.1:5002", bedrock)
    )
