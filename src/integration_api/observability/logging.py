"""Structured logs: JSON in production, readable in development, secrets masked in both."""

from __future__ import annotations

import logging
import sys

import structlog

from integration_api.observability.redaction import mask_sensitive_keys

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


_debug_enabled = False


def configure_logging(level: str = "info", log_format: str = "console") -> None:
    global _debug_enabled
    numeric_level = LEVELS.get(level.lower(), logging.INFO)
    _debug_enabled = numeric_level <= logging.DEBUG
    renderer: structlog.types.Processor
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            mask_sensitive_keys,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        # Looked up per logger, not bound once: the process's stderr may be replaced.
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    # Libraries that log through the standard library go to the same stream, at warning.
    logging.basicConfig(stream=sys.stderr, level=max(numeric_level, logging.WARNING))


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    return structlog.PrintLogger(file=sys.stderr)


def debug_enabled() -> bool:
    """Whether debug lines are written: callers skip building costly debug fields otherwise."""
    return _debug_enabled
