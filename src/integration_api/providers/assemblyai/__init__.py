"""AssemblyAI: Universal Streaming speech-to-text."""
