"""Plain-text renderings of key status and rewrap results for operators' terminals and logs.

Only key ids (public names), store names and row ids appear here, never key material or
secrets.
"""

from __future__ import annotations

from typing import TextIO

from integration_api.credentials.key_status import STORE_NAMES, KeyStatus
from integration_api.credentials.rewrap import RewrapReport
from integration_api.vault.keyring import DECRYPT_ONLY_SETTING

_HEADINGS = ("KEY ID", "ROLE", *(name.upper() for name in STORE_NAMES), "TOTAL")


def format_status(status: KeyStatus) -> str:
    """A table of keys and their row counts per store, then what the operator can do next."""
    rows = [
        (usage.key_id, usage.role, *map(str, usage.rows_by_store), str(usage.rows))
        for usage in status.keys
    ]
    totals = [sum(usage.rows_in(name) for usage in status.keys) for name in STORE_NAMES]
    rows.append(("", "total", *map(str, totals), str(status.total)))
    table = [_HEADINGS, *rows]
    widths = [max(len(row[column]) for row in table) for column in range(len(_HEADINGS))]
    lines = [
        "  ".join(
            cell.ljust(width) if column < 2 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in table
    ]
    return "\n".join([*lines, "", _advice(status)])


def _advice(status: KeyStatus) -> str:
    if status.missing_key_ids:
        return (
            f"the keyring lacks key id(s) {', '.join(status.missing_key_ids)}: add the key(s) "
            f"to {DECRYPT_ONLY_SETTING}, or the service stays NOT_SERVING"
        )
    if status.off_primary:
        return (
            f"{status.off_primary} sealed value(s) on decrypt-only keys: "
            "run `integration-api keys rewrap`"
        )
    if status.retirable_key_ids:
        return (
            "every sealed value is on the primary key; nothing uses "
            f"{', '.join(status.retirable_key_ids)}, which may be retired"
        )
    return "every sealed value is on the primary key"


def format_rewrap_summary(report: RewrapReport) -> str:
    """The final count, per store, then one line per row that was left alone."""
    lines = [f"rewrapped {report.rewrapped} rows, {report.left_on_other_keys} left on other keys"]
    moved = [
        f"{name} {report.rewrapped_by_store[name]}"
        for name in STORE_NAMES
        if report.rewrapped_by_store.get(name)
    ]
    if moved:
        lines.append(f"rewrapped per store: {', '.join(moved)}")
    if report.conflicts:
        lines.append(
            f"{report.conflicts} rows changed while being rewrapped; the newer value was kept"
        )
    lines.extend(f"not rewrapped: {failure.describe()}" for failure in report.failures)
    if report.missing_key_ids:
        lines.append(
            f"add key id(s) {', '.join(report.missing_key_ids)} to {DECRYPT_ONLY_SETTING} "
            "and run again"
        )
    return "\n".join(lines)


class ProgressLine:
    """`rewrap: 120/500 rows`, redrawn in place on a terminal, one line per update otherwise."""

    def __init__(self, stream: TextIO, label: str = "rewrap") -> None:
        self._stream = stream
        self._label = label
        self._in_place = stream.isatty()
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        text = f"{self._label}: {done}/{total} rows"
        if self._in_place:
            self._stream.write(f"\r{text}\x1b[K")
        else:
            self._stream.write(text + "\n")
        self._stream.flush()
        self._drawn = True

    def finish(self) -> None:
        """Ends the line drawn in place, so what follows starts on a line of its own."""
        if self._in_place and self._drawn:
            self._stream.write("\n")
            self._stream.flush()
