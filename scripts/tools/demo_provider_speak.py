"""The demo provider's Deepgram: key check (`/v1/projects`) and Aura speech (`/v1/speak`).

The spoken audio is a soft 440 Hz tone, 60 ms per character of text, in the encoding and
sample rate the request names (linear16, or G.711 μ-law or A-law, encoded here), raw with
`container=none` and in a WAV file otherwise, as Deepgram's REST default. `POST /v1/speak`
streams it in 100 ms writes; the `/v1/speak` socket speaks the text buffered by `Speak`
messages at each `Flush` (answered by `Flushed`), drops it at `Clear` (`Cleared`) and closes
normally at `Close`.
"""

from __future__ import annotations

import math
import struct

from aiohttp import WSMsgType, web

from scripts.tools.demo_provider_wire import (
    json_body,
    key_problem,
    next_request_id,
    scheme_value,
)

SECONDS_PER_CHARACTER = 0.06
_MAX_SECONDS = 30.0
_TONE_HZ = 440.0
_AMPLITUDE = 6000
_RATES = {
    "linear16": (8000, 16000, 24000, 32000, 48000),
    "mulaw": (8000, 16000),
    "alaw": (8000, 16000),
}
_WAV_FORMAT = {"linear16": 1, "alaw": 6, "mulaw": 7}


def deepgram_error(status: int, code: str, message: str) -> web.Response:
    body = {"err_code": code, "err_msg": message, "request_id": next_request_id("dg-demo-")}
    return web.json_response(body, status=status)


def refusal(request: web.Request) -> web.Response | None:
    """Deepgram's 401 for a request without `Authorization: Token <key>` (or Bearer), or None."""
    header = request.headers.get("Authorization", "")
    key = scheme_value(header, "Token") or scheme_value(header, "Bearer")
    if key_problem(key) is None:
        return None
    return deepgram_error(401, "INVALID_AUTH", "Invalid credentials.")


async def projects(request: web.Request) -> web.Response:
    refused = refusal(request)
    if refused is not None:
        return refused
    return web.json_response({"projects": [{"project_id": "demo-project", "name": "Demo"}]})


def _mulaw(sample: int) -> int:
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = magnitude.bit_length() - 8
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | exponent << 4 | mantissa) & 0xFF


def _alaw(sample: int) -> int:
    sign = 0x80 if sample >= 0 else 0
    magnitude = min(abs(sample), 32767) >> 3
    if magnitude < 32:
        exponent, mantissa = 0, magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5
        mantissa = (magnitude >> exponent) & 0x0F
    return (sign | exponent << 4 | mantissa) ^ 0x55


def tone(text: str, encoding: str, rate: int) -> bytes:
    """The audio for `text`: raw samples of `encoding` at `rate` Hz."""
    seconds = min(_MAX_SECONDS, SECONDS_PER_CHARACTER * len(text))
    samples = [
        round(_AMPLITUDE * math.sin(2 * math.pi * _TONE_HZ * index / rate))
        for index in range(round(seconds * rate))
    ]
    if encoding == "mulaw":
        return bytes(_mulaw(sample) for sample in samples)
    if encoding == "alaw":
        return bytes(_alaw(sample) for sample in samples)
    return struct.pack(f"<{len(samples)}h", *samples)


def _wav_header(encoding: str, rate: int, size: int) -> bytes:
    width = 2 if encoding == "linear16" else 1
    fmt = struct.pack("<HHIIHH", _WAV_FORMAT[encoding], 1, rate, rate * width, width, width * 8)
    return (
        b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
        + b"data" + struct.pack("<I", size)
    )  # fmt: skip


def audio_format(query: dict[str, str], default_rate: int) -> tuple[str, int] | str:
    """The requested encoding and sample rate, or why the demo cannot produce them."""
    encoding = query.get("encoding", "linear16")
    rates = _RATES.get(encoding)
    if rates is None:
        return f"the demo provider speaks {', '.join(_RATES)} only, not {encoding}"
    try:
        rate = int(query.get("sample_rate", default_rate))
    except ValueError:
        return "sample_rate is not a number"
    if rate not in rates:
        return f"{encoding} is produced at {', '.join(map(str, rates))} Hz only"
    return encoding, rate


async def speak(request: web.Request) -> web.StreamResponse:
    refused = refusal(request)
    if refused is not None:
        return refused
    body = await json_body(request)
    text = body.get("text") if body else None
    if not isinstance(text, str) or not text.strip():
        return deepgram_error(400, "INVALID_REQUEST", "text is required")
    chosen = audio_format(dict(request.query), 24000)
    if isinstance(chosen, str):
        return deepgram_error(400, "INVALID_QUERY_PARAMETER", chosen)
    encoding, rate = chosen
    audio = tone(text, encoding, rate)
    if request.query.get("container", "wav") != "none":
        audio = _wav_header(encoding, rate, len(audio)) + audio
    response = web.StreamResponse(headers={"dg-request-id": next_request_id("dg-demo-")})
    response.content_type = "application/octet-stream"
    await response.prepare(request)
    step = rate * (2 if encoding == "linear16" else 1) // 10
    for start in range(0, len(audio), step):
        await response.write(audio[start : start + step])
    await response.write_eof()
    return response


_ANSWERS = {"Flush": "Flushed", "Clear": "Cleared"}


async def _speak_messages(socket: web.WebSocketResponse, encoding: str, rate: int) -> None:
    buffered: list[str] = []
    sequence = 0
    async for message in socket:
        body = message.json() if message.type is WSMsgType.TEXT else {}
        kind = body.get("type") if isinstance(body, dict) else None
        if kind == "Speak":
            buffered.append(str(body.get("text") or ""))
        elif kind in _ANSWERS:
            text = "".join(buffered)
            if kind == "Flush" and text.strip():
                await socket.send_bytes(tone(text, encoding, rate))
            buffered.clear()
            await socket.send_json({"type": _ANSWERS[kind], "sequence_id": sequence})
            sequence += 1
        elif kind == "Close":
            await socket.close(code=1000)


async def speak_socket(request: web.Request) -> web.StreamResponse:
    refused = refusal(request)
    if refused is not None:
        return refused
    chosen = audio_format(dict(request.query), 24000)
    if isinstance(chosen, str):
        return deepgram_error(400, "INVALID_QUERY_PARAMETER", chosen)
    request_id = next_request_id("dg-demo-")
    socket = web.WebSocketResponse()
    socket.headers["dg-request-id"] = request_id
    await socket.prepare(request)
    model = request.query.get("model", "aura-2-thalia-en")
    await socket.send_json({"type": "Metadata", "request_id": request_id, "model_name": model})
    await _speak_messages(socket, *chosen)
    return socket
