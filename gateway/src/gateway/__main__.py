"""``python -m gateway``: serve the REST API with uvicorn.

On SIGTERM/SIGINT uvicorn stops accepting connections, lets requests in flight finish (at most
``GATEWAY__HTTP__SHUTDOWN_GRACE_S``), then the lifespan closes the backend channels.
"""

from __future__ import annotations

import math

import uvicorn
from school_common.logging import configure_logging
from school_common.telemetry import configure_telemetry

from gateway.app import create_app
from gateway.settings import GatewaySettings


def main() -> None:
    settings = GatewaySettings.load()
    configure_logging(settings.service_name, settings.log_level)
    configure_telemetry("gateway")
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.http.host,
        port=settings.http.port,
        log_config=None,  # keep the JSON logging configured above
        access_log=False,  # ours logs route templates, never paths, queries or client addresses
        proxy_headers=True,
        forwarded_allow_ips=settings.http.forwarded_allow_ips,
        server_header=False,
        timeout_graceful_shutdown=math.ceil(settings.http.shutdown_grace_s) or None,
        lifespan="on",
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
