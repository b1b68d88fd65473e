"""The live (spotipy) catalogue against a local Web API replay: limits, nulls, 429 with
Retry-After, 5xx backoff, token refresh on 401, and the 500-track call budget."""

from __future__ import annotations

import math
import time

import httpx
import pytest

from subgraphs.spotify.catalogue.live import LiveCatalogue, SpotifyUnavailable
from subgraphs.spotify.catalogue.offline import load_sample
from subgraphs.spotify.config import SpotifySettings
from tests.support.counting import count_statements
from tests.support.graphql import gql, sign_up
from tests.support.hosting import hosted, runtime_of
from tests.support.servers import ServerThread
from tests.support.spotify_web_api import Fault, SpotifyWebApi

SAMPLE = load_sample()
TRACKS = {t["id"]: t for t in SAMPLE["tracks"]}
BIG_PLAYLIST = next(p for p in SAMPLE["playlists"] if len(p["track_ids"]) == 500)


@pytest.fixture(scope="module")
def web_api():
    api = SpotifyWebApi()
    server = ServerThread(api.app()).start()
    yield api, server.url
    server.stop()


@pytest.fixture
def live(web_api, tmp_path):
    api, url = web_api
    api.requests.clear()
    api.faults.clear()
    settings = SpotifySettings(
        spotify_client_id="app",
        spotify_client_secret="app-secret",
        spotify_accounts_url=url,
        spotify_api_url=f"{url}/v1",
    )
    return api, LiveCatalogue(settings, base_delay=0.01)


async def test_batches_keep_order_and_unknown_ids_are_null(live):
    api, catalogue = live
    ids = [SAMPLE["tracks"][0]["id"], "0000000000000000000000", SAMPLE["tracks"][1]["id"]]
    tracks = await catalogue.tracks(ids)
    assert [t["id"] if t else None for t in tracks] == [ids[0], None, ids[2]]
    assert api.requests["tracks"] == 1


async def test_429_retry_after_is_honoured(live):
    api, catalogue = live
    api.faults.append(Fault("/artists", 429, {"Retry-After": "1"}))
    started = time.monotonic()
    artists = await catalogue.artists([SAMPLE["artists"][0]["id"]])
    assert time.monotonic() - started >= 1.0
    assert artists[0]["id"] == SAMPLE["artists"][0]["id"]
    assert catalogue.requests["artists"] == 2


async def test_5xx_is_retried_with_backoff_then_gives_up(live):
    api, catalogue = live
    api.faults += [Fault("/albums", 503), Fault("/albums", 502)]
    albums = await catalogue.albums([SAMPLE["albums"][0]["id"]])
    assert albums[0]["id"] == SAMPLE["albums"][0]["id"] and catalogue.requests["albums"] == 3
    api.faults += [Fault("/albums", 500) for _ in range(catalogue.max_attempts)]
    with pytest.raises(SpotifyUnavailable):
        await catalogue.albums([SAMPLE["albums"][0]["id"]])


async def test_expired_token_is_refreshed_once(live):
    api, catalogue = live
    await catalogue.tracks([SAMPLE["tracks"][0]["id"]])
    api.expire_current_token()
    tokens = api.requests["token"]
    tracks = await catalogue.tracks([SAMPLE["tracks"][2]["id"]])
    assert tracks[0]["id"] == SAMPLE["tracks"][2]["id"]
    assert api.requests["token"] == tokens + 1


@pytest.fixture
async def live_subgraph(settings, redis_server, database, accounts, web_api):
    api, url = web_api
    api.requests.clear()
    runtime = runtime_of("spotify", settings, redis_server.url, database)
    live_settings = SpotifySettings(
        spotify_client_id="app",
        spotify_client_secret="s",
        spotify_accounts_url=url,
        spotify_api_url=f"{url}/v1",
    )
    runtime.services.catalogue = LiveCatalogue(live_settings)
    async with hosted("spotify", settings, redis_server.url, database, runtime=runtime) as spotify:
        _, accounts_client = accounts
        account = await sign_up(accounts_client)
        yield api, runtime, spotify.client, account["token"]


PLAYLIST_QUERY = """query($id: ID!, $first: Int! = 500) { playlist(id: $id) { name coverArt { id }
  tracks(first: $first) { edges { node { name artists { name } album { name } } } } } }"""


@pytest.mark.budget
async def test_500_track_playlist_http_budget_cold_and_warm(live_subgraph):
    api, _, client, token = live_subgraph
    tracks = [TRACKS[id] for id in BIG_PLAYLIST["track_ids"]]
    artists = {a["id"] for t in tracks for a in t["artists"]}
    albums = {t["album"]["id"] for t in tracks}
    body = await gql(client, PLAYLIST_QUERY, {"id": BIG_PLAYLIST["id"]}, token=token)
    assert "errors" not in body, body
    assert len(body["data"]["playlist"]["tracks"]["edges"]) == 500
    assert api.requests["tracks"] <= math.ceil(500 / 50)
    assert api.requests["artists"] <= math.ceil(len(artists) / 50)
    assert api.requests["albums"] <= math.ceil(len(albums) / 20)
    assert api.requests["playlists/items"] == 5 and api.requests["playlists/one"] == 1

    api.requests.clear()
    again = await gql(client, PLAYLIST_QUERY, {"id": BIG_PLAYLIST["id"]}, token=token)
    assert again == body
    assert api.requests["tracks"] == api.requests["artists"] == api.requests["albums"] == 0


@pytest.mark.budget
async def test_sql_statements_stay_fixed_whatever_the_list_size(live_subgraph, database):
    """Upstream objects come from the Web API and Redis; the database is asked a fixed number
    of questions (the playlist's cover art), one batch whatever the page size, cold or warm."""
    _, runtime, client, token = live_subgraph
    counts = []
    for first in (20, 500, 500):
        if first == 20:
            await runtime.redis.flushall()
        with count_statements(database) as sql:
            body = await gql(client, PLAYLIST_QUERY, {"id": BIG_PLAYLIST["id"], "first": first}, token=token)
        assert "errors" not in body, body
        assert len(body["data"]["playlist"]["tracks"]["edges"]) == first
        counts.append(sql.count)
    assert counts[0] == counts[1] == counts[2] >= 1


async def test_live_library_sync_imports_from_the_web_api(web_api, database, settings, redis_server):
    import json
    import uuid

    from shared.crypto import load_secret_box
    from shared.redis import create_redis
    from subgraphs.spotify.models import LibraryPlaylist, StreamEvent
    from subgraphs.spotify.tasks import sync_spotify_library
    from tests.support.spotify_web_api import USER_TOKEN

    api, url = web_api
    api.requests.clear()
    live_settings = SpotifySettings(spotify_api_url=f"{url}/v1")
    account = {
        "spotify_user_id": "lunavega.music",
        "display_name": "Luna Vega",
        "country": "ES",
        "product": "premium",
        "offline": False,
        "access_token": USER_TOKEN,
    }
    redis = create_redis(redis_server.url)
    key = f"spotify:sync-payload:{uuid.uuid4().hex}"
    await redis.set(key, load_secret_box(settings).encrypt(json.dumps(account)))
    ctx = {
        "settings": settings,
        "subgraph_settings": {"spotify": live_settings},
        "db": database,
        "platform_redis": redis,
        "job_try": 1,
    }
    try:
        result = await sync_spotify_library(
            ctx, job_id="job_live", tenant_id="tnt_live", user_id="usr_live", payload_key=key
        )
    finally:
        await redis.aclose()
    assert result == {"playlists": 12, "plays": 50, "new_plays": 50}
    assert api.requests["me/playlists"] == 1 and api.requests["me/player/recently-played"] == 1
    async with database.read() as session:
        from sqlalchemy import select

        rows = (await session.execute(select(LibraryPlaylist))).scalars().all()
        plays = (await session.execute(select(StreamEvent))).scalars().all()
    big = next(row for row in rows if row.spotify_playlist_id == BIG_PLAYLIST["id"])
    assert big.name == BIG_PLAYLIST["name"] and big.track_count == 500
    assert len(plays) == 50 and {p.country for p in plays} == {"ES"}


async def test_a_refused_user_token_is_renewed_once_through_accounts(web_api, settings):
    """Spotify answers 401 to the user's token: the subgraph asks accounts again with
    `refresh=1` and retries once; a token refused after renewal ends in UNAUTHENTICATED."""
    from types import SimpleNamespace

    from shared.context import RequestContext
    from shared.errors import Unauthenticated
    from subgraphs.spotify.catalogue.library import LiveLibrary
    from subgraphs.spotify.service.me import with_linked_account
    from tests.support.spotify_web_api import USER_TOKEN

    _, url = web_api
    asked: list[bool] = []
    renewed_token = USER_TOKEN

    def accounts(request: httpx.Request) -> httpx.Response:
        refresh = request.url.params.get("refresh") == "1"
        asked.append(refresh)
        token = renewed_token if refresh else "revoked-token"
        account = {"spotify_user_id": "lunavega.music", "offline": False, "access_token": token}
        return httpx.Response(200, json={"linked": True, **account})

    async with httpx.AsyncClient(transport=httpx.MockTransport(accounts)) as accounts_http:
        runtime = SimpleNamespace(
            settings=settings,
            config=SpotifySettings(),
            services=SimpleNamespace(accounts_http=accounts_http),
        )
        library = LiveLibrary(f"{url}/v1")

        def context() -> RequestContext:
            request = SimpleNamespace(headers={"authorization": "Bearer user-access-token"})
            return RequestContext(runtime=runtime, request=request)  # type: ignore[arg-type]

        ids = await with_linked_account(context(), lambda account: library.top_tracks(account, 3))
        assert ids is not None and len(ids) == 3
        assert asked == [False, True]

        asked.clear()
        renewed_token = "also-revoked"
        with pytest.raises(Unauthenticated):
            await with_linked_account(context(), lambda account: library.top_tracks(account, 3))
        assert asked == [False, True]  # one renewal, no loop
