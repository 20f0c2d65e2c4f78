"""Validation rules shared by our constructs (kept apart from the constructs, as aws-cdk does).

Every rule raises ``ValueError`` with a lowercase message naming the prop, showing the value and the
allowed values. Unresolved tokens are skipped: they are checked by CloudFormation at deploy time.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Iterable, Sequence

from aws_cdk import Token


def _fmt(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in values)


def require_choice(prop: str, value: str, allowed: Sequence[str]) -> str:
    if Token.is_unresolved(value):
        return value
    if value not in allowed:
        raise ValueError(f"{prop} must be one of {_fmt(allowed)}, got {value!r}")
    return value


def require_choices(prop: str, values: Sequence[str], allowed: Sequence[str]) -> list[str]:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ValueError(f"{prop} has unknown value(s) {_fmt(bad)}; allowed: {_fmt(allowed)}")
    if len(set(values)) != len(values):
        raise ValueError(f"{prop} lists a value twice: {_fmt(values)}")
    return list(values)


def require_range(prop: str, value: int | float, low: int | float, high: int | float | None = None) -> None:
    if Token.is_unresolved(value):  # e.g. a CfnParameter's value_as_number: CloudFormation checks it at deploy
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{prop} must be a number, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{prop} must be {bound}, got {value}")


def require_private_cidr(prop: str, value: str, *, min_prefix: int = 16, max_prefix: int = 24) -> str:
    """A concrete IPv4 CIDR in private address space (RFC 1918), /16 to /24 by default."""
    if Token.is_unresolved(value):
        raise ValueError(
            f"{prop} must be a concrete CIDR string (e.g. '10.80.0.0/16'), not a token: "
            "security group rules and compliance checks need the literal value"
        )
    try:
        net = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise ValueError(f"{prop} must be an IPv4 CIDR such as '10.80.0.0/16', got {value!r}") from None
    if not net.is_private:
        raise ValueError(f"{prop} must be a private (RFC 1918) range, got {value!r}")
    if not min_prefix <= net.prefixlen <= max_prefix:
        raise ValueError(f"{prop} prefix length must be between /{min_prefix} and /{max_prefix}, got {value!r}")
    return str(net)


#: an AZ name: the region's name plus one letter (``us-east-1a``, ``us-gov-west-1b``); AZ IDs (``use1-az1``) differ
_AZ_NAME = re.compile(r"[a-z]{2,4}(-[a-z]+)+-\d+[a-z]")


def require_availability_zones(prop: str, values: Sequence[str], region: str, *, minimum: int = 2) -> list[str]:
    """At least ``minimum`` distinct AZ names, each of ``region`` (format only when the region is a token)."""
    zones = list(values)
    bad = [z for z in zones if not isinstance(z, str) or not _AZ_NAME.fullmatch(z)]
    if bad:
        raise ValueError(f"{prop} must be AZ names such as 'us-east-1a' (not AZ IDs like 'use1-az1'), got {_fmt(bad)}")
    if not Token.is_unresolved(region):
        foreign = [z for z in zones if not re.fullmatch(re.escape(region) + "[a-z]", z)]
        if foreign:
            raise ValueError(f"{prop} must be AZs of the stack's region {region} (e.g. {region}a), got {_fmt(foreign)}")
    if len(set(zones)) != len(zones):
        raise ValueError(f"{prop} lists a zone twice: {_fmt(zones)}")
    if len(zones) < minimum:
        raise ValueError(f"{prop} must name at least {minimum} zones, got {zones}")
    return zones


def require_name(prop: str, value: str, *, pattern: str, max_length: int, allowed: str) -> str:
    """A physical name a service limits to ``max_length`` characters of ``pattern`` (tokens are left to the service);
    ``allowed`` says the pattern in words for the message."""
    if Token.is_unresolved(value):
        return value
    if not isinstance(value, str) or not value:
        raise ValueError(f"{prop} must be a non-empty string, got {value!r}")
    if len(value) > max_length:
        raise ValueError(f"{prop} must be at most {max_length} characters, got {len(value)}: {value!r}")
    if not re.fullmatch(pattern, value):
        raise ValueError(f"{prop} must be {allowed}, got {value!r}")
    return value


#: a principal given as text: a 12-digit account id, or an IAM role, user or account-root ARN
_PRINCIPAL = re.compile(r"\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)")


def require_principals(prop: str, values: Sequence[str], *, allow_any: bool = False) -> list[str]:
    """12-digit account ids or IAM role/user/root ARNs (and ``*`` when ``allow_any``)."""
    bad = [p for p in values if not (isinstance(p, str) and ((allow_any and p == "*") or _PRINCIPAL.fullmatch(p)))]
    if bad:
        allowed = "'*', 12-digit account ids or IAM role/user ARNs" if allow_any else "12-digit account ids or IAM role/user/root ARNs (e.g. arn:aws:iam::111122223333:role/app)"
        raise ValueError(f"{prop} must be {allowed}, got {bad[0]!r}")
    return list(values)


#: an address SNS's ``email`` protocol can deliver to: local part, ``@``, a domain with a dot, no whitespace
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def require_email_addresses(prop: str, values: Sequence[str]) -> list[str]:
    """E-mail addresses (unresolved tokens are skipped)."""
    bad = [e for e in values if not Token.is_unresolved(e) and not (isinstance(e, str) and _EMAIL.fullmatch(e))]
    if bad:
        raise ValueError(f"{prop} must be e-mail addresses, got {bad[0]!r}")
    return list(values)


def require_s3_prefix(prop: str, value: str) -> str:
    """An S3 prefix URI ``s3://bucket/path/`` (ends with ``/``; unresolved tokens are skipped)."""
    if Token.is_unresolved(value):
        return value
    if not (isinstance(value, str) and value.startswith("s3://") and value.endswith("/")):
        raise ValueError(f"{prop} must be an S3 prefix like 's3://bucket/path/', got {value!r}")
    return value


def require_absolute_directory(prop: str, value: str) -> str:
    """An absolute directory inside a container (starts with ``/``)."""
    if not (isinstance(value, str) and value.startswith("/")):
        raise ValueError(f"{prop} must be an absolute directory in the container, got {value!r}")
    return value
