"""What the pipelines and the provider adapters both speak of an upstream call.

The bounds on an answer (`limits`), the time spent waiting on it (`timer`), and the kinds of
error an upstream call ends with (`error_kinds`, `stream_errors`, `answer_bounds`). It sits below
both the domain packages (`llm`, `embeddings`, `speech`) and `providers`, and imports neither.
"""
