"""Structured logs: JSON in production, readable in development, secrets masked in both."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from integration_api.observability.log_writer import BackgroundLineWriter
from integration_api.observability.redaction import mask_sensitive_keys

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


_debug_enabled = False


_background: BackgroundLineWriter | None = None


def configure_logging(
    level: str = "info", log_format: str = "console", *, background: bool = False
) -> None:
    """Structured logs to stderr at `level`; with `background` (the serving processes), written
    by a thread of their own (see `log_writer`), so that a slow reader never holds the loop."""
    global _debug_enabled, _background
    numeric_level = LEVELS.get(level.lower(), logging.INFO)
    _debug_enabled = numeric_level <= logging.DEBUG
    renderer: structlog.types.Processor
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
    logger_factory: Any = _stderr_logger
    if background:
        if _background is None:
            _background = BackgroundLineWriter(
                sys.stderr.fileno(), lambda dropped: _drop_note(dropped, stamp, renderer)
            )
        logger_factory = _QueuedLoggerFactory(_background)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            stamp,
            mask_sensitive_keys,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        # Looked up per logger, not bound once: the process's stderr may be replaced.
        logger_factory=logger_factory,
        cache_logger_on_first_use=False,
    )
    # Libraries that log through the standard library go to the same stream, at warning.
    logging.basicConfig(stream=sys.stderr, level=max(numeric_level, logging.WARNING))


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    return structlog.PrintLogger(file=sys.stderr)


class _QueuedLogger:
    """structlog's logger interface (one method per level), queueing each rendered line."""

    __slots__ = ("_writer",)

    def __init__(self, writer: BackgroundLineWriter) -> None:
        self._writer = writer

    def msg(self, message: str) -> None:
        self._writer.write_line(message)

    log = debug = info = warn = warning = err = error = critical = exception = fatal = msg


class _QueuedLoggerFactory:
    __slots__ = ("_logger",)

    def __init__(self, writer: BackgroundLineWriter) -> None:
        self._logger = _QueuedLogger(writer)

    def __call__(self, *_args: object) -> _QueuedLogger:
        return self._logger


def _drop_note(
    dropped: int, stamp: structlog.types.Processor, renderer: structlog.types.Processor
) -> str:
    """The line that says how many lines the writer dropped (rendered in the writer's thread)."""
    event: Any = {"event": "log lines dropped", "dropped": dropped, "level": "warning"}
    event = stamp(None, "warning", event)
    return str(renderer(None, "warning", event))


def debug_enabled() -> bool:
    """Whether debug lines are written: callers skip building costly debug fields otherwise."""
    return _debug_enabled
