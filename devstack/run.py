"""`make run`: the local stack, and the app behind the local API Gateway, on 127.0.0.1, until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from devstack.persistence import state_reset
from devstack.stack import LocalStack

ROOT = Path(__file__).resolve().parent.parent


def gateway_environment(stack: LocalStack) -> dict[str, str]:
    """What the function's environment is locally: the local stack's endpoints and names."""
    return {**stack.app_environment(), "IMAGEEDIT_ENV": "local"}


def _interrupt(signum, frame) -> None:
    # The first signal starts the stop; later ones (a second Ctrl-C, a supervisor's repeated SIGTERM)
    # must not interrupt it halfway, which left a double traceback and state half-closed.
    _ignore_signals()
    raise KeyboardInterrupt


def _sweep_uploads_hourly(stop: threading.Event) -> None:
    """The local stand-in for the bucket's lifecycle rule: delete direct uploads no edit used in time."""
    from editor.services.uploads import uploads_sweep

    while not stop.is_set():
        try:
            uploads_sweep()
        except Exception:  # the next round tries again; a sweep must never stop the app
            logging.getLogger("devstack").warning("upload sweep failed", exc_info=True)
        stop.wait(3600)


def _ignore_signals() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "5001")))
    parser.add_argument("--bedrock-port", type=int, default=int(os.environ.get("BEDROCK_PORT", "5002")))
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".devstack")
    parser.add_argument(
        "--reset", action="store_true", help="start empty; the old users, edits and images are moved aside"
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # moto's server logs every request it serves; the app's own JSON lines say what matters.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # A terminal's Ctrl-C is SIGINT; a supervisor's stop is SIGTERM: both end the same clean way.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    if args.reset:
        kept = state_reset(args.state_dir)
        if kept:
            print(f"local state reset: the old state was moved to {kept} (delete it when you are sure)")

    stack = LocalStack(state_dir=args.state_dir, moto_port=args.moto_port, bedrock_port=args.bedrock_port)
    try:
        stack.start()
        os.environ.update(stack.app_environment())
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imageedit.settings")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("create_tables")
        from editor.services.batches.recovery import batches_requeue
        from editor.services.edits.expiry import edits_fail_interrupted

        # No job runs yet in this process: any edit still active was cut off when the last run ended.
        interrupted = edits_fail_interrupted()
        if interrupted:
            print(f"{interrupted} edit(s) interrupted by the last stop were recorded as failed (interrupted)")
        # Batch items are the queue's: moto's SQS starts empty, so what is unfinished is queued again.
        requeued = batches_requeue()
        if requeued:
            print(f"{requeued} unfinished batch item(s) queued again", flush=True)
        username = os.environ.get("DEMO_USERNAME", "demo")
        password = os.environ.get("DEMO_PASSWORD", "Demo-password-1")
        call_command("create_user", username, password=password, email=f"{username}@example.com")
        stop_sweeping = threading.Event()
        threading.Thread(target=_sweep_uploads_hourly, args=(stop_sweeping,), daemon=True).start()
        print(
            "\n"
            f"  imageedit is running at   http://127.0.0.1:{args.port}/\n"
            f"  demo sign-in              {username} / {password}\n"
            f"  local AWS (moto)          {stack.moto_url}   (region us-east-1, keys: testing/testing)\n"
            f"  local Bedrock engine      {stack.bedrock_url}\n"
            f"  local state               {args.state_dir}  (make reset sets it aside)\n"
            f"  local mail (outbox)       {stack.outbox_dir}  (and a line here per message)\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )
        # Served the way AWS serves it: API Gateway's rules from infra/template.yaml, then Zappa's
        # handler (`python manage.py runserver` still works for debugging Django alone).
        from devstack.gateway_server import GatewayServer

        gateway = GatewayServer(environment=gateway_environment(stack), port=args.port).start()
        from devstack.batch_poller import BatchWorker

        worker = BatchWorker(stack, gateway_environment(stack))
        try:
            threading.Event().wait()
        finally:
            worker.stop()
            gateway.stop()
    except KeyboardInterrupt:
        pass
    finally:
        _ignore_signals()
        stack.stop()
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
