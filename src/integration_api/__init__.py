"""integration-api: the provider execution layer of the voice-AI platform."""
