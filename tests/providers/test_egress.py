"""The egress policy: which hosts and addresses a provider key may reach, and where it is
enforced (every request, every resolved address at connect time)."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import pytest
from yarl import URL

from integration_api.config import ConfigError, Settings, load_settings
from integration_api.errors import FailedPrecondition
from integration_api.oauth import github, google
from integration_api.providers.egress import (
    EgressPolicy,
    base_url_refusal,
)
from integration_api.providers.endpoints import validate_region
from integration_api.providers.http_client import (
    HttpClientSettings,
    create_http_client,
)
from integration_api.providers.registry import PROVIDER_HOSTS, PROVIDERS
from integration_api.providers.transport import get_json
from integration_api.providers.transport_failures import EGRESS_REFUSED
from integration_api.upstream.allow_list import parse_allow_list
from tests.support.egress import Canary, canary

STRICT = EgressPolicy()

# Every spelling of a place a key must never reach by default (the metadata service, this
# machine, private networks), as an openai-compatible base_url host.
REFUSED_HOSTS = [
    "127.0.0.1",
    "localhost",
    "0.0.0.0",
    "[::1]",
    "169.254.169.254",
    "[::ffff:169.254.169.254]",
    "2852039166",
    "0251.0376.0251.0376",
    "0xa9fea9fe",
    "[64:ff9b::a9fe:a9fe]",
    "[2002:a9fe:a9fe::]",
    "[fe80::1]",
    "[fd00:ec2::254]",
    "metadata.google.internal",
    "metadata",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "100.64.0.1",
    "[fc00::1]",
    "224.0.0.1",
    "240.0.0.1",
    "2130706433",
    "[::ffff:127.0.0.1]",
    "api.localhost",
]


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_private_loopback_and_metadata_hosts_are_refused_for_any_provider(host: str) -> None:
    assert STRICT.refusal_for_url("openai-compatible", f"http://{host}:8080/v1") is not None


@pytest.mark.parametrize(
    "url", ["https://api.openai.com/v1", "http://93.184.216.34/v1", "https://llm.example.org"]
)
def test_openai_compatible_may_use_any_public_host(url: str) -> None:
    assert STRICT.refusal_for_url("openai-compatible", url) is None


@pytest.mark.parametrize(
    ("provider", "host"),
    [
        ("openai", "api.openai.com"),
        ("openai", "eu.api.openai.com"),
        ("azure-openai", "my-resource.openai.azure.com"),
        ("azure-openai", "r.cognitiveservices.azure.com"),
        ("vertex-ai", "europe-west4-aiplatform.googleapis.com"),
        ("vertex-ai", "oauth2.googleapis.com"),
        ("bedrock", "bedrock-runtime.us-east-1.amazonaws.com"),
        ("bedrock", "bedrock.eu-west-1.amazonaws.com"),
        ("elevenlabs", "api.us.elevenlabs.io"),
        ("mistral", "API.MISTRAL.AI."),
    ],
)
def test_first_party_providers_reach_their_own_hosts(provider: str, host: str) -> None:
    assert STRICT.refusal_for_url(provider, f"https://{host}/v1") is None


@pytest.mark.parametrize(
    ("provider", "host"),
    [
        ("openai", "evil.example"),
        ("openai", "api.openai.com.evil.example"),
        ("openai", "8.8.8.8"),
        ("anthropic", "api.openai.com"),
        ("bedrock", "s3.us-east-1.amazonaws.com"),
        ("bedrock", "bedrock-x.s3.amazonaws.com"),
        ("bedrock", "bedrockfoo.bar.amazonaws.com"),
        ("bedrock", "bedrock.s3-us-west-2.amazonaws.com"),
        ("bedrock", "bedrock-runtime.s3-external-1.amazonaws.com"),
        ("bedrock", "bedrock-runtime.us-east-1.s3.amazonaws.com"),
        ("huggingface", "x1.us-east-1.aws.endpoints.huggingface.cloud"),
        ("vertex-ai", "evil-aiplatform.googleapis.com"),
        ("bedrock", "bedrock.us-east-1.amazonaws.com.evil.example"),
        ("azure-openai", "openai.azure.com.evil.example"),
    ],
)
def test_first_party_providers_refuse_other_hosts(provider: str, host: str) -> None:
    refusal = STRICT.refusal_for_url(provider, f"https://{host}/v1")
    assert refusal == f"not a host of {provider}"


@pytest.mark.parametrize(
    ("egress_id", "url"),
    [
        (google.EGRESS_ID, google.TOKEN_URL),
        (google.EGRESS_ID, google.USERINFO_URL),
        (google.EGRESS_ID, google.REVOKE_URL),
        (github.EGRESS_ID, github.TOKEN_URL),
        (github.EGRESS_ID, github.USER_URL),
        (github.EGRESS_ID, "https://api.github.com/applications/Iv1.abc/grant"),
    ],
)
def test_oauth_clients_reach_their_providers_token_and_account_endpoints(
    egress_id: str, url: str
) -> None:
    assert STRICT.refusal_for_url(egress_id, url) is None
    assert STRICT.refusal_for_url(egress_id, "https://evil.example/token") is not None


def test_every_provider_has_its_hosts_or_may_use_any() -> None:
    assert set(PROVIDERS) - set(PROVIDER_HOSTS) == {"openai-compatible"}


@pytest.mark.parametrize(
    ("entry", "url"),
    [
        ("gateway.corp.example", "https://gateway.corp.example/v1"),
        ("*.corp.example", "https://llm.eu.corp.example/v1"),
        ("8.8.8.8", "https://8.8.8.8/v1"),
        ("10.0.0.0/8", "http://10.1.2.3:8000"),
        ("169.254.169.254", "http://169.254.169.254"),
    ],
)
def test_an_egress_allow_entry_admits_what_it_names_for_every_provider(
    entry: str, url: str
) -> None:
    policy = EgressPolicy(allow=parse_allow_list([entry]))
    assert STRICT.refusal_for_url("openai", url) is not None
    assert policy.refusal_for_url("openai", url) is None


def test_a_listed_name_never_admits_link_local_addresses() -> None:
    policy = EgressPolicy(allow=parse_allow_list(["gateway.corp.example"]), allow_loopback=True)
    private, metadata = ipaddress.ip_address("10.0.0.7"), ipaddress.ip_address("169.254.169.254")
    assert policy.address_refusal("gateway.corp.example", private) is None
    refusal = policy.address_refusal("gateway.corp.example", metadata)
    assert refusal == "link-local or metadata address"


def test_development_mode_allows_loopback_but_never_the_metadata_service() -> None:
    policy = EgressPolicy.from_settings(Settings())
    assert policy.refusal_for_url("openai", "http://127.0.0.1:11434/v1") is None
    assert policy.refusal_for_url("mistral", "http://localhost:11434") is None
    assert policy.refusal_for_url("openai-compatible", "http://169.254.169.254") is not None
    assert EgressPolicy.from_settings(Settings(environment="production")).allow_loopback is False


@pytest.mark.parametrize("value", ["*", "http://x.example", "10.0.0.0/33", "a..b", "*.*.x"])
def test_a_malformed_egress_allow_entry_stops_the_service_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="EGRESS_ALLOW entry 2"):
        load_settings({"EGRESS_ALLOW": f"ok.example, {value}"})


def test_egress_allow_is_read_from_the_environment() -> None:
    settings = load_settings({"EGRESS_ALLOW": " gw.example ,10.0.0.0/8,, *.corp.example"})
    assert settings.egress_allow == ("gw.example", "10.0.0.0/8", "*.corp.example")


def _resolving(answers: dict[str, list[list[str]]]) -> EgressPolicy:
    """A strict policy whose resolver gives each name its answers in turn (the last repeats)."""

    async def resolve(host: str, port: int) -> list[str]:
        queue = answers[host]
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return EgressPolicy(resolve=resolve)


@pytest.fixture
async def listener() -> AsyncIterator[Canary]:
    async with canary() as found:
        yield found


async def _answer(policy: EgressPolicy, url: str) -> FailedPrecondition:
    settings = HttpClientSettings(connect_timeout_seconds=2.0)
    async with create_http_client(settings, policy) as client:
        with pytest.raises(FailedPrecondition) as caught:
            await get_json(client, url, provider="openai-compatible")
    return caught.value


async def test_a_name_resolving_to_loopback_is_refused_at_connect_time(
    listener: Canary,
) -> None:
    policy = _resolving({"models.example": [["127.0.0.1"]]})
    assert policy.refusal_for_url("openai-compatible", "http://models.example") is None

    refused = await _answer(policy, listener.url("models.example") + "/models")

    assert refused.reason == EGRESS_REFUSED
    assert refused.message == "the request to openai-compatible was refused by the egress policy"
    assert listener.connections == 0


async def test_a_name_that_changes_its_answer_after_validation_reaches_nothing_refused(
    listener: Canary,
) -> None:
    policy = _resolving({"rebind.example": [["93.184.216.34"], ["127.0.0.1"]]})
    url = listener.url("rebind.example")
    assert await base_url_refusal(policy, "openai-compatible", url) is None

    refused = await _answer(policy, url + "/models")

    assert refused.reason == EGRESS_REFUSED
    assert listener.connections == 0


async def test_base_url_resolving_to_a_refused_address_is_refused_with_the_reason() -> None:
    policy = _resolving({"internal.example": [["10.0.0.8", "fd12::1"]]})
    refusal = await base_url_refusal(policy, "openai-compatible", "http://internal.example")
    assert refusal == "private address"


async def test_a_name_that_does_not_resolve_is_not_a_refusal() -> None:
    assert await base_url_refusal(STRICT, "openai-compatible", "http://nowhere.invalid") is None


async def test_a_listening_and_a_closed_port_on_a_refused_address_answer_alike(
    listener: Canary,
    closed_port_url: str,
) -> None:
    open_answer = await _answer(STRICT, listener.url() + "/models")
    closed_answer = await _answer(STRICT, closed_port_url + "/models")

    assert (open_answer.message, open_answer.reason) == (
        closed_answer.message,
        closed_answer.reason,
    )
    assert open_answer.metadata == closed_answer.metadata
    assert listener.connections == 0


async def test_a_request_that_names_no_provider_is_refused(listener: Canary) -> None:
    policy = EgressPolicy(allow=parse_allow_list(["127.0.0.1"]))
    async with create_http_client(HttpClientSettings(), policy) as client:
        with pytest.raises(OSError, match="refused by the egress policy"):
            await client.open("GET", URL(listener.url()), provider="", headers={}, body=None)
    assert listener.connections == 0


BEDROCK_REGIONS = ["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1", "ca-central-1"]
BEDROCK_SERVICE_HOSTS = [
    "bedrock",
    "bedrock-runtime",
    "bedrock-agent-runtime",
    "bedrock-fips",
    "bedrock-runtime-fips",
    "bedrock-agent-runtime-fips",
]


@pytest.mark.parametrize("region", BEDROCK_REGIONS)
@pytest.mark.parametrize("service", BEDROCK_SERVICE_HOSTS)
def test_bedrock_reaches_each_exact_service_endpoint_per_region(service: str, region: str) -> None:
    assert STRICT.refusal_for_url("bedrock", f"https://{service}.{region}.amazonaws.com") is None


@pytest.mark.parametrize(
    "region", ["s3-external-1", "s3-us-west-2", "us-east-1.s3", "useast-1", "us-east-1\n"]
)
def test_bedrock_region_must_be_an_aws_region_name(region: str) -> None:
    assert validate_region(region, "bedrock") is not None
    assert validate_region("us-gov-west-1", "bedrock") is None


def test_huggingface_dedicated_endpoint_is_reached_only_when_listed() -> None:
    url = "https://x1.us-east-1.aws.endpoints.huggingface.cloud"
    assert STRICT.refusal_for_url("huggingface", url) == "not a host of huggingface"
    listed = EgressPolicy(allow=parse_allow_list(["x1.us-east-1.aws.endpoints.huggingface.cloud"]))
    assert listed.refusal_for_url("huggingface", url) is None
    other = "https://someone-else.us-east-1.aws.endpoints.huggingface.cloud"
    assert listed.refusal_for_url("huggingface", other) == "not a host of huggingface"


@pytest.mark.parametrize("region", ["us-central1", "europe-west4", "northamerica-northeast1"])
def test_vertex_reaches_its_regional_endpoints(region: str) -> None:
    url = f"https://{region}-aiplatform.googleapis.com"
    assert STRICT.refusal_for_url("vertex-ai", url) is None
