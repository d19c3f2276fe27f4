"""gRPC server factory, interceptors, health and client helpers shared by every service."""
