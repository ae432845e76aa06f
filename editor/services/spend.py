"""Spend people can see and cap: the daily count quota, the per-person daily budget and the operator's
monthly budget, each taken atomically (one conditional DynamoDB update) before any model call."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from pynamodb.exceptions import DoesNotExist, UpdateError

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


def spend_take(user: CognitoUser, *, images: int, cost_usd: float) -> None:
    """Admit one edit: count it, its images and its estimated cost against the person's day (quota and
    budget in one conditional update) and the deployment's month; refuse with 429 past either limit."""
    if settings.DAILY_EDIT_QUOTA <= 0:
        raise _refused("edits_disabled", "Editing is switched off for now (daily quota 0).")
    now = _now()
    cost = micro_usd(cost_usd)
    daily = _budget_micro(settings.DAILY_BUDGET_USD)
    if daily is not None and cost > daily:
        raise _daily_budget_refusal(cost_usd, now)
    condition = QuotaCounter.used.does_not_exist() | (QuotaCounter.used < settings.DAILY_EDIT_QUOTA)
    if daily is not None:
        condition &= QuotaCounter.spent_micro_usd.does_not_exist() | (
            QuotaCounter.spent_micro_usd <= daily - cost
        )
    counter = QuotaCounter(id=_day_key(user, now))
    try:
        counter.update(
            actions=[
                QuotaCounter.used.add(1),
                QuotaCounter.images.add(images),
                QuotaCounter.spent_micro_usd.add(cost),
                # Kept to the month's end: the person's month is the sum of their days (usage_read).
                QuotaCounter.expires_at.set(month_resets_at(now) + dt.timedelta(days=2)),
            ],
            condition=condition,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        if _day_read(user, now).get("used", 0) >= settings.DAILY_EDIT_QUOTA:
            raise _refused(
                "daily_quota_exceeded",
                f"You have used today's {settings.DAILY_EDIT_QUOTA} edits; the quota resets at midnight UTC "
                f"({day_resets_at(now).isoformat()}).",
            ) from exc
        raise _daily_budget_refusal(cost_usd, now) from exc
    try:
        _month_take(now, cost)
    except ServiceError:
        # The month refused: give the day back what it just took, so the person is not charged for it.
        QuotaCounter(id=_day_key(user, now)).update(
            actions=[
                QuotaCounter.used.add(-1),
                QuotaCounter.images.add(-images),
                QuotaCounter.spent_micro_usd.add(-cost),
            ]
        )
        raise
    emit({"EstimatedSpendUSD": (cost / MICRO, "None"), "ImagesAdmitted": (images, "Count")})


def _daily_budget_refusal(cost_usd: float, now: dt.datetime) -> ServiceError:
    return _refused(
        "daily_budget_exceeded",
        f"This edit (about ${cost_usd:.2f}) would take you past today's budget of "
        f"${settings.DAILY_BUDGET_USD:.2f}; it resets at {day_resets_at(now).isoformat()}.",
    )


def _month_take(now: dt.datetime, cost: int) -> None:
    monthly = _budget_micro(settings.MONTHLY_BUDGET_USD)
    if monthly is None:
        return
    condition = QuotaCounter.spent_micro_usd.does_not_exist() | (
        QuotaCounter.spent_micro_usd <= monthly - cost
    )
    try:
        if cost > monthly:
            raise _month_refusal(now)
        QuotaCounter(id=_month_key(now)).update(
            actions=[
                QuotaCounter.spent_micro_usd.add(cost),
                QuotaCounter.expires_at.set(month_resets_at(now) + dt.timedelta(days=40)),
            ],
            condition=condition,
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise _month_refusal(now) from exc


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
