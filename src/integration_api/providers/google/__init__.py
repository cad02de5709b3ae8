"""Google's model APIs: Gemini (AI Studio, API key) and Vertex AI (service-account key)."""
