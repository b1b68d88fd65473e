"""`spotify-agent schema …` as a partner's CI runs it, against a registry on a loopback
port: human output or JSON, exit 0 when the check passes, 1 when it fails, 2 for a usage
or connection problem."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from gateway.cli import app
from gateway.registry.app import create_registry_app
from tests.registry.conftest import MERCH_URL
from tests.support.partner import CONFLICTING, MERCH_SDL, WITHOUT_SKU
from tests.support.servers import ServerThread


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


async def test_partner_ci_commands(registry, tmp_path):
    key = await registry.team("Merch Co", ["merch"], ["registry:check", "registry:publish"])
    server = ServerThread(create_registry_app(registry.settings)).start()
    try:
        files = {}
        for name, sdl in (("merch", MERCH_SDL), ("no-sku", WITHOUT_SKU), ("conflict", CONFLICTING)):
            files[name] = tmp_path / f"{name}.graphql"
            files[name].write_text(sdl)
        common = ("--registry", server.url, "--key", key)

        code, out = _run(
            "schema",
            "publish",
            "--subgraph",
            "merch",
            "--schema",
            str(files["merch"]),
            "--url",
            MERCH_URL,
            *common,
        )
        assert code == 0, out
        assert "publish merch: passed" in out and "new supergraph" in out

        code, out = _run(
            "schema", "check", "--subgraph", "merch", "--schema", str(files["conflict"]), *common
        )
        assert code == 1 and "FAILED" in out and "composition" in out

        code, out = _run(
            "schema", "check", "--subgraph", "merch", "--schema", str(files["no-sku"]), "--json", *common
        )
        assert code == 0
        verdict = json.loads(out)
        assert verdict["passed"] and any(
            f["coordinate"] == "MerchItem.sku" for f in verdict["check"]["findings"]
        )

        code, out = _run(
            "schema",
            "publish",
            "--subgraph",
            "merch",
            "--schema",
            str(files["no-sku"]),
            "--url",
            MERCH_URL,
            *common,
        )
        assert code == 0, out
        code, out = _run("schema", "history", "merch", "--json", *common)
        versions = json.loads(out)
        assert code == 0 and len(versions) == 2
        code, out = _run("schema", "diff", versions[1]["id"], versions[0]["id"], *common)
        assert code == 0 and "-  sku: String!" in out and "MerchItem.sku" in out
        code, out = _run("schema", "fetch", "--out", str(tmp_path / "supergraph.graphql"), *common)
        assert code == 0 and "MerchItem" in (tmp_path / "supergraph.graphql").read_text()
        code, out = _run("schema", "delete", "merch", *common)
        assert code == 0 and "delete merch: passed" in out

        # Usage and connection problems: exit 2, with a message.
        assert (
            _run(
                "schema",
                "check",
                "--subgraph",
                "merch",
                "--schema",
                str(tmp_path / "missing.graphql"),
                *common,
            )[0]
            == 2
        )
        assert _run("schema", "fetch", "--registry", "http://127.0.0.1:9", "--key", key)[0] == 2
        code, out = _run("schema", "fetch", "--registry", server.url, "--key", "sak_not_a_real_key")
        assert code == 2 and "UNAUTHENTICATED" in out
        assert (
            _run(
                "schema",
                "check",
                "--subgraph",
                "merch",
                "--schema",
                str(files["merch"]),
                "--registry",
                server.url,
            )[0]
            == 2
        )
    finally:
        server.stop()
