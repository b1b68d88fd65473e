"""Generates the offline sample catalogue (Spotify Web API object shapes).

Every name is synthetic, built from the word lists below with a fixed seed, so the file is
reproducible and free of third-party rights: `python -m subgraphs.spotify.data.generate`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("catalogue.json.gz")
API = "https://api.spotify.com/v1"
OPEN = "https://open.spotify.com"
# fmt: off
MARKETS = [
    "US", "GB", "DE", "FR", "ES", "SE", "NO", "BR", "MX", "JP", "AU", "CA", "NL", "IT", "GH", "NG", "ZA",
    "IN",
]
GENRES = [
    "indie pop", "dream pop", "alt rock", "shoegaze", "synthwave", "deep house", "afrobeats", "neo soul",
    "lo-fi beats", "jazz fusion", "bedroom pop", "post-punk", "folk", "ambient", "drum and bass",
    "reggaeton", "k-indie", "chamber pop", "trip hop", "uk garage", "amapiano", "bossa nova", "grunge",
    "hyperpop",
]
ADJECTIVES = [
    "Velvet", "Neon", "Silver", "Hollow", "Golden", "Quiet", "Electric", "Paper", "Midnight", "Crimson",
    "Glass", "Wild", "Lucid", "Static", "Northern", "Low", "Violet", "Analog", "Amber", "Restless",
    "Distant", "Soft", "Broken", "Feral", "Cosmic", "Salt", "Marble", "Ivory", "Copper", "Lunar",
]
NOUNS = [
    "Harbors", "Tides", "Pilots", "Gardens", "Echoes", "Wolves", "Satellites", "Rivers", "Lanterns",
    "Machines", "Orchards", "Signals", "Ghosts", "Parades", "Weather", "Cities", "Comets", "Mirrors",
    "Saints", "Waves", "Foxes", "Frequencies", "Islands", "Monuments", "Hearts", "Horizons", "Arcades",
    "Seasons", "Fires", "Birds",
]
FIRST = [
    "Ada", "Kofi", "Luna", "Mika", "Iris", "Theo", "Nia", "Rafa", "Sol", "Juno", "Ezra", "Lior", "Noor",
    "Kai", "Maya", "Otto", "Zadie", "Ines", "Bruno", "Yara", "Cleo", "Aurelio", "Femi", "Hana", "Soren",
    "Ama",
]
LAST = [
    "Vega", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Reyes", "Mensah", "Kowalski", "Sato", "Adeyemi",
    "Novak", "Costa", "Haddad", "Brennan", "Ito", "Oduya", "Petrov", "Silva", "Hartmann", "Nakamura",
]
WORDS = [
    "Night", "Drive", "Home", "Light", "Fever", "Dream", "Ocean", "Summer", "Heartbeat", "Gravity",
    "Echo", "Bloom", "Runaway", "Paradise", "Shadow", "Fire", "Rain", "Static", "Honey", "Mirror",
    "Satellite", "Youth", "Gold", "Tender", "Wild", "Slow", "Stay", "Falling", "Burn", "Glow",
    "Afterglow", "Lately", "Closer", "Signal", "Sway",
]
PLAYLIST_NAMES = [
    "Late Night Drive", "Focus Flow", "Sunday Slow", "Running Hot", "Rainy Window", "Indie Discoveries",
    "Warehouse Hours", "Coffeehouse", "Golden Hour", "Deep Focus", "Throwback Mix", "Fresh Finds",
]
# fmt: on


def spotify_id(rng: random.Random) -> str:
    raw = rng.getrandbits(128).to_bytes(16, "big")
    return _base62(int.from_bytes(raw, "big"))


def _base62(number: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    chars = []
    while number:
        number, rest = divmod(number, 62)
        chars.append(alphabet[rest])
    return "".join(reversed(chars)).rjust(22, "0")[:22]


LABEL_WORDS = ["Records", "Recordings", "Music", "Sound"]


def isrc(rng: random.Random, year: int) -> str:
    return f"QZ{rng.choice('ABCDEFGHJK')}{rng.randint(10, 99)}{year % 100:02d}{rng.randint(10000, 99999)}"


def image(seed: str, size: int) -> dict[str, Any]:
    digest = hashlib.sha1(f"{seed}:{size}".encode()).hexdigest()[:24]
    return {"url": f"https://i.scdn.co/image/ab67616d0000{digest}", "height": size, "width": size}


def links(kind: str, id: str) -> dict[str, Any]:
    return {
        "external_urls": {"spotify": f"{OPEN}/{kind}/{id}"},
        "href": f"{API}/{kind}s/{id}",
        "id": id,
        "type": kind,
        "uri": f"spotify:{kind}:{id}",
    }


def simple_artist(artist: dict[str, Any]) -> dict[str, Any]:
    return {key: artist[key] for key in ("external_urls", "href", "id", "name", "type", "uri")}


def simple_album(album: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "album_type",
        "total_tracks",
        "available_markets",
        "external_urls",
        "href",
        "id",
        "images",
        "name",
        "release_date",
        "release_date_precision",
        "type",
        "uri",
        "artists",
    )
    return {key: album[key] for key in keys}


def generate(seed: int = 20241127) -> dict[str, Any]:
    rng = random.Random(seed)
    artists: list[dict[str, Any]] = []
    names: set[str] = set()
    while len(artists) < 300:
        style = rng.random()
        if style < 0.45:
            name = f"The {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
        elif style < 0.8:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        else:
            name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
        if name in names:
            continue
        names.add(name)
        id = spotify_id(rng)
        artists.append(
            {
                **links("artist", id),
                "name": name,
                "genres": sorted(rng.sample(GENRES, rng.randint(1, 3))),
                "popularity": rng.randint(8, 92),
                "followers": {"href": None, "total": int(rng.paretovariate(1.2) * 800)},
                "images": [image(id, 640), image(id, 320), image(id, 160)],
            }
        )
    albums: list[dict[str, Any]] = []
    tracks: list[dict[str, Any]] = []
    for artist in artists:
        for _ in range(rng.choice([1, 1, 1, 2, 2])):
            album_id = spotify_id(rng)
            kind = rng.choices(["album", "single", "compilation"], [0.55, 0.4, 0.05])[0]
            count = (
                1
                if kind == "single" and rng.random() < 0.5
                else rng.randint(2, 5)
                if kind == "single"
                else rng.randint(7, 12)
            )
            released = date(2008, 1, 1) + timedelta(days=rng.randint(0, 6200))
            featured = [artist] + ([rng.choice(artists)] if rng.random() < 0.15 else [])
            album = {
                **links("album", album_id),
                "album_type": kind,
                "total_tracks": count,
                "available_markets": sorted(rng.sample(MARKETS, rng.randint(8, len(MARKETS)))),
                "images": [image(album_id, 640), image(album_id, 300), image(album_id, 64)],
                "name": " ".join(rng.sample(WORDS, rng.randint(1, 3))),
                "release_date": released.isoformat(),
                "release_date_precision": "day",
                "artists": [simple_artist(a) for a in featured],
                "genres": [],
                "label": f"{rng.choice(ADJECTIVES)} {rng.choice(LABEL_WORDS)}",
                "popularity": max(0, min(100, artist["popularity"] + rng.randint(-15, 10))),
                "copyrights": [{"text": f"{released.year} {artist['name']}", "type": "C"}],
                "external_ids": {"upc": str(rng.randint(10**11, 10**12 - 1))},
                "track_ids": [],
            }
            for number in range(1, count + 1):
                track_id = spotify_id(rng)
                track_artists = [artist] + ([rng.choice(artists)] if rng.random() < 0.12 else [])
                tracks.append(
                    {
                        **links("track", track_id),
                        "name": album["name"]
                        if count == 1
                        else " ".join(rng.sample(WORDS, rng.randint(1, 3))),
                        "artists": [simple_artist(a) for a in track_artists],
                        "album": simple_album(album),
                        "available_markets": album["available_markets"],
                        "disc_number": 1,
                        "track_number": number,
                        "duration_ms": rng.randint(95_000, 330_000),
                        "explicit": rng.random() < 0.18,
                        "external_ids": {"isrc": isrc(rng, released.year)},
                        "is_local": False,
                        "popularity": max(0, min(100, album["popularity"] + rng.randint(-20, 12))),
                        "preview_url": None,
                    }
                )
                album["track_ids"].append(track_id)
            albums.append(album)
    playlists = []
    for index, name in enumerate(PLAYLIST_NAMES):
        playlist_id = spotify_id(rng)
        chosen = rng.sample(tracks, 500 if index == 0 else rng.randint(20, 120))
        playlists.append(
            {
                **links("playlist", playlist_id),
                "name": name,
                "description": f"{name}: a sample playlist of the offline catalogue.",
                "collaborative": False,
                "public": True,
                "images": [image(playlist_id, 640)],
                "owner": {
                    "id": "spotifyagent",
                    "display_name": "Spotify Agent",
                    "type": "user",
                    "uri": "spotify:user:spotifyagent",
                    "href": f"{API}/users/spotifyagent",
                    "external_urls": {"spotify": f"{OPEN}/user/spotifyagent"},
                },
                "snapshot_id": _base62(rng.getrandbits(160)),
                "followers": {"href": None, "total": rng.randint(10, 50_000)},
                "track_ids": [track["id"] for track in chosen],
            }
        )
    return {"artists": artists, "albums": albums, "tracks": tracks, "playlists": playlists}


def main() -> None:
    catalogue = generate()
    data = json.dumps(catalogue, separators=(",", ":"), sort_keys=True).encode()
    OUT.write_bytes(gzip.compress(data, mtime=0))
    counts = {kind: len(items) for kind, items in catalogue.items()}
    print(f"{OUT}: {counts}, {len(data) / 1e6:.1f} MB raw, {OUT.stat().st_size / 1e6:.2f} MB gzip")


if __name__ == "__main__":
    main()
