"""Bedrock's wire below the service: the SigV4 reference vector and the event-stream framing."""

from __future__ import annotations

import datetime
import json

import pytest

from integration_api.credentials.model import ApiKey, AwsKeys, CredentialConfig, ProviderCredential
from integration_api.errors import Unavailable
from integration_api.providers.aws.eventstream import BoundedFrameDecoder, Frame
from integration_api.providers.aws.verification import VERIFIER, bedrock_headers
from integration_api.providers.http_client import ProviderClient
from integration_api.providers.sse import PROVIDER_BAD_RESPONSE
from integration_api.upstream.limits import SSE_EVENT_TOO_LARGE
from tests.fakes.aws_eventstream import error_frame, event_frame, exception_frame
from tests.fakes.aws_sigv4 import install_bedrock_control_plane
from tests.fakes.server import FakeServer

VECTOR_URL = (
    "https://bedrock-runtime.us-east-1.amazonaws.com/model/"
    "anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"
)
VECTOR_BODY = (
    b'{"messages":[{"role":"user","content":[{"text":"Hello"}]}],'
    b'"inferenceConfig":{"maxTokens":256}}'
)
VECTOR_FRAME = bytes.fromhex(
    "000000ab0000005797dab5b90b3a6576656e742d74797065070011636f6e74656e74426c6f636b44656c7461"
    "0d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d6573736167652d74"
    "7970650700056576656e747b22636f6e74656e74426c6f636b496e646578223a302c2264656c7461223a7b22"
    "74657874223a2248656c6c6f227d2c2270223a226162636465666768696a6b6c6d227de8904042"
)
VECTOR_EXCEPTION = bytes.fromhex(
    "000000b2000000613590d5d30f3a657863657074696f6e2d747970650700137468726f74746c696e67457863"
    "657074696f6e0d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d6573"
    "736167652d74797065070009657863657074696f6e7b226d657373616765223a22546f6f206d616e79207265"
    "7175657374732c20706c656173652077616974206265666f726520747279696e6720616761696e2e227de8ffb26a"
)


def credential(session_token: str = "") -> ProviderCredential:
    keys = AwsKeys("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", session_token)
    return ProviderCredential(
        id="c1", provider="bedrock", config=CredentialConfig(region="us-east-1"), secret=keys
    )


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    moment = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: moment)


@pytest.mark.parametrize(
    ("session_token", "signed_headers", "signature"),
    [
        (
            "",
            "content-type;host;x-amz-date",
            "006d149131cf737fe0fa9c24b6d92e1d95596c6a5f914c89404403e6e8135874",
        ),
        (
            "fixture-session-token",
            "content-type;host;x-amz-date;x-amz-security-token",
            "1f0bc1cc34feb86413fcf9f9175fdb43ba70acb166b480f30fb89d903fe7351c",
        ),
    ],
)
def test_requests_are_signed_as_the_sigv4_reference_vector_says(
    fixed_clock: None, session_token: str, signed_headers: str, signature: str
) -> None:
    headers = bedrock_headers(
        credential(session_token), "POST", VECTOR_URL, VECTOR_BODY, "application/json"
    )
    assert headers["X-Amz-Date"] == "20250102T030405Z"
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250102/us-east-1/bedrock/aws4_request, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    assert headers.get("X-Amz-Security-Token", "") == session_token


def test_a_bedrock_api_key_is_sent_as_a_bearer_token_and_nothing_is_signed() -> None:
    api_key = ProviderCredential(
        id="c2",
        provider="bedrock",
        config=CredentialConfig(region="us-east-1"),
        secret=ApiKey("ABSK" + "k" * 40),
    )
    headers = bedrock_headers(api_key, "POST", VECTOR_URL, VECTOR_BODY, "application/json")
    assert headers == {
        "Content-Type": "application/json",
        "Authorization": "Bearer ABSK" + "k" * 40,
    }


@pytest.mark.parametrize(("key", "outcome"), [("ABSK-good", "valid"), ("ABSK-revoked", "invalid")])
async def test_a_bedrock_api_key_is_verified_with_a_bearer_call_to_the_control_plane(
    key: str, outcome: str, http_client: ProviderClient, fake_server: FakeServer
) -> None:
    install_bedrock_control_plane(fake_server, [], "us-east-1", frozenset({"ABSK-good"}))
    api_key = ProviderCredential(
        id="c3",
        provider="bedrock",
        config=CredentialConfig(base_url=fake_server.url, region="us-east-1"),
        secret=ApiKey(key),
    )
    result = await VERIFIER.verify(api_key, http_client)
    assert result.outcome == outcome
    (sent,) = fake_server.requests
    assert sent.headers["authorization"] == f"Bearer {key}"


def decoder(limit: int = 1 << 20) -> BoundedFrameDecoder:
    return BoundedFrameDecoder("bedrock", limit)


def test_the_reference_frames_decode_with_their_headers_and_payload() -> None:
    frames = decoder().feed(VECTOR_FRAME + VECTOR_EXCEPTION)
    assert frames[0] == Frame(
        "event",
        "contentBlockDelta",
        b'{"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"abcdefghijklm"}',
    )
    assert (frames[1].message_type, frames[1].name) == ("exception", "throttlingException")
    assert json.loads(frames[1].payload)["message"].startswith("Too many requests")


def test_the_fake_encodes_the_reference_frame_byte_for_byte() -> None:
    payload = b'{"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"abcdefghijklm"}'
    assert event_frame("contentBlockDelta", payload) == VECTOR_FRAME


@pytest.mark.parametrize("piece_size", [1, 2, 7, 13, 170, 171, 172, 1000])
def test_frames_split_across_reads_or_sharing_one_come_out_whole_and_in_order(
    piece_size: int,
) -> None:
    texts = [f"piece {number}" for number in range(6)]
    body = b"".join(
        event_frame("contentBlockDelta", json.dumps({"delta": {"text": text}}).encode())
        for text in texts
    )
    stream = decoder()
    frames: list[Frame] = []
    for start in range(0, len(body), piece_size):
        frames.extend(stream.feed(body[start : start + piece_size]))
    assert [json.loads(frame.payload)["delta"]["text"] for frame in frames] == texts
    assert stream.pending == 0


def test_an_unmodeled_error_frame_carries_its_code_and_message() -> None:
    (frame,) = decoder().feed(error_frame("InternalFailure", "it broke"))
    assert frame == Frame("error", "InternalFailure", b"", "it broke")


@pytest.mark.parametrize("position", [3, 9, 60, 170])
def test_a_frame_with_a_broken_checksum_is_refused(position: int) -> None:
    damaged = bytearray(VECTOR_FRAME)
    damaged[position] ^= 0x01
    with pytest.raises(Unavailable) as raised:
        decoder().feed(bytes(damaged))
    assert raised.value.reason == PROVIDER_BAD_RESPONSE


def test_a_frame_larger_than_the_limit_is_refused_before_it_is_complete() -> None:
    huge = exception_frame("validationException", b'{"message":"' + b"x" * 5000 + b'"}')
    stream = decoder(limit=1024)
    with pytest.raises(Unavailable) as raised:
        for start in range(0, len(huge), 512):
            stream.feed(huge[start : start + 512])
    assert raised.value.reason == SSE_EVENT_TOO_LARGE
    assert start < len(huge) - 512, "refused before the whole frame arrived"
