"""Fakes of remote providers, each a real HTTP server on 127.0.0.1 speaking the provider's wire format."""
