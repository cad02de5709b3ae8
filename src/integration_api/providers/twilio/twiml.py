"""TwiML this service writes: a media stream to a voice agent, and a transfer.

See: https://www.twilio.com/docs/voice/twiml/stream (`<Connect><Stream>` is bidirectional;
custom `<Parameter>`s reach the agent in the stream's `start` message) and
https://www.twilio.com/docs/voice/twiml/dial (`<Number>`, `<Sip>`, `<Client>` nouns).
Every value is XML-escaped: parameters and numbers are the caller's text.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from integration_api.telephony.calls import MediaStream

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def stream_twiml(stream: MediaStream) -> str:
    parameters = "".join(
        f"<Parameter name={quoteattr(name)} value={quoteattr(value)}/>"
        for name, value in stream.parameters.items()
    )
    return (
        f"{_DECLARATION}<Response><Connect><Stream url={quoteattr(stream.url)}>"
        f"{parameters}</Stream></Connect></Response>"
    )


def transfer_twiml(to: str) -> str:
    """`<Dial>` to a number, a SIP URI (`sip:`) or a Twilio client (`client:`)."""
    if to.lower().startswith("sip:"):
        noun = f"<Sip>{escape(to)}</Sip>"
    elif to.lower().startswith("client:"):
        noun = f"<Client>{escape(to[len('client:') :])}</Client>"
    else:
        noun = f"<Number>{escape(to)}</Number>"
    return f"{_DECLARATION}<Response><Dial>{noun}</Dial></Response>"
