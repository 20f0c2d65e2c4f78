"""Defaults and small conversions shared by our constructs."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

#: CloudWatch Logs retention values (days) in the order of ``logs.RetentionDays`` (jsii enums carry names)
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
_RETENTION_BY_DAYS = dict(zip(RETENTION_DAYS, [m for m in logs.RetentionDays if m.name != "INFINITE"]))


def retention_from_days(days: int) -> logs.RetentionDays:
    """``365`` → ``RetentionDays.ONE_YEAR``; raises ValueError for a value CloudWatch Logs does not accept."""
    try:
        return _RETENTION_BY_DAYS[days]
    except KeyError:
        raise ValueError(
            f"retention must be one of {', '.join(map(str, RETENTION_DAYS))} days, got {days!r}"
        ) from None
