"""A fast fake Deepgram for the speech benchmark: live transcription and streamed synthesis.

`/v1/listen` (WebSocket) counts the binary audio frames it receives and answers one final
`Results` after `--transcript-after-frames` of them; at `CloseStream` it answers `Metadata` and
closes with 1000, as Deepgram does. `POST /v1/speak` streams `--speak-chunks` chunks of
`--speak-chunk-bytes` raw audio bytes, each written separately (chunked encoding), the first at
once and the others `--speak-inter-delay-ms` apart, as a model produces audio. The `/v1/speak`
WebSocket answers each `Flush` with the same chunks, paced alike, then `Flushed`, and closes
with 1000 at `Close`, as Deepgram's streaming synthesis does. Prints
`{"port": N}` once it listens, then serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys

from aiohttp import WSMsgType, web

REQUEST_ID = "bench-request"


def _results(transcript: str) -> str:
    return json.dumps(
        {
            "type": "Results",
            "is_final": True,
            "speech_final": True,
            "start": 0.0,
            "duration": 0.5,
            "channel": {"alternatives": [{"transcript": transcript, "confidence": 0.99}]},
        }
    )


class FakeDeepgram:
    def __init__(self, arguments: argparse.Namespace) -> None:
        self._after_frames: int = arguments.transcript_after_frames
        self._results = _results("Paris in spring.")
        self._chunk = b"\x01\x02" * (arguments.speak_chunk_bytes // 2)
        self._chunks: int = arguments.speak_chunks
        self._inter_delay: float = arguments.speak_inter_delay_ms / 1000

    async def listen(self, request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse()
        socket.headers["dg-request-id"] = REQUEST_ID
        await socket.prepare(request)
        frames = 0
        async for message in socket:
            if message.type is WSMsgType.BINARY:
                frames += 1
                if frames == self._after_frames:
                    await socket.send_str(self._results)
            elif message.type is WSMsgType.TEXT and '"CloseStream"' in message.data:
                metadata = {"type": "Metadata", "request_id": REQUEST_ID, "duration": frames * 0.02}
                await socket.send_str(json.dumps(metadata))
                await socket.close(code=1000)
                break
        return socket

    async def speak_socket(self, request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse()
        socket.headers["dg-request-id"] = REQUEST_ID
        await socket.prepare(request)
        async for message in socket:
            if message.type is not WSMsgType.TEXT:
                continue
            if '"Flush"' in message.data:
                for index in range(self._chunks):
                    if index and self._inter_delay:
                        await asyncio.sleep(self._inter_delay)
                    await socket.send_bytes(self._chunk)
                await socket.send_str('{"type":"Flushed","sequence_id":0}')
            elif '"Close"' in message.data:
                await socket.close(code=1000)
                break
        return socket

    async def speak(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(
            headers={"Content-Type": "application/octet-stream", "dg-request-id": REQUEST_ID}
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        for index in range(self._chunks):
            if index and self._inter_delay:
                await asyncio.sleep(self._inter_delay)
            await response.write(self._chunk)
        await response.write_eof()
        return response


async def serve(arguments: argparse.Namespace) -> None:
    fake = FakeDeepgram(arguments)
    app = web.Application()
    app.router.add_get("/v1/listen", fake.listen)
    app.router.add_post("/v1/speak", fake.speak)
    app.router.add_get("/v1/speak", fake.speak_socket)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transcript-after-frames", type=int, default=25)
    parser.add_argument("--speak-chunks", type=int, default=10)
    parser.add_argument("--speak-chunk-bytes", type=int, default=3200)
    parser.add_argument("--speak-inter-delay-ms", type=float, default=50.0)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
