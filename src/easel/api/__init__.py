"""The HTTP API: create_app(settings) and thin routers, /v1 (OpenAI-compatible) and /api (native)."""
