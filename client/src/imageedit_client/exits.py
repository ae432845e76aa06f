"""Exit codes, one per kind of outcome, so scripts can tell them apart (documented in docs/cli.md)."""

from __future__ import annotations

OK = 0
FAILED = 1  # the edit ended FAILED, or at least one item of a batch did
USAGE = 2  # bad arguments or a local file that cannot be read (argparse uses 2 too)
AUTH = 3  # not signed in, the sign-in expired or was refused
REFUSED = 4  # the server refused the request (a 4xx: invalid input, unsupported image, not found)
QUOTA = 5  # the daily quota or a budget does not leave room (refused up front, or by the server)
UNAVAILABLE = 6  # the server or the network failed (5xx, timeout, connection refused)
INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it

QUOTA_CODES = frozenset({"daily_quota_exceeded", "daily_budget_exceeded", "monthly_budget_exceeded"})


class CliError(Exception):
    """A failure to report in one sentence on stderr, with the exit code it means."""

    def __init__(self, message: str, *, exit_code: int = USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
