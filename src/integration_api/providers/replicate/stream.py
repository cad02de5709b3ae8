"""Reads a Replicate prediction's event stream (`urls.stream`) into normalized parts.

| on the wire                               | normalized                                     |
| ----------------------------------------- | ---------------------------------------------- |
| `output`: the data is raw text            | `TextDelta` at once (lines joined by `\\n`)      |
| `logs`, comments, unknown events          | ignored                                        |
| `error`: the data is a message            | Unavailable, PROVIDER_STREAM_ERROR             |
| `done` with `{}`                          | the answer is complete                         |
| `done` with a `reason` (`canceled`, …)    | Unavailable, PROVIDER_STREAM_ERROR             |
| body ends without `done`                  | Unavailable, STREAM_TRUNCATED (by the adapter) |

Every event carries an `id:` line (`1690212292:0`), which a resumed stream would name; this
reader reads each stream once and does not need it.

See: https://replicate.com/docs/topics/predictions/streaming.
"""

from __future__ import annotations

from collections.abc import Sequence

from integration_api.errors import Unavailable
from integration_api.llm.contract import StreamPart, TextDelta
from integration_api.providers.answer_json import loads_answer
from integration_api.providers.sanitize import sanitize_message
from integration_api.upstream.stream_errors import PROVIDER_STREAM_ERROR


class ReplicateStreamReader:
    """The state of one prediction stream: whether it ended, and how."""

    def __init__(self, provider: str, secrets: Sequence[str]) -> None:
        self._provider = provider
        self._secrets = secrets
        # The prediction stopped (done or failed): nothing is left to cancel.
        self.ended = False
        self.done = False

    def read(self, event: str, data: str) -> list[StreamPart]:
        """The parts one event carries; raises the typed error of an `error` or failed `done`."""
        if event == "output":
            return [TextDelta(data)] if data else []
        if event == "error":
            self.ended = True
            raise self._failed("reported an error in the stream", data)
        if event == "done":
            self.ended = True
            reason = _done_reason(data)
            if reason:
                error = self._failed(f"ended the prediction as {reason}", "")
                error.metadata["done_reason"] = reason
                raise error
            self.done = True
        return []

    def _failed(self, what: str, message: str) -> Unavailable:
        text = f"{self._provider} {what}"
        detail = sanitize_message(message, self._secrets)
        return Unavailable(
            f"{text}: {detail}" if detail else text,
            reason=PROVIDER_STREAM_ERROR,
            provider=self._provider,
        )


def _done_reason(data: str) -> str:
    """The `reason` of a `done` event ('' for a prediction that succeeded)."""
    try:
        payload = loads_answer(data) if data.strip() else {}
    except ValueError:
        return ""
    reason = payload.get("reason") if isinstance(payload, dict) else None
    if not isinstance(reason, str):
        return ""
    return "".join(character for character in reason[:40] if character.isprintable())
