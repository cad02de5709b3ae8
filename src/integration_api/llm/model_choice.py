"""Which model a Chat, Embed or Rerank call uses: the request's, else the credential's default."""

from __future__ import annotations

from typing import Protocol

from integration_api.credentials.model import ProviderCredential
from integration_api.errors import InvalidArgument

MODEL_FIELD = "model"


class NamesDefaultModel(Protocol):
    """What every capability port offers: the model a credential falls back on."""

    def default_model(self, credential: ProviderCredential) -> str: ...


def model_for_call(requested: str, model: NamesDefaultModel, credential: ProviderCredential) -> str:
    """The request's model, or the credential's default when the request names none.

    A requested model that is empty or only whitespace counts as none, for Chat, Embed and
    Rerank alike: a stray space never reaches a provider as a model name.

    Raises:
        InvalidArgument: on `model`, when neither the request nor the credential names one.
    """
    name = requested.strip() or model.default_model(credential)
    if not name:
        raise InvalidArgument.for_field(
            MODEL_FIELD, "is empty and the credential has no default_model"
        )
    return name
