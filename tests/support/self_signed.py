"""A throw-away self-signed certificate and TLS servers on loopback that use it."""

from __future__ import annotations

import asyncio
import datetime
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.certificates import KeyPair, write_key_pair


@dataclass(frozen=True)
class SelfSigned:
    """A certificate for `host_name` only, signed by its own key, as PEM files."""

    certificate: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certificate, self.key)
        return context

    def trusting_client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate (and checks host names as usual)."""
        return ssl.create_default_context(cafile=str(self.certificate))


def make_self_signed(directory: Path, host_name: str = "localhost") -> SelfSigned:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host_name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pair = write_key_pair(
        KeyPair(directory / "server.crt", directory / "server.key"), certificate, key
    )
    return SelfSigned(pair.cert, pair.key)


@asynccontextmanager
async def tls_server(context: ssl.SSLContext) -> AsyncIterator[int]:
    """A TLS listener on 127.0.0.1 that completes handshakes and then hangs up; its port."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0, ssl=context)
    async with server:
        yield server.sockets[0].getsockname()[1]


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def holding_server(answer: Handler) -> AsyncIterator[int]:
    """A TCP listener on 127.0.0.1 whose connections `answer` serves and which stay open until
    the block ends; its port."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await answer(reader, writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    async with server:
        try:
            yield server.sockets[0].getsockname()[1]
        finally:
            for writer in held:
                writer.close()


async def _say_nothing(_reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
    return


def silent_server() -> AbstractAsyncContextManager[int]:
    """A TCP listener on 127.0.0.1 that accepts connections and never says a word; its port."""
    return holding_server(_say_nothing)
