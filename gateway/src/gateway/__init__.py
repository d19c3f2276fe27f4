"""The public REST gateway: OIDC tokens, rate limits, REST → gRPC, RFC 9457 problems."""
