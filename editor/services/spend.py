"""Spend people can see and cap: the daily count quota, the per-person daily budget and the operator's
monthly budget, taken atomically with the edit's item (editor/services/edits/admission.py) before any
model call."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.conf import settings
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from editor.errors import ServiceError
from editor.metrics import emit, metrics_quota_refused
from editor.models import QuotaCounter, condition_failed
from editor.users import CognitoUser

MICRO = 1_000_000


def micro_usd(usd: float) -> int:
    """Dollars as whole millionths: DynamoDB adds and compares them exactly."""
    return round(usd * MICRO)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def day_resets_at(now: dt.datetime | None = None) -> dt.datetime:
    now = now or _now()
    return dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def month_resets_at(now: dt.datetime | None = None) -> dt.datetime:
    now = now or _now()
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return dt.datetime(year, month, 1, tzinfo=dt.UTC)


def _day_key(user: CognitoUser, now: dt.datetime) -> str:
    return f"quota#{user.sub}#{now.date().isoformat()}"


def _month_key(now: dt.datetime) -> str:
    return f"spend#{now.strftime('%Y-%m')}"


def _budget_micro(usd: float) -> int | None:
    return None if math.isinf(usd) else micro_usd(usd)


def _refused(code: str, message: str) -> ServiceError:
    metrics_quota_refused()
    return ServiceError(code, message, status=429)


@dataclass(frozen=True)
class CounterWrite:
    """One conditional update of a counter, to run alone or inside the edit's transaction."""

    counter: QuotaCounter
    actions: list
    condition: Condition
    scope: str  # "day" or "month": which refusal a failed condition means


def spend_writes(
    user: CognitoUser, *, images: int, cost_usd: float, now: dt.datetime, edits: int = 1
) -> list[CounterWrite]:
    """The conditional updates that admit `edits` edits (one, or a whole batch: the person's day, quota
    and budget in one; the deployment's month), refusing up front what can never pass."""
    if settings.DAILY_EDIT_QUOTA <= 0:
        raise _refused("edits_disabled", "Editing is switched off for now (daily quota 0).")
    if edits > settings.DAILY_EDIT_QUOTA:
        raise _quota_refusal(now, edits, used=0)
    cost = micro_usd(cost_usd)
    daily = _budget_micro(settings.DAILY_BUDGET_USD)
    if daily is not None and cost > daily:
        raise _daily_budget_refusal(cost_usd, now, edits)
    condition = QuotaCounter.used.does_not_exist() | (QuotaCounter.used <= settings.DAILY_EDIT_QUOTA - edits)
    if daily is not None:
        condition &= QuotaCounter.spent_micro_usd.does_not_exist() | (
            QuotaCounter.spent_micro_usd <= daily - cost
        )
    writes = [
        CounterWrite(
            counter=QuotaCounter(id=_day_key(user, now)),
            actions=[
                QuotaCounter.used.add(edits),
                QuotaCounter.images.add(images),
                QuotaCounter.spent_micro_usd.add(cost),
                # Kept to the month's end: the person's month is the sum of their days (usage_read).
                QuotaCounter.expires_at.set(month_resets_at(now) + dt.timedelta(days=2)),
            ],
            condition=condition,
            scope="day",
        )
    ]
    monthly = _budget_micro(settings.MONTHLY_BUDGET_USD)
    if monthly is not None:
        if cost > monthly:
            raise _month_refusal(now)
        writes.append(
            CounterWrite(
                counter=QuotaCounter(id=_month_key(now)),
                actions=[
                    QuotaCounter.spent_micro_usd.add(cost),
                    QuotaCounter.expires_at.set(month_resets_at(now) + dt.timedelta(days=40)),
                ],
                condition=QuotaCounter.spent_micro_usd.does_not_exist()
                | (QuotaCounter.spent_micro_usd <= monthly - cost),
                scope="month",
            )
        )
    return writes


def spend_refusal(
    user: CognitoUser, *, scope: str, cost_usd: float, now: dt.datetime, edits: int = 1
) -> ServiceError:
    """The 429 for a counter whose condition failed: which limit, in words, and when it resets."""
    if scope == "month":
        return _month_refusal(now)
    used = _day_read(user, now).get("used", 0)
    if used + edits > settings.DAILY_EDIT_QUOTA:
        return _quota_refusal(now, edits, used=used)
    return _daily_budget_refusal(cost_usd, now, edits)


def spend_take(user: CognitoUser, *, images: int, cost_usd: float, edits: int = 1) -> str:
    """Admit spend without an edit item (an edit's own admission is editor/services/edits/admission.py;
    a batch admits all its items here): the day's and the month's counters in one transaction, all or
    nothing; 429 past either limit. Return the UTC day (YYYY-MM-DD) that was charged."""
    now = _now()
    writes = spend_writes(user, images=images, cost_usd=cost_usd, now=now, edits=edits)
    try:
        with TransactWrite(connection=QuotaCounter._get_connection().connection) as transaction:
            for write in writes:
                transaction.update(write.counter, actions=write.actions, condition=write.condition)
    except TransactWriteError as exc:
        reasons = exc.cancellation_reasons or []
        for write, reason in zip(writes, reasons, strict=False):
            if reason is not None and reason.code == "ConditionalCheckFailed":
                raise spend_refusal(user, scope=write.scope, cost_usd=cost_usd, now=now, edits=edits) from exc
        raise ServiceError(
            "storage_unavailable", "Spend could not be recorded; try again.", status=503
        ) from exc
    spend_admitted(images=images, cost_usd=cost_usd)
    return now.date().isoformat()


def spend_admitted(*, images: int, cost_usd: float) -> None:
    emit({"EstimatedSpendUSD": (micro_usd(cost_usd) / MICRO, "None"), "ImagesAdmitted": (images, "Count")})


def spend_give_back(*, user_sub: str, day: str, edits: int, images: int, cost_usd: float) -> None:
    """Return what was admitted but will never run (a batch item cancelled, or whose checks failed) to
    the day it was charged to and to that day's month."""
    cost = micro_usd(cost_usd)
    _give_back(
        f"quota#{user_sub}#{day}",
        [
            QuotaCounter.used.add(-edits),
            QuotaCounter.images.add(-images),
            QuotaCounter.spent_micro_usd.add(-cost),
        ],
    )
    if _budget_micro(settings.MONTHLY_BUDGET_USD) is not None:
        _give_back(f"spend#{day[:7]}", [QuotaCounter.spent_micro_usd.add(-cost)])


def _give_back(key: str, actions: list) -> None:
    try:
        # Only to a counter that is there: one gone by TTL must not come back negative.
        QuotaCounter(id=key).update(actions=actions, condition=QuotaCounter.id.exists())
    except UpdateError as exc:
        if not condition_failed(exc):
            raise


def _quota_refusal(now: dt.datetime, edits: int, *, used: int) -> ServiceError:
    if edits == 1:
        return _refused(
            "daily_quota_exceeded",
            f"You have used today's {settings.DAILY_EDIT_QUOTA} edits; the quota resets at midnight UTC "
            f"({day_resets_at(now).isoformat()}).",
        )
    left = max(0, settings.DAILY_EDIT_QUOTA - used)
    return _refused(
        "daily_quota_exceeded",
        f"This batch needs {edits} edits and {left} of today's {settings.DAILY_EDIT_QUOTA} are left; send "
        f"at most {left} items, or wait until the quota resets at midnight UTC "
        f"({day_resets_at(now).isoformat()}).",
    )


def _daily_budget_refusal(cost_usd: float, now: dt.datetime, edits: int = 1) -> ServiceError:
    what = "This edit" if edits == 1 else f"This batch of {edits} edits"
    return _refused(
        "daily_budget_exceeded",
        f"{what} (about ${cost_usd:.2f}) would take you past today's budget of "
        f"${settings.DAILY_BUDGET_USD:.2f}; it resets at {day_resets_at(now).isoformat()}.",
    )


def _month_refusal(now: dt.datetime) -> ServiceError:
    return _refused(
        "monthly_budget_exceeded",
        f"This service has used its budget of ${settings.MONTHLY_BUDGET_USD:.2f} for the month; new edits "
        f"are refused until {month_resets_at(now).isoformat()}. Ask the operator to raise it.",
    )


def _day_read(user: CognitoUser, now: dt.datetime) -> dict:
    return _counter_read(_day_key(user, now))


def _counter_read(key: str) -> dict:
    try:
        item = QuotaCounter.get(key, consistent_read=True)
    except DoesNotExist:
        return {}
    return {
        "used": int(item.used or 0),
        "images": int(item.images or 0),
        "spent": int(item.spent_micro_usd or 0),
    }


def _days_read(user: CognitoUser, now: dt.datetime) -> dict[str, dict]:
    """The person's day counters of this month so far, by date, in one BatchGetItem."""
    first = now.date().replace(day=1)
    keys = [
        _day_key(user, dt.datetime.combine(first + dt.timedelta(days=n), dt.time())) for n in range(now.day)
    ]
    return {
        item.id.rpartition("#")[2]: {
            "used": int(item.used or 0),
            "images": int(item.images or 0),
            "spent": int(item.spent_micro_usd or 0),
        }
        for item in QuotaCounter.batch_get(keys, consistent_read=True)
    }


def usage_read(user: CognitoUser) -> dict:
    """Today's edits, images and estimated spend for the person, and their month; the limits, and when
    they reset. The deployment's month is shown only to members of the administrators group."""
    now = _now()
    days = _days_read(user, now)  # today's counter and the month's, in one call
    day = days.get(now.date().isoformat(), {})

    def usd(value: float) -> float | None:
        return None if math.isinf(value) else value

    def month_of(spent: int) -> dict:
        return {
            "month": now.strftime("%Y-%m"),
            "estimated_spend_usd": spent / MICRO,
            "resets_at": month_resets_at(now).isoformat(),
        }

    usage = {
        "date": now.date().isoformat(),
        "edits": day.get("used", 0),
        "images": day.get("images", 0),
        "estimated_spend_usd": day.get("spent", 0) / MICRO,
        "limits": {
            "daily_edits": settings.DAILY_EDIT_QUOTA,
            "daily_budget_usd": usd(settings.DAILY_BUDGET_USD),
            "monthly_budget_usd": usd(settings.MONTHLY_BUDGET_USD),
        },
        "resets_at": day_resets_at(now).isoformat(),
        "month": month_of(sum(counter["spent"] for counter in days.values())),
    }
    # The group comes from the verified access token's cognito:groups claim, never from the request.
    if settings.ADMINISTRATORS_GROUP in user.groups:
        usage["deployment"] = month_of(_counter_read(_month_key(now)).get("spent", 0))
    return usage
