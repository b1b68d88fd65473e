"""An ASGI app under a real uvicorn on a free loopback port, in a background thread."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from gateway import serving
from shared.redis import free_port


class ServerThread:
    def __init__(self, app: Any, port: int | None = None) -> None:
        self.port = port or free_port()
        # Our servers' settings, but the test process's heap is left alone.
        self.server = serving.server(
            app, host="127.0.0.1", port=self.port, settle_heap=False, lifespan="on", ws="websockets-sansio"
        )
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


class S3Server:
    """moto's S3 server on a free loopback port (SigV4 presigning works against it)."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url = ""

    def start(self) -> S3Server:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def create_bucket(self, name: str) -> None:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
            config=Config(signature_version="s3v4"),
        )
        client.create_bucket(Bucket=name)

    def stop(self) -> None:
        self._server.stop()
