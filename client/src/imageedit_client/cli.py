"""The `imageedit` command: arguments, help with examples, and one place that turns failures into
a sentence on stderr and an exit code."""

from __future__ import annotations

import argparse
import sys

from imageedit_client import __version__, exits
from imageedit_client.exits import CliError

EXIT_CODES = """exit status:
  0 success   1 an edit (or a batch item) failed   2 bad usage   3 not signed in / sign-in refused
  4 the server refused the request   5 quota or budget   6 server or network unavailable   130 interrupted"""

MAIN_EXAMPLES = f"""examples:
  imageedit login --endpoint https://api.example.com --username alice
  imageedit edit photo.jpg --task erase --mask mask.png -o cleaned.jpg
  imageedit batch photos/ --task remove_background --out cutouts/ --recursive --jobs 4
  imageedit history --limit 5

The server is --endpoint, else $IMAGEEDIT_ENDPOINT, else the one you last signed in to.

{EXIT_CODES}"""


def _command(parent, name: str, help_text: str, examples: str):
    return parent.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=f"examples:\n{examples}\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _common(parser) -> None:
    parser.add_argument(
        "--endpoint", help="the API's base URL (default: $IMAGEEDIT_ENDPOINT or the last login's)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON to stdout, for scripts")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or messages on stderr")


def _edit_options(parser) -> None:
    parser.add_argument(
        "--task",
        required=True,
        help="inpaint, erase, outpaint, remove_background, upscale... (imageedit models)",
    )
    parser.add_argument("--mask", help="the mask: white (or opaque) where the photo should change")
    parser.add_argument("--prompt", help="what should be there")
    parser.add_argument("--negative-prompt", dest="negative_prompt")
    parser.add_argument("--model", help="model family: stability, nova or titan (default: the server's)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--count", type=int, help="how many candidates (1-5)")
    for side in ("left", "right", "up", "down"):
        parser.add_argument(
            f"--{side}",
            type=int,
            help=f"outpaint: pixels to add on the {side}"
            if side in ("left", "right")
            else f"outpaint: pixels to add {side}",
        )
    parser.add_argument("--search-prompt", dest="search_prompt", help="replace: what to find")
    parser.add_argument("--grow-mask", dest="grow_mask", type=int)
    parser.add_argument("--output-format", dest="output_format", choices=["png", "jpeg", "webp"])
    parser.add_argument(
        "--param", action="append", metavar="NAME=VALUE", help="any other edit field (repeatable)"
    )


def _jobs(value: str) -> int:
    # Bounded: the server's throttling and the model's quota, not this machine, set the useful limit.
    number = int(value) if value.isdigit() else 0
    if not 1 <= number <= 16:
        raise argparse.ArgumentTypeError("give a number from 1 to 16")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imageedit",
        description="imageedit from a terminal: sign in, edit photos, batch-edit folders (resumable).",
        epilog=MAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"imageedit-client {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    login = _command(
        commands,
        "login",
        "Sign in (answers a new-password or authenticator-code challenge).",
        "  imageedit login --username alice\n"
        "  printf '%s\\n' \"$PASSWORD\" | imageedit login --username alice --password-stdin\n"
        "  imageedit login --username alice --code 123456   # two-step sign-in",
    )
    _common(login)
    login.add_argument("--username")
    login.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin (a new password, when asked for one, from the next line)",
    )
    login.add_argument(
        "--code", help="the 6-digit code of your authenticator app, if the account asks for one"
    )

    logout = _command(
        commands,
        "logout",
        "Sign out: revoke this sign-in on the server and forget its tokens.",
        "  imageedit logout\n  imageedit logout --everywhere",
    )
    _common(logout)
    logout.add_argument("--everywhere", action="store_true", help="end every sign-in of the account")

    whoami = _command(commands, "whoami", "Show who is signed in.", "  imageedit whoami --json")
    _common(whoami)

    edit = _command(
        commands,
        "edit",
        "Edit one photo: upload it, run the task, wait, download the full-resolution result.",
        "  imageedit edit photo.jpg --task erase --mask mask.png -o out.jpg\n"
        "  imageedit edit photo.heic --task remove_background\n"
        "  imageedit edit photo.png --task outpaint --left 256 --right 256 --dry-run",
    )
    _common(edit)
    edit.add_argument("photo")
    _edit_options(edit)
    edit.add_argument(
        "-o", "--output", help="where to save (a file name or a folder); default: PHOTO-TASK.<ext> here"
    )
    edit.add_argument(
        "--dry-run", action="store_true", help="only check and print what it would cost; nothing is recorded"
    )
    edit.add_argument("--idempotency-key", help="reuse a key to make a retried command return the same edit")

    batch = _command(
        commands,
        "batch",
        "Edit every photo of a folder; a rerun resumes without charging twice.",
        "  imageedit batch photos/ --task erase --mask masks/ --out cleaned/ --recursive --jobs 4\n"
        "  imageedit batch photos/ --task remove_background --out cutouts/ --yes --json > report.json",
    )
    _common(batch)
    batch.add_argument("in_dir", metavar="IN_DIR")
    _edit_options(batch)
    batch.add_argument(
        "--out", required=True, metavar="OUT_DIR", help="results go here, in the same subfolders"
    )
    batch.add_argument("--recursive", action="store_true", help="also the photos in subfolders")
    batch.add_argument("--jobs", type=_jobs, default=2, help="edits at once, 1-16 (default 2)")
    batch.add_argument(
        "--yes", action="store_true", help="start without asking (the estimate is still shown)"
    )
    batch.add_argument(
        "--retry-failed", action="store_true", help="make a new attempt for items whose edit failed before"
    )
    batch.add_argument(
        "--server",
        action="store_true",
        help="hand the batch to the server (POST /api/v1/batches): it runs without this terminal; "
        "this follows it and downloads the results (the same command again follows it after Ctrl-C)",
    )

    history = _command(commands, "history", "Your edits, newest first.", "  imageedit history --limit 50")
    _common(history)
    history.add_argument("--limit", type=int, default=20)

    for name, help_text in (
        ("show", "One edit's record."),
        ("versions", "The version tree an edit belongs to."),
    ):
        sub = _command(commands, name, help_text, f"  imageedit {name} 7f9c...  --json")
        _common(sub)
        sub.add_argument("id")

    download = _command(
        commands, "download", "Download an edit's results.", "  imageedit download 7f9c... -o results/"
    )
    _common(download)
    download.add_argument("id")
    download.add_argument("-o", "--output", help="a file name or a folder (default: here)")

    delete = _command(
        commands, "delete", "Delete edits and their images.", "  imageedit delete 7f9c... 81ab..."
    )
    _common(delete)
    delete.add_argument("ids", nargs="+", metavar="ID")

    for name, help_text in (
        ("models", "The tasks, whether each runs here, and their price per image."),
        ("usage", "Today's edits and spend against your quota and budget."),
    ):
        _common(_command(commands, name, help_text, f"  imageedit {name}\n  imageedit {name} --json"))
    return parser


def _handler(name: str):
    # Imported when needed: `imageedit --help` stays quick.
    from imageedit_client import account, batch_command, commands

    return {
        "login": account.command_login,
        "logout": account.command_logout,
        "whoami": account.command_whoami,
        "edit": commands.command_edit,
        "batch": batch_command.command_batch,
        "history": commands.command_history,
        "show": commands.command_show,
        "versions": commands.command_versions,
        "download": commands.command_download,
        "delete": commands.command_delete,
        "models": commands.command_models,
        "usage": commands.command_usage,
    }[name]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from imageedit_client.ui import Ui

    ui = Ui(json_output=getattr(args, "json", False), quiet=getattr(args, "quiet", False))
    try:
        return _handler(args.command)(args, ui)
    except CliError as exc:
        ui.error(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        ui.error("interrupted")
        return exits.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
