"""The OpenAI wire family: OpenAI, Azure OpenAI, Mistral, Hugging Face, compatible servers."""
