"""Plain-text renderings of key status and rewrap results for operators' terminals and logs.

Only key ids (public names) and credential ids appear here, never key material or secrets.
"""

from __future__ import annotations

from typing import TextIO

from integration_api.credentials.key_status import KeyStatus
from integration_api.credentials.rewrap import RewrapReport
from integration_api.vault.keyring import DECRYPT_ONLY_SETTING

_HEADINGS = ("KEY ID", "ROLE", "CREDENTIALS")


def format_status(status: KeyStatus) -> str:
    """A table of keys and their credential counts, then what the operator can do next."""
    rows = [(usage.key_id, usage.role, str(usage.credentials)) for usage in status.keys]
    rows.append(("", "total", str(status.total)))
    widths = [max(len(row[column]) for row in [_HEADINGS, *rows]) for column in range(3)]
    lines = [
        f"{key_id:<{widths[0]}}  {role:<{widths[1]}}  {count:>{widths[2]}}".rstrip()
        for key_id, role, count in [_HEADINGS, *rows]
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
            f"{status.off_primary} credential(s) on decrypt-only keys: "
            "run `integration-api keys rewrap`"
        )
    if status.retirable_key_ids:
        return (
            "every credential is on the primary key; no credential uses "
            f"{', '.join(status.retirable_key_ids)}, which may be retired"
        )
    return "every credential is on the primary key"


def format_rewrap_summary(report: RewrapReport) -> str:
    """The final count, then one line per row that was left alone."""
    lines = [f"rewrapped {report.rewrapped} rows, {report.left_on_other_keys} left on other keys"]
    if report.conflicts:
        lines.append(
            f"{report.conflicts} rows changed while being rewrapped; the newer secret was kept"
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
