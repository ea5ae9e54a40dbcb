"""Fixtures shared by the test folders."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def moto_endpoint():
    """moto's server on 127.0.0.1 (a fake AWS: SageMaker, S3, CloudWatch), one per test
    module, empty when it starts (moto keeps its state per process, not per server, so
    no module sees another's jobs or buckets); yields its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    reset_moto(url)
    yield url
    server.stop()


def reset_moto(url: str) -> None:
    """Empty every fake service of the moto server at ``url``."""
    import urllib.request

    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
