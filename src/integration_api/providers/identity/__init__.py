"""The OAuth identity providers' own hosts, where the OAuth flows send secrets and tokens."""
