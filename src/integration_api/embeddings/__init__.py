"""Embeddings through a stored credential: batching to provider limits and reassembly in order."""
