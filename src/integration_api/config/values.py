"""Reading one environment variable as a number; errors name the variable, never its value."""

from __future__ import annotations

from collections.abc import Mapping


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable, never its value."""


def read_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number") from None


def read_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"true", "1", "yes", "on"}:
        return True
    if raw in {"false", "0", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false")


def read_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number") from None


def read_positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = read_int(env, name, default)
    if value <= 0:
        raise ConfigError(f"{name} must be greater than zero")
    return value


def read_non_negative_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = read_int(env, name, default)
    if value < 0:
        raise ConfigError(f"{name} must be zero or more")
    return value


def read_positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    value = read_float(env, name, default)
    if not value > 0:
        raise ConfigError(f"{name} must be greater than zero")
    return value
