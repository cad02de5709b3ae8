"""OpenAI's list prices, shipped as defaults (seeded once per model; operators change them with
SetPrice).

Where OpenAI's own pages in reach state a figure (speech, whisper-1) it is read there. OpenAI's
pricing page no longer lists the GPT-4o, GPT-4.1 and o-series models, so their figures are the
list prices that at least two independent pages agree on, each note naming them. Left out:
- cached input for the o-series (the pages disagree, or only one states it): cached tokens fall
  back to the input price, which over-counts them;
- Mistral (served through this folder's wire family): the pages read disagree on every figure
  (Large at $2/$6, or $0.50 input for Large 3; Small at $0.10/$0.30 or $0.14/$0.42);
- gpt-4o-mini-tts and o3-pro: no figure two sources agree on. Beware: an unpriced model is
  priced by its family entry (`gpt-4o-mini-tts` by `gpt-4o-mini`, per token, so its characters
  cost nothing; `o3-pro` by `o3`) until an operator prices it.

Reasoning tokens are billed as output tokens (no reasoning figure: the output price applies).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from integration_api.providers.openai.family import OPENAI
from integration_api.store.usage_prices import PriceAmounts
from integration_api.usage.pricing import ShippedPrice

TAKEN = date(2026, 12, 6)
READ = "read 2026-12-06"


def _amount(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _chat(model: str, input_: str, cached: str | None, output: str, checked: str) -> ShippedPrice:
    return ShippedPrice(
        provider=OPENAI.provider,
        model=model,
        amounts=PriceAmounts(
            usd_per_million_input_tokens=Decimal(input_),
            usd_per_million_cached_input_tokens=_amount(cached),
            usd_per_million_output_tokens=Decimal(output),
        ),
        taken=TAKEN,
        note=f"OpenAI list price per 1M tokens as reported by {checked}, {READ}",
    )


def _embedding(model: str, per_million: str) -> ShippedPrice:
    return ShippedPrice(
        provider=OPENAI.provider,
        model=model,
        amounts=PriceAmounts(usd_per_million_input_tokens=Decimal(per_million)),
        taken=TAKEN,
        note=(
            "OpenAI embeddings list price per 1M tokens as reported by "
            "https://chatgptpricing-akr.pages.dev/api-pricing (citing "
            "developers.openai.com/api/docs/pricing) and "
            f"https://docs.praison.ai/docs/embeddings/providers/openai, {READ}"
        ),
    )


def _transcription(model: str, per_minute: str, checked: str) -> ShippedPrice:
    return ShippedPrice(
        provider=OPENAI.provider,
        model=model,
        amounts=PriceAmounts(usd_per_audio_minute_in=Decimal(per_minute)),
        taken=TAKEN,
        note=f"OpenAI transcription, cost per audio minute, {checked}, {READ}",
    )


def _speech(model: str, per_million_characters: str) -> ShippedPrice:
    return ShippedPrice(
        provider=OPENAI.provider,
        model=model,
        amounts=PriceAmounts(usd_per_million_characters=Decimal(per_million_characters)),
        taken=TAKEN,
        note=(
            "OpenAI speech generation, cost per 1M characters, "
            f"https://developers.openai.com/api/docs/models/tts-1, {READ}"
        ),
    )


_HEX = "https://hex.pm/packages/openai_responses (from platform.openai.com/docs/pricing)"
_4O = (
    f"{_HEX}, https://docs.rs/crate/openai-models (from openai.com/api/pricing) and "
    "https://chatgptpricing-akr.pages.dev/api-pricing"
)
_41 = (
    f"{_HEX}, https://aumiqx.com/ai-tools/openai-api-pricing-gpt4-costs-guide-2026 and "
    "https://tokenmath.io/openai-api-pricing-explained"
)
_O_SERIES = (
    "https://aumiqx.com/ai-tools/openai-api-pricing-gpt4-costs-guide-2026 and "
    "https://chatgptpricing-akr.pages.dev/api-pricing (cached input: the two disagree, unset)"
)
_O4_MINI = (
    "https://vercel.com/ai-gateway/models/o4-mini and https://openrouter.ai/openai/o4-mini-high "
    "(cached input stated by one page only, unset)"
)
_O3_MINI = (
    "https://llmcalc.app/models/o3-mini/, "
    "https://goitreels-com.pages.dev/blog/openai-api-pricing-guide and "
    "https://aimodelcalc.pages.dev/guides/openai-api-pricing.html (cached input stated by one "
    "page only, unset)"
)

PRICES: tuple[ShippedPrice, ...] = (
    _chat("gpt-4o", "2.50", "1.25", "10.00", _4O),
    _chat("gpt-4o-mini", "0.15", "0.075", "0.60", _4O),
    _chat("gpt-4.1", "2.00", "0.50", "8.00", _41),
    # Cached input at a quarter of input, as hex.pm states and
    # https://docs.rs/crate/adk-model (openai/pricing.rs) states for the GPT-4.1 family.
    _chat("gpt-4.1-mini", "0.40", "0.10", "1.60", _41),
    _chat("gpt-4.1-nano", "0.10", "0.025", "0.40", _41),
    _chat("o3", "2.00", None, "8.00", _O_SERIES),
    # Priced so that the `o3` family entry does not price it.
    _chat("o3-mini", "1.10", None, "4.40", _O3_MINI),
    _chat("o4-mini", "1.10", None, "4.40", _O4_MINI),
    _embedding("text-embedding-3-small", "0.02"),
    _embedding("text-embedding-3-large", "0.13"),
    _transcription(
        "whisper-1",
        "0.006",
        "https://developers.openai.com/ja-JP/api/docs/models/whisper-1 (Transcription, cost "
        "per minute)",
    ),
    _transcription(
        "gpt-4o-mini-transcribe",
        "0.003",
        "OpenAI's estimated cost as reported by "
        "https://tokenmix.ai/blog/gpt-4o-transcribe-speech-to-text-api-guide-2026 and "
        "https://halfpower.work/?p=3800",
    ),
    # One page states $0.006 outright; OpenAI's own model pages price this model's audio
    # tokens at twice gpt-4o-mini-transcribe's ($2.50/$10 against $1.25/$5 per 1M), which
    # agrees. Shipped so that the `gpt-4o` family (tokens only) does not price it at nothing.
    _transcription(
        "gpt-4o-transcribe",
        "0.006",
        "OpenAI's estimated cost as reported by "
        "https://tokenmix.ai/blog/gpt-4o-transcribe-speech-to-text-api-guide-2026, "
        "cross-checked with the audio-token prices of "
        "https://developers.openai.com/api/docs/models/gpt-4o-transcribe (2x those of "
        "gpt-4o-mini-transcribe at $0.003)",
    ),
    _speech("tts-1", "15.00"),
    _speech("tts-1-hd", "30.00"),
)
