"""Exotel's webhooks carry no signature: its documentation names no signing header or secret."""

from __future__ import annotations

from integration_api.telephony.webhooks import UnsignedWebhooks

UNSIGNED = UnsignedWebhooks(
    "Exotel documents no signature on its webhooks, so none can be checked: accept them only "
    "on an unguessable HTTPS URL, and confirm what they report with GetCall"
)
