"""The public REST API (/api/v1/...) over HTTP: tokens that refresh themselves, errors in words, retries
that are safe (429 honouring Retry-After; anything else only when repeating cannot do anything twice)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import requests

from imageedit_client import __version__, exits
from imageedit_client.exits import CliError

TIMEOUT = (10, 60)  # connect, read: an edit's POST waits at most 25 s on the server
MAX_ATTEMPTS = 6
MAX_RETRY_AFTER = 120  # seconds; a longer wait is reported rather than slept through
REFRESH_MARGIN = 60  # refresh an access token this long before it expires


class ApiError(CliError):
    """An answer of 400 or more, with the server's code and message."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: float | None = None) -> None:
        self.status, self.code, self.retry_after = status, code, retry_after
        super().__init__(message, exit_code=_exit_code(status, code))


def _exit_code(status: int, code: str) -> int:
    if code in exits.QUOTA_CODES:
        return exits.QUOTA
    if status == 401:
        return exits.AUTH
    if status >= 500:
        return exits.UNAVAILABLE
    return exits.REFUSED


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from this API; fall back to backoff


def error_from_response(response: requests.Response) -> ApiError:
    """The app answers {"error": {"code", "message", "fields"?, "problems"?}}; API Gateway {"message"}."""
    try:
        body = response.json()
    except ValueError:
        body = None
    code, message = f"http_{response.status_code}", (response.text or response.reason or "").strip()[:300]
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        code = str(error.get("code") or code)
        message = str(error.get("message") or message)
        fields = error.get("fields")
        if isinstance(fields, dict) and fields:
            details = "; ".join(
                f"{name}: {' '.join(map(str, value)) if isinstance(value, list) else value}"
                for name, value in fields.items()
            )
            message = f"{message} ({details})" if details not in message else message
        problems = error.get("problems")
        if isinstance(problems, list) and problems:
            message = f"{message} " + " ".join(map(str, problems))
    elif isinstance(body, dict) and body.get("message"):
        message = str(body["message"])  # API Gateway's own answers (authorizer, throttling, limits)
    if not message:
        message = f"HTTP {response.status_code}"
    return ApiError(response.status_code, code, message, retry_after=_retry_after(response))


class Api:
    """One endpoint and the person's stored sign-in for it."""

    def __init__(self, endpoint: str, store, *, notify: Callable[[str], None] | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.store = store
        self.notify = notify or (lambda message: None)
        self.http = requests.Session()
        self.http.headers["User-Agent"] = f"imageedit-cli/{__version__}"
        self._lock = threading.Lock()
        self._record: dict | None = None

    # --- tokens ---------------------------------------------------------------------------------

    def record(self) -> dict:
        with self._lock:
            if self._record is None:
                self._record = self.store.load(self.endpoint)
            if not self._record:
                raise CliError(
                    f"Not signed in to {self.endpoint}: run `imageedit login` first.", exit_code=exits.AUTH
                )
            return self._record

    def tokens_save(self, *, username: str, tokens: dict) -> None:
        record = {
            "username": username,
            "access_token": tokens["access_token"],
            "refresh_token": tokens.get("refresh_token") or (self._record or {}).get("refresh_token"),
            "expires_at": time.time() + int(tokens.get("expires_in", 3600)),
        }
        self.store.save(self.endpoint, record)
        self._record = record

    def tokens_forget(self) -> None:
        self.store.delete(self.endpoint)
        self._record = None

    def _access_token(self, *, force_refresh: bool = False) -> str:
        record = self.record()
        if force_refresh or record.get("expires_at", 0) - REFRESH_MARGIN < time.time():
            with self._lock:
                # Another thread may have refreshed while this one waited for the lock.
                if force_refresh or self._record.get("expires_at", 0) - REFRESH_MARGIN < time.time():
                    self._refresh()
            record = self._record
        return record["access_token"]

    def _refresh(self) -> None:
        refresh_token = (self._record or {}).get("refresh_token")
        if not refresh_token:
            raise CliError("The sign-in has expired: run `imageedit login` again.", exit_code=exits.AUTH)
        try:
            tokens = self.post("/api/v1/auth/refresh", auth=False, json={"refresh_token": refresh_token})
        except ApiError as exc:
            if exc.status >= 500 or exc.status == 429:
                raise
            # Revoked (signed out elsewhere), expired after 30 days, or the account was disabled.
            raise CliError(
                f"The sign-in has ended ({exc.message}): run `imageedit login` again.", exit_code=exits.AUTH
            ) from exc
        record = {
            **self._record,
            "access_token": tokens["access_token"],
            "expires_at": time.time() + int(tokens.get("expires_in", 3600)),
        }
        self.store.save(self.endpoint, record)
        self._record = record

    # --- requests -------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, auth: bool = True, retry: bool = True, **kwargs):
        """Send; refresh once on 401; retry 429 (not a quota) and, when repeating is safe, 5xx and
        network failures. Raises ApiError for any answer of 400 or more."""
        url = path if path.startswith("http") else f"{self.endpoint}{path}"
        headers = dict(kwargs.pop("headers", None) or {})
        # Repeating is safe for reads, deletes and a POST carrying an Idempotency-Key.
        repeatable = method in ("GET", "HEAD", "DELETE") or "Idempotency-Key" in headers
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            if auth:
                headers["Authorization"] = f"Bearer {self._access_token()}"
            try:
                response = self.http.request(method, url, headers=headers, timeout=TIMEOUT, **kwargs)
            except requests.RequestException as exc:
                if retry and repeatable and attempt < MAX_ATTEMPTS:
                    self._pause(None, attempt, f"{type(exc).__name__} from {self.endpoint}")
                    continue
                raise CliError(
                    f"Could not reach {self.endpoint}: {exc.__class__.__name__}: {exc}",
                    exit_code=exits.UNAVAILABLE,
                ) from exc
            if response.status_code < 400:
                return response
            error = error_from_response(response)
            if response.status_code == 401 and auth and not refreshed:
                refreshed = True
                self._access_token(force_refresh=True)
                continue
            if response.status_code == 401 and auth:
                raise CliError(
                    f"The server refused the sign-in ({error.message}): run `imageedit login` again.",
                    exit_code=exits.AUTH,
                )
            throttled = response.status_code == 429 and error.code not in exits.QUOTA_CODES
            transient = response.status_code in (502, 503, 504) and repeatable
            if retry and (throttled or transient) and attempt < MAX_ATTEMPTS:
                if error.retry_after is not None and error.retry_after > MAX_RETRY_AFTER:
                    raise error
                self._pause(error.retry_after, attempt, error.message)
                continue
            raise error

    def _pause(self, retry_after: float | None, attempt: int, why: str) -> None:
        # Retry-After when the server gives one; else exponential backoff with jitter.
        delay = (
            retry_after if retry_after is not None else min(30.0, 2 ** (attempt - 1)) * random.uniform(0.5, 1)
        )
        self.notify(f"{why}; trying again in {delay:.0f} s")
        time.sleep(delay)

    def get(self, path: str, **kwargs) -> dict:
        return self.request("GET", path, **kwargs).json()

    def post(self, path: str, **kwargs) -> dict:
        return self.request("POST", path, **kwargs).json()
