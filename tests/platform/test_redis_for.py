"""CLI commands beside a running `make dev` use its embedded Redis (found through
DATA_DIR/redis/url), and start their own only when none answers there."""

from __future__ import annotations

from pathlib import Path

from gateway.cli import redis_for
from shared.config import Settings
from shared.redis import EmbeddedRedis, responds


def test_a_running_embedded_redis_is_reused(tmp_path: Path, redis_server: EmbeddedRedis) -> None:
    settings = Settings(env="test", data_dir=tmp_path)
    marker = tmp_path / "redis" / "url"
    marker.parent.mkdir(parents=True)
    marker.write_text(redis_server.url)
    with redis_for(settings) as url:
        assert url == redis_server.url
    assert marker.read_text() == redis_server.url  # still the running one's


def test_a_stale_address_is_replaced_by_a_server_of_our_own(tmp_path: Path) -> None:
    settings = Settings(env="test", data_dir=tmp_path)
    marker = tmp_path / "redis" / "url"
    marker.parent.mkdir(parents=True)
    marker.write_text("redis://127.0.0.1:1/0")
    with redis_for(settings) as url:
        assert url != "redis://127.0.0.1:1/0" and responds(url)
        assert marker.read_text() == url
    assert not marker.exists() and not responds(url)
