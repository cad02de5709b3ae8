"""Streaming chat through a stored credential: the normalized stream and the pipeline behind it."""
