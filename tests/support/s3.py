"""An S3-compatible server on a loopback port: moto's server mode, in a thread."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from moto.server import ThreadedMotoServer

CREDENTIALS = {"key": "testing", "secret": "testing"}


@dataclass(frozen=True)
class S3Endpoint:
    url: str

    def storage_options(self) -> dict[str, Any]:
        """What s3fs needs to reach this server (fsspec ``storage_options``)."""
        return {**CREDENTIALS, "endpoint_url": self.url}

    def new_bucket(self) -> str:
        """A fresh, empty bucket, so that tests never see each other's objects."""
        import s3fs

        name = f"bucket-{uuid.uuid4().hex[:12]}"
        s3fs.S3FileSystem(**self.storage_options()).mkdir(name)
        return name


@contextlib.contextmanager
def moto_s3() -> Iterator[S3Endpoint]:
    # werkzeug logs every request at INFO: thousands of lines in a test run.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Endpoint(f"http://{host}:{port}")
    finally:
        server.stop()
