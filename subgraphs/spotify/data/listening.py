"""Synthetic listening over the offline sample catalogue: seeded, streamed, realistic enough to
evaluate a recommender offline and to seed analytics with a year of plays.

The model of listening
----------------------
*Listeners.* Each listener lives in a city of one of the catalogue's markets (countries drawn
with a skew, US first; each city carries its UTC offset, so "evening" means the listener's
evening). A listener has 1-3 favourite genres (``taste``), drawn from a skewed genre popularity
(a Zipf over a seeded ranking of the genres) tilted by region (afrobeats in Nigeria and Ghana,
reggaeton in Mexico and Spain, ...). Activity is heavy-tailed (a gamma around the requested
plays per day), and so are exploration (the share of sessions spent outside the taste) and skip
propensity.

*Personal preference beyond popularity.* Genres, artists, tracks and listeners live in a small
latent space: an artist sits near the centroids of its genres, a track near its artist, a listener
near the centroids of its taste plus a personal offset. A listener's weight for a track of its
taste is ``exp(popularity / 12 + affinity)`` where ``affinity`` is the standardised dot product:
popularity dominates across the range, personal affinity decides among tracks of similar
popularity. From the same scores each listener draws its favourite artists and its library
(saved tracks). Two listeners of one taste therefore share favourites more than chance, and
more than popularity alone explains: the signal collaborative filtering is meant to find.

*Sessions.* Plays come in sessions of 3-25 consecutive plays (a truncated geometric, mean about
8.3), each from one context whose source of stream is the one Spotify for Artists reports:
the listener's library shuffled (``user_library``), an album (``user_library`` when by a
favourite artist, else ``search``), an artist's top tracks (``artist_profile``), one of the
listener's playlists (``user_playlist``), a followed playlist of another listener
(``other_playlist``), a sample playlist of the catalogue (``editorial_playlist``), radio
around a seed track (``radio``: the seed artist and its genre), a personalised mix such as
Discover Weekly (``algorithmic``), tracks looked up one by one (``search``) or ``other``. When a
context runs out (a three-track single in a 20-play session) autoplay continues with radio
around its artist: source ``radio``, no context. A share of sessions (the listener's
exploration rate, about 13 %) is spent in a genre outside the taste. Tracks of a listener's
sessions never overlap in time: a session that would start while another plays waits for it.

*Repeats.* The library is replayed (shuffles, algorithmic mixes that include favourites, radio
seeded by favourites), and tracks a listener completes outside its library may enter its "on
repeat" rotation, replayed on later days; most plays are repeats, as on real services.

*Time.* Sessions per listener and day are Poisson around the listener's rate times a weekday
factor (Friday and Saturday highest, Monday and Tuesday lowest); session starts follow a
diurnal profile in local time (quiet at night, a commute bump, the peak in the evening, later
mornings at the weekend). ``played_at`` is when a play starts; the next play of the session
starts ``ms_played`` plus a short gap later (about 2.7 minutes on average).

*New releases.* The catalogue's albums were released 2008-2024, before any window worth
simulating, so some albums (about one a week, popular ones from artists with an earlier album)
are re-dated to a Friday inside the window (``Listening.releases``). Their tracks cannot be
played before that day (from local midnight, so east of UTC up to 11 h before ``released_at``
in UTC); from it, listeners spend sessions on the new album with a pull that
decays exponentially (5 days): fans of the artist much more than listeners of its genres. A
release-day spike, then decay and a long tail of replays.

*Skips.* ``ms_played < 30 s`` is a skip (about 22 % of plays). The probability is the listener's
propensity times the context (search and library low; radio, algorithmic and editorial high),
times the track's standing (library favourites 0.45x, outside the taste 1.9x) and its
unpopularity. Completed plays mostly run the whole track; ``ms_played <= duration_ms`` always.

*Devices.* Each listener has its own mix around mobile 56 %, desktop 17 %, smart speaker 8 %,
car 7 %, web 7 %, tablet 5 %, modulated by the hour (cars at commute hours, desktops in working
hours on weekdays, speakers in the morning and evening).

*Playlists.* Some listeners (``playlists_per_listener`` on average) make playlists of 15-60
tracks around one genre of their taste, drawn from their library, favourite artists and
personal weights, created at a moment inside the window; other listeners of an overlapping
taste follow a few of them.

Everything is a pure function of the arguments: same seed, same output (with one numpy
version: numpy does not promise the same random streams across releases). ``iter_plays``
streams the plays in time order, one simulated day at a time, holding only the listeners, the
catalogue and a few hours of plays (the sessions that cross the day's edge): about 130k plays/s
for the default 300 listeners, 100k plays/s and 170 MB for 4,500 listeners over a year (9.6M
plays). ``generate_listening`` adds the listeners, playlists and releases around the same
stream; ``holdout_split`` cuts it for an offline evaluation.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any, Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

CATALOGUE_PATH: Final = Path(__file__).with_name("catalogue.json.gz")
DEFAULT_END: Final = datetime(2026, 11, 30, tzinfo=UTC)
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
DAY_MS: Final = 86_400_000
HOUR_MS: Final = 3_600_000
SKIP_THRESHOLD_MS: Final = 30_000
PLAYLIST_ID_PREFIX: Final = "synthpl-"
PLAYLIST_MOODS: Final = (
    "Late Night",
    "Gym",
    "Road Trip",
    "Study Session",
    "Sunday Morning",
    "Party",
    "Chill",
)
PLAYLIST_SUFFIXES: Final = ("Mix", "Favourites", "Essentials", "Vibes", "On Repeat", "Deep Cuts")

DEVICES: Final = ("mobile", "desktop", "tablet", "smart_speaker", "car", "web")
SOURCES: Final = (
    "artist_profile",
    "user_library",
    "user_playlist",
    "other_playlist",
    "editorial_playlist",
    "algorithmic",
    "radio",
    "search",
    "other",
)
(
    SOURCE_ARTIST_PROFILE,
    SOURCE_USER_LIBRARY,
    SOURCE_USER_PLAYLIST,
    SOURCE_OTHER_PLAYLIST,
    SOURCE_EDITORIAL,
    SOURCE_ALGORITHMIC,
    SOURCE_RADIO,
    SOURCE_SEARCH,
    SOURCE_OTHER,
) = range(len(SOURCES))

# fmt: off
# country -> ((city, UTC offset in hours in late autumn, share of the country's listeners), ...)
CITIES: Final[dict[str, tuple[tuple[str, float, float], ...]]] = {
    "US": (("New York", -5, 0.30), ("Los Angeles", -8, 0.22), ("Chicago", -6, 0.15),
           ("Houston", -6, 0.12), ("Atlanta", -5, 0.11), ("Seattle", -8, 0.10)),
    "GB": (("London", 0, 0.55), ("Manchester", 0, 0.20), ("Birmingham", 0, 0.12), ("Glasgow", 0, 0.13)),
    "DE": (("Berlin", 1, 0.35), ("Hamburg", 1, 0.20), ("Munich", 1, 0.20), ("Cologne", 1, 0.25)),
    "FR": (("Paris", 1, 0.55), ("Lyon", 1, 0.20), ("Marseille", 1, 0.15), ("Toulouse", 1, 0.10)),
    "ES": (("Madrid", 1, 0.45), ("Barcelona", 1, 0.40), ("Valencia", 1, 0.15)),
    "SE": (("Stockholm", 1, 0.60), ("Gothenburg", 1, 0.25), ("Malmö", 1, 0.15)),
    "NO": (("Oslo", 1, 0.60), ("Bergen", 1, 0.25), ("Trondheim", 1, 0.15)),
    "BR": (("São Paulo", -3, 0.45), ("Rio de Janeiro", -3, 0.30), ("Belo Horizonte", -3, 0.13),
           ("Salvador", -3, 0.12)),
    "MX": (("Mexico City", -6, 0.55), ("Guadalajara", -6, 0.25), ("Monterrey", -6, 0.20)),
    "JP": (("Tokyo", 9, 0.60), ("Osaka", 9, 0.30), ("Fukuoka", 9, 0.10)),
    "AU": (("Sydney", 11, 0.45), ("Melbourne", 11, 0.40), ("Brisbane", 10, 0.15)),
    "CA": (("Toronto", -5, 0.45), ("Montreal", -5, 0.25), ("Vancouver", -8, 0.30)),
    "NL": (("Amsterdam", 1, 0.55), ("Rotterdam", 1, 0.25), ("Utrecht", 1, 0.20)),
    "IT": (("Milan", 1, 0.45), ("Rome", 1, 0.40), ("Naples", 1, 0.15)),
    "GH": (("Accra", 0, 0.70), ("Kumasi", 0, 0.30)),
    "NG": (("Lagos", 1, 0.65), ("Abuja", 1, 0.35)),
    "ZA": (("Johannesburg", 2, 0.50), ("Cape Town", 2, 0.35), ("Durban", 2, 0.15)),
    "IN": (("Mumbai", 5.5, 0.40), ("Delhi", 5.5, 0.35), ("Bengaluru", 5.5, 0.25)),
}
COUNTRY_SHARE: Final[dict[str, float]] = {
    "US": 0.22, "BR": 0.09, "GB": 0.08, "DE": 0.07, "MX": 0.06, "IN": 0.06, "FR": 0.05, "JP": 0.05,
    "CA": 0.045, "ES": 0.04, "AU": 0.04, "IT": 0.035, "NL": 0.03, "SE": 0.03, "NG": 0.03, "ZA": 0.025,
    "NO": 0.015, "GH": 0.015,
}
# Regional tilt of genre popularity (multipliers on the global weights).
REGIONAL_GENRES: Final[dict[str, dict[str, float]]] = {
    "NG": {"afrobeats": 6, "amapiano": 2.5, "neo soul": 1.5},
    "GH": {"afrobeats": 6, "amapiano": 2, "neo soul": 1.5},
    "ZA": {"amapiano": 6, "afrobeats": 2.5, "deep house": 2},
    "BR": {"bossa nova": 4, "reggaeton": 1.5},
    "MX": {"reggaeton": 4},
    "ES": {"reggaeton": 3, "indie pop": 1.3},
    "GB": {"uk garage": 4, "drum and bass": 2.5, "post-punk": 1.5},
    "US": {"hyperpop": 1.5, "neo soul": 1.5, "grunge": 1.5, "alt rock": 1.3},
    "CA": {"alt rock": 1.5, "folk": 1.3},
    "DE": {"deep house": 2, "ambient": 1.5, "post-punk": 1.3},
    "NL": {"deep house": 2.5, "drum and bass": 1.3},
    "FR": {"chamber pop": 1.5, "trip hop": 1.5},
    "IT": {"chamber pop": 1.3, "synthwave": 1.5},
    "SE": {"indie pop": 1.5, "synthwave": 1.5},
    "NO": {"folk": 1.5, "ambient": 1.5},
    "JP": {"k-indie": 2.5, "lo-fi beats": 2, "ambient": 1.5},
    "IN": {"lo-fi beats": 2.5, "bedroom pop": 1.3},
    "AU": {"indie pop": 1.3, "drum and bass": 1.3},
}
# Relative session starts per local hour, 0h..23h.
WEEKDAY_HOURS: Final = (
    2.0, 1.0, 0.5, 0.3, 0.3, 0.6, 2.0, 4.0, 5.0, 4.0, 3.5, 3.5,
    4.0, 4.0, 3.8, 4.0, 4.5, 5.5, 6.0, 6.5, 7.0, 7.0, 5.5, 3.5,
)
WEEKEND_HOURS: Final = (
    3.0, 2.0, 1.2, 0.6, 0.3, 0.3, 0.6, 1.2, 2.0, 3.0, 4.5, 5.0,
    5.0, 5.0, 5.0, 5.0, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 6.5, 4.5,
)
# fmt: on
# Sessions per day relative to the mean, Monday..Sunday (local time).
WEEKDAY_FACTOR: Final = (0.93, 0.94, 0.97, 1.00, 1.13, 1.08, 0.95)
DEVICE_SHARE: Final = (0.56, 0.17, 0.05, 0.08, 0.07, 0.07)
SESSION_LENGTHS: Final = np.arange(3, 26, dtype=np.int64)
_SESSION_LENGTH_PMF = np.exp(-(SESSION_LENGTHS - 3) / 6.5)
_SESSION_LENGTH_PMF /= _SESSION_LENGTH_PMF.sum()
MEAN_SESSION_LENGTH: Final = float((SESSION_LENGTHS * _SESSION_LENGTH_PMF).sum())

# Session kinds: where the tracks of a session come from.
(
    KIND_LIBRARY,
    KIND_ALBUM,
    KIND_ARTIST,
    KIND_USER_PLAYLIST,
    KIND_OTHER_PLAYLIST,
    KIND_EDITORIAL,
    KIND_RADIO,
    KIND_ALGORITHMIC,
    KIND_SEARCH,
    KIND_OTHER,
    KIND_NEW_RELEASE,
) = range(11)
# Mean share of each kind among a listener's sessions within its taste (index = kind).
TASTE_KIND_SHARE: Final = (0.22, 0.13, 0.10, 0.10, 0.05, 0.08, 0.10, 0.13, 0.06, 0.03)
# Share of each kind among exploration sessions (outside the taste).
EXPLORATION_KIND_SHARE: Final = (0.0, 0.06, 0.10, 0.0, 0.0, 0.22, 0.18, 0.24, 0.14, 0.06)
# Skip propensity multiplier by source of stream (index = source).
SOURCE_SKIP_FACTOR: Final = np.array([0.8, 0.7, 0.8, 1.0, 1.25, 1.3, 1.2, 0.5, 1.0])

TRACK_POPULARITY_SCALE: Final = 12.0  # weight exp(popularity / scale): the popularity skew
DISCOVERY_POPULARITY_SCALE: Final = 20.0  # flatter, for algorithmic discovery
LIBRARY_POPULARITY_SCALE: Final = 18.0  # favourites: popularity counts less, affinity more
ARTIST_POPULARITY_SCALE: Final = 20.0
LATENT_DIMENSIONS: Final = 8
ROTATION_SIZE: Final = 40  # a listener's "on repeat" ring of recently adopted tracks
ROTATION_ADOPTION: Final = 0.06  # chance a completed play outside the library enters the rotation
RELEASE_DECAY_DAYS: Final = 5.0
RELEASE_PULL: Final = 0.35  # share of a fan's sessions spent on a new album on release day
RELEASE_INTEREST_FAN, RELEASE_INTEREST_GENRE, RELEASE_INTEREST_OTHER = 1.0, 0.2, 0.01


@dataclass(frozen=True, slots=True)
class SyntheticPlay:
    user_id: str
    track_id: str
    played_at: datetime  # UTC, when the play started
    ms_played: int
    skipped: bool  # ms_played < 30 s
    country: str
    city: str
    device: str  # one of DEVICES
    source: str  # one of SOURCES (Spotify for Artists' sources of stream)
    context: str | None  # spotify URI of the album, artist or playlist played, or None


@dataclass(frozen=True, slots=True)
class SyntheticPlaylist:
    id: str
    owner_id: str
    name: str
    track_ids: tuple[str, ...]
    created_at: datetime
    follower_ids: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        return f"spotify:playlist:{self.id}"


@dataclass(frozen=True, slots=True)
class SyntheticListener:
    id: str
    country: str
    city: str
    taste: tuple[str, ...]  # favourite genres, the main one first
    utc_offset_hours: float
    favourite_artist_ids: tuple[str, ...]
    library_track_ids: tuple[str, ...]  # saved tracks, the favourites it replays
    expected_plays_per_day: float
    exploration_rate: float  # share of sessions outside the taste
    main_device: str


@dataclass(frozen=True, slots=True)
class SyntheticRelease:
    """An album of the catalogue treated as released inside the window (its catalogue
    `release_date` is ignored): unplayable before the release day starts in the listener's
    time zone (east of UTC, up to 11 h before `released_at`), a burst of plays after."""

    album_id: str
    artist_id: str
    released_at: datetime  # midnight UTC of the release day (a Friday when the window has one)
    track_ids: tuple[str, ...]


@dataclass(frozen=True)
class Listening:
    """The listeners, their plays in time order inside the window [start, end), the playlists
    they made and the albums released inside the window."""

    listeners: list[SyntheticListener]
    plays: list[SyntheticPlay]
    playlists: list[SyntheticPlaylist]
    releases: list[SyntheticRelease] = field(default_factory=list)
    start: datetime = DEFAULT_END
    end: datetime = DEFAULT_END


@dataclass(frozen=True)
class HoldoutSplit:
    """An offline evaluation split: each listener's last plays by time, and a share of each
    playlist's tracks, held out."""

    train_plays: list[SyntheticPlay]
    test_plays: list[SyntheticPlay]
    playlist_visible: dict[str, tuple[str, ...]]
    playlist_hidden: dict[str, tuple[str, ...]]


def generate_listening(
    *,
    listeners: int = 300,
    days: int = 90,
    end: datetime = DEFAULT_END,
    seed: int = 7,
    plays_per_listener_per_day: float = 6.0,
    playlists_per_listener: float = 0.5,
    catalogue: Mapping[str, Any] | None = None,
) -> Listening:
    """Listeners, their playlists, the window's new releases and every play, in time order."""
    world = _World(
        listeners=listeners,
        days=days,
        end=end,
        seed=seed,
        plays_per_listener_per_day=plays_per_listener_per_day,
        playlists_per_listener=playlists_per_listener,
        catalogue=catalogue,
    )
    return Listening(
        listeners=[listener.public for listener in world.listeners],
        plays=list(_stream_plays(world)),
        playlists=list(world.playlists),
        releases=list(world.releases),
        start=_to_datetime(world.start_ms),
        end=_to_datetime(world.end_ms),
    )


def iter_plays(
    *,
    listeners: int = 300,
    days: int = 90,
    end: datetime = DEFAULT_END,
    seed: int = 7,
    plays_per_listener_per_day: float = 6.0,
    playlists_per_listener: float = 0.5,
    catalogue: Mapping[str, Any] | None = None,
) -> Iterator[SyntheticPlay]:
    """The plays of `generate_listening` with the same arguments, streamed in time order.

    Memory is O(listeners + catalogue): one simulated day is generated at a time."""
    world = _World(
        listeners=listeners,
        days=days,
        end=end,
        seed=seed,
        plays_per_listener_per_day=plays_per_listener_per_day,
        playlists_per_listener=playlists_per_listener,
        catalogue=catalogue,
    )
    return _stream_plays(world)


def holdout_split(listening: Listening, *, fraction: float = 0.2, seed: int = 7) -> HoldoutSplit:
    """Hold out the last `fraction` of each listener's plays by time (at least one play of
    every listener with two or more) and a seeded random `fraction` of each playlist's tracks."""
    if not 0 < fraction < 1:
        raise ValueError("fraction must be between 0 and 1")
    plays_by_user: dict[str, list[SyntheticPlay]] = {}
    for play in listening.plays:
        plays_by_user.setdefault(play.user_id, []).append(play)
    cutoff: dict[str, int] = {}
    for user_id, plays in plays_by_user.items():
        held = min(len(plays) - 1, max(1, round(len(plays) * fraction))) if len(plays) > 1 else 0
        cutoff[user_id] = len(plays) - held
    seen: dict[str, int] = {}
    train: list[SyntheticPlay] = []
    test: list[SyntheticPlay] = []
    for play in listening.plays:
        position = seen.get(play.user_id, 0)
        seen[play.user_id] = position + 1
        (train if position < cutoff[play.user_id] else test).append(play)
    rng = np.random.default_rng(seed)
    visible: dict[str, tuple[str, ...]] = {}
    hidden: dict[str, tuple[str, ...]] = {}
    for playlist in listening.playlists:
        count = len(playlist.track_ids)
        held = min(count - 1, max(1, round(count * fraction))) if count > 1 else 0
        hidden_positions = set(rng.choice(count, size=held, replace=False).tolist())
        visible[playlist.id] = tuple(t for i, t in enumerate(playlist.track_ids) if i not in hidden_positions)
        hidden[playlist.id] = tuple(t for i, t in enumerate(playlist.track_ids) if i in hidden_positions)
    return HoldoutSplit(train_plays=train, test_plays=test, playlist_visible=visible, playlist_hidden=hidden)


def track_genres(catalogue: Mapping[str, Any] | None = None) -> dict[str, frozenset[str]]:
    """The genres a play of each track counts towards: its primary (first) artist's genres."""
    data = catalogue if catalogue is not None else load_catalogue()
    genres_of_artist = {artist["id"]: frozenset(artist["genres"]) for artist in data["artists"]}
    return {
        track["id"]: genres_of_artist.get(track["artists"][0]["id"], frozenset()) for track in data["tracks"]
    }


@lru_cache(maxsize=1)
def load_catalogue() -> Mapping[str, Any]:
    """The bundled sample catalogue (the shapes of `offline.load_sample()`), read once."""
    data: dict[str, Any] = json.loads(gzip.decompress(CATALOGUE_PATH.read_bytes()))
    return data


# --- weighted draws ----------------------------------------------------------------------------


def _cumulative(weights: FloatArray) -> FloatArray:
    """Normalised cumulative weights whose last bound is infinite, so that
    `cumulative.searchsorted(u, side="right")` of a uniform u in [0, 1) is a weighted draw that
    can never fall off the end."""
    if len(weights) == 0:
        return np.empty(0, np.float64)
    cumulative = np.cumsum(weights, dtype=np.float64)
    cumulative /= cumulative[-1]
    cumulative[-1] = np.inf
    return cumulative


class _Uniforms:
    """Uniform draws taken from pre-drawn blocks: the per-session code needs a handful at a
    time, and a generator call per handful would cost more than the drawing."""

    __slots__ = ("_block", "_next", "_rng", "_values")

    def __init__(self, rng: np.random.Generator, block_size: int = 1 << 15) -> None:
        self._rng = rng
        self._block = rng.random(block_size)
        self._values: list[float] = self._block.tolist()
        self._next = 0

    def _refill(self) -> None:
        self._block = self._rng.random(len(self._block))
        self._values = self._block.tolist()
        self._next = 0

    def take(self, count: int) -> FloatArray:
        if count > len(self._block):
            return self._rng.random(count)
        if self._next + count > len(self._block):
            self._refill()
        start = self._next
        self._next = start + count
        return self._block[start : self._next]

    def one(self) -> float:
        if self._next >= len(self._values):
            self._refill()
        value = self._values[self._next]
        self._next += 1
        return value

    def below(self, bound: int) -> int:
        """A uniform integer in [0, bound)."""
        return min(int(self.one() * bound), bound - 1)


def _draw_one(items: IntArray, cumulative: FloatArray, uniforms: _Uniforms) -> int:
    return int(items[cumulative.searchsorted(uniforms.one(), side="right")])


def _draws(items: IntArray, cumulative: FloatArray, count: int, uniforms: _Uniforms) -> IntArray:
    result: IntArray = items[cumulative.searchsorted(uniforms.take(count), side="right")]
    return result


def _distinct(tracks: list[int], count: int) -> list[int]:
    """The first `count` distinct tracks, in order (oversampled draws with replacement, repeats
    dropped: the cheap way to draw without replacement)."""
    return list(dict.fromkeys(tracks))[:count]


def _shuffled(tracks: IntArray, uniforms: _Uniforms) -> list[int]:
    shuffled: list[int] = tracks[np.argsort(uniforms.take(len(tracks)))].tolist()
    return shuffled


def _weighted_order(log_weights: FloatArray, count: int, rng: np.random.Generator) -> IntArray:
    """The positions of `count` items drawn without replacement by weight (Gumbel top-k)."""
    keys = log_weights + rng.gumbel(size=len(log_weights))
    if count >= len(keys):
        return np.argsort(-keys).astype(np.int64)
    top = np.argpartition(-keys, count)[:count]
    return top[np.argsort(-keys[top])].astype(np.int64)


def _standardised(values: FloatArray) -> FloatArray:
    if not len(values):
        return values
    spread = float(values.std())
    return (values - values.mean()) / (spread if spread > 0 else 1.0)


# --- the catalogue, indexed --------------------------------------------------------------------


class _Catalogue:
    """The catalogue as arrays: tracks, artists, albums, genres (as bits), sample playlists."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        artists = list(data["artists"])
        self.genres: list[str] = sorted({genre for artist in artists for genre in artist["genres"]})
        if not self.genres or len(self.genres) > 62:
            raise ValueError("the catalogue needs between 1 and 62 artist genres")
        genre_bit = {genre: index for index, genre in enumerate(self.genres)}
        self.artist_ids: list[str] = [artist["id"] for artist in artists]
        artist_index = {artist_id: index for index, artist_id in enumerate(self.artist_ids)}
        self.artist_popularity = np.array([a.get("popularity", 50) for a in artists], np.float64)
        self.artist_genres: list[tuple[int, ...]] = [
            tuple(sorted(genre_bit[genre] for genre in artist["genres"])) for artist in artists
        ]
        self.artist_genre_mask = np.array(
            [sum(1 << bit for bit in bits) for bits in self.artist_genres], np.int64
        )
        tracks = [t for t in data["tracks"] if t.get("artists") and t["artists"][0]["id"] in artist_index]
        if not tracks:
            raise ValueError("the catalogue has no track by a known artist")
        self.track_ids: list[str] = [track["id"] for track in tracks]
        track_index = {track_id: index for index, track_id in enumerate(self.track_ids)}
        self.track_artist = np.array([artist_index[t["artists"][0]["id"]] for t in tracks], np.int64)
        self.track_popularity = np.array([t.get("popularity", 50) for t in tracks], np.float64)
        self.track_duration = np.array([max(1, int(t["duration_ms"])) for t in tracks], np.int64)
        self.track_genre_mask = self.artist_genre_mask[self.track_artist]
        self.album_ids: list[str] = []
        self.album_artist: list[int] = []
        self.album_popularity: list[float] = []
        self.album_tracks: list[IntArray] = []
        for album in data["albums"]:
            members = [track_index[t] for t in album.get("track_ids", []) if t in track_index]
            owner = album["artists"][0]["id"] if album.get("artists") else None
            if not members or owner not in artist_index:
                continue
            self.album_ids.append(album["id"])
            self.album_artist.append(artist_index[owner])
            self.album_popularity.append(float(album.get("popularity", 50)))
            self.album_tracks.append(np.array(members, np.int64))
        self.sample_playlist_uris: list[str] = []
        self.sample_playlist_tracks: list[IntArray] = []
        for playlist in data.get("playlists", []):
            members = [track_index[t] for t in playlist.get("track_ids", []) if t in track_index]
            if members:
                self.sample_playlist_uris.append(f"spotify:playlist:{playlist['id']}")
                self.sample_playlist_tracks.append(np.array(members, np.int64))


@lru_cache(maxsize=1)
def _default_catalogue() -> _Catalogue:
    return _Catalogue(load_catalogue())


# --- the world: catalogue, releases, listeners, playlists -------------------------------------


@dataclass(slots=True)
class _ListenerState:
    """A listener's private model and its evolving state (its "on repeat" rotation)."""

    public: SyntheticListener
    taste_mask: int
    pool: IntArray  # playable tracks of its taste
    pool_cumulative: FloatArray  # popularity x affinity
    discovery_cumulative: FloatArray  # flatter popularity, stronger affinity
    artist_pool: IntArray
    artist_cumulative: FloatArray
    favourite_artists: IntArray
    favourite_artist_set: frozenset[int]
    library: IntArray
    library_cumulative: FloatArray
    editorial_cumulative: FloatArray
    rotation: IntArray = field(default_factory=lambda: np.full(ROTATION_SIZE, -1, np.int64))
    rotation_size: int = 0
    rotation_next: int = 0
    playlists: list[tuple[int, str, IntArray]] = field(default_factory=list)  # (created ms, uri, tracks)
    followed: list[tuple[int, str, IntArray]] = field(default_factory=list)


class _ListenerRow(NamedTuple):
    activity: float
    exploration: float
    skip_propensity: float
    kind_mix: FloatArray
    device_mix: FloatArray
    explore_weight: FloatArray
    taste_mask: int
    offset_ms: int


class _World:
    """Everything fixed before the first play: the catalogue's arrays restricted to what is
    playable, the new releases, the listeners and their playlists. Built from the seed alone."""

    def __init__(
        self,
        *,
        listeners: int,
        days: int,
        end: datetime,
        seed: int,
        plays_per_listener_per_day: float,
        playlists_per_listener: float,
        catalogue: Mapping[str, Any] | None,
    ) -> None:
        if listeners < 1 or days < 1:
            raise ValueError("listeners and days must be positive")
        if plays_per_listener_per_day < 0 or playlists_per_listener < 0:
            raise ValueError("rates must not be negative")
        if end.tzinfo is None:
            raise ValueError("end must be timezone-aware")
        self.catalogue = _default_catalogue() if catalogue is None else _Catalogue(catalogue)
        self.days = days
        self.plays_per_listener_per_day = plays_per_listener_per_day
        self.end_ms = (end - EPOCH) // timedelta(milliseconds=1)
        self.start_ms = self.end_ms - days * DAY_MS
        self.start_date = _to_datetime(self.start_ms).date()
        self.midnight_ms = (
            datetime(self.start_date.year, self.start_date.month, self.start_date.day, tzinfo=UTC) - EPOCH
        ) // timedelta(milliseconds=1)
        world_seed, play_seed = np.random.SeedSequence(seed).spawn(2)
        rng = np.random.default_rng(world_seed)
        self.play_rng = np.random.default_rng(play_seed)
        self._choose_releases(rng)
        self._index_playable()
        self._place_in_latent_space(rng)
        self._create_listeners(rng, listeners, playlists_per_listener)
        self._weigh_release_interest()

    # -- releases and what is playable ------------------------------------------------------

    def _choose_releases(self, rng: np.random.Generator) -> None:
        """About one album a week, popular ones by artists with an earlier album, re-dated to a
        Friday of the window: unplayable before, a burst of plays after."""
        cat = self.catalogue
        count = min(max(1, round(self.days / 7)), len(cat.album_ids) // 4)  # most stay playable
        albums_per_artist = np.bincount(np.array(cat.album_artist, np.int64), minlength=len(cat.artist_ids))
        follow_ups = np.array([albums_per_artist[a] >= 2 for a in cat.album_artist], np.bool_)
        weights = np.exp(np.array(cat.album_popularity) / ARTIST_POPULARITY_SCALE) * np.where(
            follow_ups, 1.0, 0.02
        )
        chosen = (
            rng.choice(len(weights), size=count, replace=False, p=weights / weights.sum())
            if count
            else np.empty(0, np.int64)
        )
        window_days = [self.start_date + timedelta(days=d) for d in range(self.days)]
        fridays = [d for d in window_days if d.weekday() == 4] or window_days
        self.release_albums = np.sort(chosen).astype(np.int64)
        release_dates = [fridays[int(rng.integers(len(fridays)))] for _ in range(len(self.release_albums))]
        self.release_day = np.array([(d - self.start_date).days for d in release_dates], np.int64)
        self.release_artists = np.array([cat.album_artist[a] for a in self.release_albums.tolist()], np.int64)
        self.releases: list[SyntheticRelease] = [
            SyntheticRelease(
                album_id=cat.album_ids[album],
                artist_id=cat.artist_ids[cat.album_artist[album]],
                released_at=datetime(d.year, d.month, d.day, tzinfo=UTC),
                track_ids=tuple(cat.track_ids[t] for t in cat.album_tracks[album].tolist()),
            )
            for album, d in zip(self.release_albums.tolist(), release_dates, strict=True)
        ]
        self.playable = np.ones(len(cat.track_ids), np.bool_)
        for album in self.release_albums.tolist():
            self.playable[cat.album_tracks[album]] = False

    def _index_playable(self) -> None:
        """Per artist and genre, the tracks playable outside new releases, with their weights."""
        cat = self.catalogue
        playable = self.playable
        popularity_weight = np.exp(cat.track_popularity / TRACK_POPULARITY_SCALE)
        discovery_weight = np.exp(cat.track_popularity / DISCOVERY_POPULARITY_SCALE)
        most_popular_first = np.lexsort((np.arange(len(cat.track_ids)), -cat.track_popularity))
        by_artist: list[list[int]] = [[] for _ in cat.artist_ids]
        for track in most_popular_first.tolist():
            if playable[track]:
                by_artist[int(cat.track_artist[track])].append(track)
        self.artist_tracks = [np.array(tracks, np.int64) for tracks in by_artist]
        self.artist_track_cumulative = [_cumulative(popularity_weight[t]) for t in self.artist_tracks]
        self.artist_top_tracks = [tracks[:10] for tracks in self.artist_tracks]
        self.artist_top_cumulative = [_cumulative(popularity_weight[t]) for t in self.artist_top_tracks]
        albums_by_artist: list[list[int]] = [[] for _ in cat.artist_ids]
        for album, artist in enumerate(cat.album_artist):
            if playable[cat.album_tracks[album]].all():
                albums_by_artist[artist].append(album)
        self.artist_albums = [np.array(albums, np.int64) for albums in albums_by_artist]
        self.artist_album_cumulative = [
            _cumulative(
                np.array(
                    [
                        math.exp(cat.album_popularity[a] / ARTIST_POPULARITY_SCALE)
                        * (2.0 if len(cat.album_tracks[a]) >= 3 else 1.0)
                        for a in albums.tolist()
                    ],
                    np.float64,
                )
            )
            for albums in self.artist_albums
        ]
        self.genre_tracks: list[IntArray] = []
        self.genre_cumulative: list[FloatArray] = []
        self.genre_discovery_cumulative: list[FloatArray] = []
        self.genre_artists: list[IntArray] = []
        self.genre_artist_cumulative: list[FloatArray] = []
        self.has_tracks = np.array([len(t) > 0 for t in self.artist_tracks], np.bool_)
        for bit in range(len(cat.genres)):
            tracks = np.flatnonzero(playable & (((cat.track_genre_mask >> bit) & 1) == 1)).astype(np.int64)
            artists = np.flatnonzero(self.has_tracks & (((cat.artist_genre_mask >> bit) & 1) == 1)).astype(
                np.int64
            )
            self.genre_tracks.append(tracks)
            self.genre_cumulative.append(_cumulative(popularity_weight[tracks]))
            self.genre_discovery_cumulative.append(_cumulative(discovery_weight[tracks]))
            self.genre_artists.append(artists)
            self.genre_artist_cumulative.append(
                _cumulative(np.exp(cat.artist_popularity[artists] / ARTIST_POPULARITY_SCALE))
            )
        self.all_tracks = np.flatnonzero(playable).astype(np.int64)
        self.all_cumulative = _cumulative(popularity_weight[self.all_tracks])
        editorial = [
            (uri, t[playable[t]])
            for uri, t in zip(cat.sample_playlist_uris, cat.sample_playlist_tracks, strict=True)
        ]
        self.editorial_uris = [uri for uri, tracks in editorial if len(tracks)]
        self.editorial_tracks = [tracks for _, tracks in editorial if len(tracks)]

    def _place_in_latent_space(self, rng: np.random.Generator) -> None:
        """Genre centroids; artists near their genres; tracks near their artist. Global genre
        popularity: a Zipf over a seeded ranking of the genres."""
        cat = self.catalogue
        self.genre_centroids = rng.normal(size=(len(cat.genres), LATENT_DIMENSIONS))
        genre_centres = np.stack(
            [
                self.genre_centroids[list(bits)].mean(axis=0) if bits else np.zeros(LATENT_DIMENSIONS)
                for bits in cat.artist_genres
            ]
        )
        self.artist_latent = genre_centres * 0.8 + rng.normal(
            scale=0.6, size=(len(cat.artist_ids), LATENT_DIMENSIONS)
        )
        self.track_latent = self.artist_latent[cat.track_artist] + rng.normal(
            scale=0.45, size=(len(cat.track_ids), LATENT_DIMENSIONS)
        )
        ranking = rng.permutation(len(cat.genres))
        self.genre_weight = 1.0 / (ranking + 1.0) ** 0.9

    # -- listeners and their playlists ------------------------------------------------------

    def _create_listeners(self, rng: np.random.Generator, count: int, playlists_per_listener: float) -> None:
        cat = self.catalogue
        countries = list(COUNTRY_SHARE)
        country_p = np.array([COUNTRY_SHARE[c] for c in countries])
        country_p /= country_p.sum()
        self.listeners: list[_ListenerState] = []
        self.playlists: list[SyntheticPlaylist] = []
        self._playlist_contents: list[tuple[int, int, IntArray]] = []  # (owner, created ms, tracks)
        rows: list[_ListenerRow] = []
        width = max(4, len(str(count)))
        for position in range(count):
            country = countries[int(rng.choice(len(countries), p=country_p))]
            cities = CITIES[country]
            city_p = np.array([share for _, _, share in cities])
            city, offset_hours, _ = cities[int(rng.choice(len(cities), p=city_p / city_p.sum()))]
            regional = REGIONAL_GENRES.get(country, {})
            genre_weight = self.genre_weight * np.array([regional.get(g, 1.0) for g in cat.genres])
            taste_size = min(len(cat.genres), int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25])))
            taste_bits: list[int] = rng.choice(
                len(cat.genres), size=taste_size, replace=False, p=genre_weight / genre_weight.sum()
            ).tolist()
            taste_mask = sum(1 << bit for bit in taste_bits)
            activity = float(np.clip(rng.gamma(1.6, 1 / 1.6), 0.05, 6.0))
            exploration = float(np.clip(rng.beta(2.0, 13.0), 0.02, 0.25))
            skip_propensity = float(np.clip(rng.beta(4.5, 11.0), 0.05, 0.6))
            latent = self.genre_centroids[taste_bits].mean(axis=0) * 0.8 + rng.normal(
                scale=0.6, size=LATENT_DIMENSIONS
            )

            pool = np.flatnonzero(self.playable & ((cat.track_genre_mask & taste_mask) != 0)).astype(np.int64)
            if not len(pool):  # a taste with nothing playable (a custom catalogue): take everything
                pool = self.all_tracks
            affinity = _standardised(self.track_latent[pool] @ latent)
            popularity = cat.track_popularity[pool]
            discovery_log_weight = popularity / DISCOVERY_POPULARITY_SCALE + 1.3 * affinity
            artist_pool = np.flatnonzero(
                self.has_tracks & ((cat.artist_genre_mask & taste_mask) != 0)
            ).astype(np.int64)
            if not len(artist_pool):
                artist_pool = np.unique(cat.track_artist[pool])
            artist_affinity = _standardised(self.artist_latent[artist_pool] @ latent)
            artist_popularity = cat.artist_popularity[artist_pool]
            favourite_count = min(len(artist_pool), int(rng.integers(3, 11)))
            favourite_artists = artist_pool[
                _weighted_order(artist_popularity / 25 + 1.5 * artist_affinity, favourite_count, rng)
            ]
            library_size = min(len(pool), int(np.clip(rng.lognormal(math.log(35), 0.5), 12, 150)))
            library_log_weight = popularity / LIBRARY_POPULARITY_SCALE + 1.5 * affinity
            library_positions = _weighted_order(library_log_weight, library_size, rng)
            favourite_tops = [self.artist_tracks[a][:2] for a in favourite_artists.tolist()]
            library = np.unique(np.concatenate([pool[library_positions], *favourite_tops])).astype(np.int64)
            library_weight = np.exp(library_log_weight[np.searchsorted(pool, library)])
            editorial_fit = np.array(
                [
                    np.mean((cat.track_genre_mask[tracks] & taste_mask) != 0)
                    for tracks in self.editorial_tracks
                ]
            )
            device_mix = rng.dirichlet(np.array(DEVICE_SHARE) * 12)
            explore_weight = genre_weight.copy()
            explore_weight[taste_bits] = 0.0
            if explore_weight.sum() == 0:
                explore_weight = genre_weight.copy()
            public = SyntheticListener(
                id=f"listener-{position + 1:0{width}d}",
                country=country,
                city=city,
                taste=tuple(cat.genres[bit] for bit in taste_bits),
                utc_offset_hours=float(offset_hours),
                favourite_artist_ids=tuple(cat.artist_ids[a] for a in favourite_artists.tolist()),
                library_track_ids=tuple(cat.track_ids[t] for t in library.tolist()),
                expected_plays_per_day=activity * self.plays_per_listener_per_day,
                exploration_rate=exploration,
                main_device=DEVICES[int(np.argmax(device_mix))],
            )
            listener = _ListenerState(
                public=public,
                taste_mask=taste_mask,
                pool=pool,
                pool_cumulative=_cumulative(np.exp(popularity / TRACK_POPULARITY_SCALE + affinity)),
                discovery_cumulative=_cumulative(np.exp(discovery_log_weight)),
                artist_pool=artist_pool,
                artist_cumulative=_cumulative(
                    np.exp(artist_popularity / ARTIST_POPULARITY_SCALE + artist_affinity)
                ),
                favourite_artists=favourite_artists,
                favourite_artist_set=frozenset(favourite_artists.tolist()),
                library=library,
                library_cumulative=_cumulative(library_weight),
                editorial_cumulative=_cumulative((editorial_fit + 0.03) ** 2),
            )
            self.listeners.append(listener)
            rows.append(
                _ListenerRow(
                    activity,
                    exploration,
                    skip_propensity,
                    rng.dirichlet(np.array(TASTE_KIND_SHARE) * 30),
                    device_mix,
                    explore_weight,
                    taste_mask,
                    int(offset_hours * HOUR_MS),
                )
            )
            for _ in range(int(rng.poisson(playlists_per_listener))):
                self._create_playlist(rng, position, taste_bits, discovery_log_weight)
        self._stack_listener_rows(rows)
        self._follow_playlists(rng)

    def _create_playlist(
        self, rng: np.random.Generator, owner: int, taste_bits: list[int], discovery_log_weight: FloatArray
    ) -> None:
        """15-60 tracks of the owner's taste around one of its genres, favouring its library and
        favourite artists; created at a moment of the window."""
        cat = self.catalogue
        listener = self.listeners[owner]
        pool = listener.pool
        theme = taste_bits[int(rng.integers(len(taste_bits)))]
        log_weight = (
            discovery_log_weight
            + 1.4 * np.isin(pool, listener.library)
            + 0.8 * np.isin(cat.track_artist[pool], listener.favourite_artists)
            + 1.0 * ((cat.track_genre_mask[pool] >> theme) & 1)
        )
        tracks = pool[_weighted_order(log_weight, min(len(pool), int(rng.integers(15, 61))), rng)]
        if rng.random() < 0.4:
            name = PLAYLIST_MOODS[int(rng.integers(len(PLAYLIST_MOODS)))]
        else:
            name = (
                f"{cat.genres[theme].title()} {PLAYLIST_SUFFIXES[int(rng.integers(len(PLAYLIST_SUFFIXES)))]}"
            )
        latest_ms = max(self.start_ms, self.end_ms - DAY_MS)
        created_ms = int(rng.integers(self.start_ms, latest_ms + 1))
        self._playlist_contents.append((owner, created_ms, tracks))
        self.playlists.append(
            SyntheticPlaylist(
                id=f"{PLAYLIST_ID_PREFIX}{len(self.playlists) + 1:05d}",
                owner_id=listener.public.id,
                name=name,
                track_ids=tuple(cat.track_ids[t] for t in tracks.tolist()),
                created_at=_to_datetime(created_ms),
            )
        )

    def _follow_playlists(self, rng: np.random.Generator) -> None:
        """Each listener follows a few playlists of listeners who share one of its genres."""
        owners = np.array([owner for owner, _, _ in self._playlist_contents], np.int64)
        owner_masks = self.taste_masks[owners] if len(owners) else np.empty(0, np.int64)
        followers: list[list[str]] = [[] for _ in self.playlists]
        for (owner, created_ms, tracks), playlist in zip(
            self._playlist_contents, self.playlists, strict=True
        ):
            self.listeners[owner].playlists.append((created_ms, playlist.uri, tracks))
        for position, listener in enumerate(self.listeners):
            candidates = np.flatnonzero(((owner_masks & listener.taste_mask) != 0) & (owners != position))
            follows = min(len(candidates), int(rng.poisson(1.5)))
            for chosen in np.sort(rng.choice(candidates, size=follows, replace=False)).tolist():
                _, created_ms, tracks = self._playlist_contents[chosen]
                listener.followed.append((created_ms, self.playlists[chosen].uri, tracks))
                followers[chosen].append(listener.public.id)
        self.playlists = [
            replace(playlist, follower_ids=tuple(ids))
            for playlist, ids in zip(self.playlists, followers, strict=True)
        ]

    def _stack_listener_rows(self, rows: list[_ListenerRow]) -> None:
        """Per-listener parameters as arrays, for the vectorised day simulation."""
        self.activity = np.array([r.activity for r in rows])
        self.exploration = np.array([r.exploration for r in rows])
        self.skip_propensity = np.array([r.skip_propensity for r in rows])
        kind_cumulative = np.cumsum(np.stack([r.kind_mix for r in rows]), axis=1)
        kind_cumulative[:, -1] = np.inf
        self.kind_cumulative = kind_cumulative
        self.device_mix = np.stack([r.device_mix for r in rows])
        explore_cumulative = np.cumsum(np.stack([r.explore_weight for r in rows]), axis=1)
        explore_cumulative /= explore_cumulative[:, -1:]
        explore_cumulative[:, -1] = np.inf
        self.explore_genre_cumulative = explore_cumulative
        self.taste_masks = np.array([r.taste_mask for r in rows], np.int64)
        self.offsets_ms = np.array([r.offset_ms for r in rows], np.int64)
        self.busy_until_ms = [0] * len(rows)
        track_count = len(self.catalogue.track_ids)
        self.library_keys = np.sort(
            np.concatenate(
                [index * track_count + listener.library for index, listener in enumerate(self.listeners)]
            )
        )
        self.user_ids = [listener.public.id for listener in self.listeners]
        self.countries = [listener.public.country for listener in self.listeners]
        self.cities = [listener.public.city for listener in self.listeners]

    def _weigh_release_interest(self) -> None:
        """How much each listener cares for each new release: fans, genre listeners, others."""
        artists = self.release_artists
        interest = np.full((len(self.listeners), len(artists)), RELEASE_INTEREST_OTHER)
        release_masks = self.catalogue.artist_genre_mask[artists]
        for position, listener in enumerate(self.listeners):
            row = interest[position]
            row[(release_masks & listener.taste_mask) != 0] = RELEASE_INTEREST_GENRE
            row[np.isin(artists, listener.favourite_artists)] = RELEASE_INTEREST_FAN
        self.release_interest = interest


# --- the plays ---------------------------------------------------------------------------------


def _to_datetime(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


_WEEKDAY_HOUR_CUMULATIVE = _cumulative(np.array(WEEKDAY_HOURS, np.float64))
_WEEKEND_HOUR_CUMULATIVE = _cumulative(np.array(WEEKEND_HOURS, np.float64))
_EXPLORATION_KIND_CUMULATIVE = _cumulative(np.array(EXPLORATION_KIND_SHARE, np.float64))
_SESSION_LENGTH_CUMULATIVE = _cumulative(_SESSION_LENGTH_PMF)


def _device_hour_modulation(weekend: bool) -> FloatArray:
    """Per local hour, a multiplier per device (in the order of DEVICES)."""
    modulation = np.ones((24, len(DEVICES)))
    car, desktop, speaker = DEVICES.index("car"), DEVICES.index("desktop"), DEVICES.index("smart_speaker")
    if weekend:
        modulation[10:19, car] = 1.5
    else:
        modulation[[7, 8, 16, 17, 18], car] = 3.0
        modulation[9:17, desktop] = 1.8
    modulation[[6, 7, 8, 18, 19, 20, 21], speaker] = 1.6
    modulation[0:6, car] = 0.3
    return modulation


_DEVICE_MODULATION = (_device_hour_modulation(weekend=False), _device_hour_modulation(weekend=True))
# The plays are built without the frozen dataclass's __init__ (ten object.__setattr__ calls,
# 2.4 us a play): the slots' own setters fill the same fields, 1 us. Equal to the normal way.
_PLAY_SLOT_SETTERS: Final = tuple(getattr(SyntheticPlay, f.name).__set__ for f in fields(SyntheticPlay))


def _stream_plays(world: _World) -> Iterator[SyntheticPlay]:
    """Simulate local day after local day, from the day before the window (so the mornings of
    listeners east of UTC are covered) to its last, and emit, in time order, the plays that no
    later day can precede: a later local day starts at its midnight in the easternmost zone."""
    latest_offset_ms = int(world.offsets_ms.max())
    uniforms = _Uniforms(world.play_rng)
    carried_times = np.empty(0, np.int64)
    carried: list[SyntheticPlay] = []
    for day in range(-1, world.days + 1):
        times, plays = _simulate_day(world, day, uniforms)
        if plays:
            merged_times = np.concatenate([carried_times, times])
            order = np.argsort(merged_times, kind="stable")
            merged = carried + plays
            carried = [merged[i] for i in order.tolist()]
            carried_times = merged_times[order]
        settled_before = world.midnight_ms + (day + 1) * DAY_MS - latest_offset_ms
        cut = int(np.searchsorted(carried_times, settled_before, side="left"))
        yield from carried[:cut]
        carried = carried[cut:]
        carried_times = carried_times[cut:]
    yield from carried


@dataclass(slots=True)
class _Session:
    tracks: list[int]
    from_context: int  # how many of the tracks come from the context (the rest is autoplay)
    source: int
    context: str | None


def _simulate_day(world: _World, day: int, uniforms: _Uniforms) -> tuple[IntArray, list[SyntheticPlay]]:
    """One local day of every listener: sessions drawn in bulk, their tracks chosen session by
    session, then skips, durations and times of all the day's plays at once."""
    rng = world.play_rng
    cat = world.catalogue
    weekday = (world.start_date + timedelta(days=day)).weekday()
    weekend = weekday >= 5
    rates = world.activity * world.plays_per_listener_per_day * WEEKDAY_FACTOR[weekday] / MEAN_SESSION_LENGTH
    session_listener = np.repeat(np.arange(len(world.listeners)), rng.poisson(rates))
    session_total = len(session_listener)
    if session_total == 0:
        return np.empty(0, np.int64), []
    hour_cumulative = _WEEKEND_HOUR_CUMULATIVE if weekend else _WEEKDAY_HOUR_CUMULATIVE
    hours = hour_cumulative.searchsorted(rng.random(session_total), side="right")
    seconds = hours * 3600 + rng.integers(0, 3600, session_total)
    starts = world.midnight_ms + day * DAY_MS - world.offsets_ms[session_listener] + seconds * 1000
    lengths = SESSION_LENGTHS[
        _SESSION_LENGTH_CUMULATIVE.searchsorted(rng.random(session_total), side="right")
    ]
    exploring = rng.random(session_total) < world.exploration[session_listener]
    kinds = (rng.random(session_total)[:, None] >= world.kind_cumulative[session_listener]).sum(axis=1)
    exploring_kinds = _EXPLORATION_KIND_CUMULATIVE.searchsorted(rng.random(session_total), side="right")
    kinds = np.where(exploring, exploring_kinds, kinds)
    explore_genres = (
        rng.random(session_total)[:, None] >= world.explore_genre_cumulative[session_listener]
    ).sum(axis=1)
    since_release = day - world.release_day
    decay = np.where(since_release >= 0, np.exp(-np.maximum(since_release, 0) / RELEASE_DECAY_DAYS), 0.0)
    active = np.flatnonzero(decay > 0.01)
    release_weights = world.release_interest[:, active] * decay[active]
    if len(active):
        pull = np.minimum(0.5, RELEASE_PULL * release_weights.sum(axis=1))
        kinds = np.where(rng.random(session_total) < pull[session_listener], KIND_NEW_RELEASE, kinds)
    device_weights = world.device_mix[session_listener] * _DEVICE_MODULATION[int(weekend)][hours]
    device_cumulative = np.cumsum(device_weights, axis=1)
    device_cumulative /= device_cumulative[:, -1:]
    device_cumulative[:, -1] = np.inf
    devices = (rng.random(session_total)[:, None] >= device_cumulative).sum(axis=1)

    order = np.lexsort((starts, session_listener))
    sessions: list[_Session] = []
    for listener_index, kind, length, start, explore_genre, explores in zip(
        session_listener[order].tolist(),
        kinds[order].tolist(),
        lengths[order].tolist(),
        starts[order].tolist(),
        explore_genres[order].tolist(),
        exploring[order].tolist(),
        strict=True,
    ):
        listener = world.listeners[listener_index]
        if kind == KIND_NEW_RELEASE:
            release_cumulative = np.cumsum(release_weights[listener_index])
            chosen = release_cumulative.searchsorted(uniforms.one() * release_cumulative[-1], side="right")
            release = int(active[min(int(chosen), len(active) - 1)])
            sessions.append(_new_release_session(world, release, length, listener, uniforms))
        elif explores:
            sessions.append(_exploration_session(world, kind, explore_genre, length, listener, uniforms))
        else:
            sessions.append(_taste_session(world, kind, length, start, listener, uniforms))

    if not all(s.tracks for s in sessions):  # (only a degenerate catalogue leaves a context empty)
        kept = [i for i, s in enumerate(sessions) if s.tracks]
        order = order[kept]
        sessions = [sessions[i] for i in kept]
        if not sessions:
            return np.empty(0, np.int64), []

    # The day's plays, vectorised.
    session_sizes = np.array([len(s.tracks) for s in sessions], np.int64)
    tracks = np.fromiter(chain.from_iterable(s.tracks for s in sessions), np.int64, int(session_sizes.sum()))
    play_count = len(tracks)
    if play_count == 0:
        return np.empty(0, np.int64), []
    ordered_listener = session_listener[order]
    play_session = np.repeat(np.arange(len(sessions)), session_sizes)
    first_play = np.cumsum(session_sizes) - session_sizes
    in_context = (np.arange(play_count) - first_play[play_session]) < np.array(
        [s.from_context for s in sessions], np.int64
    )[play_session]
    sources = np.where(
        in_context, np.array([s.source for s in sessions], np.int64)[play_session], SOURCE_RADIO
    )
    listener_of_play = ordered_listener[play_session]
    in_taste = (cat.track_genre_mask[tracks] & world.taste_masks[listener_of_play]) != 0
    keys = listener_of_play * len(cat.track_ids) + tracks
    favourite = (
        world.library_keys[np.minimum(world.library_keys.searchsorted(keys), len(world.library_keys) - 1)]
        == keys
    )
    skip_probability = (
        world.skip_propensity[listener_of_play]
        * SOURCE_SKIP_FACTOR[sources]
        * np.where(favourite, 0.45, np.where(in_taste, 1.0, 1.9))
        * (1.25 - 0.005 * cat.track_popularity[tracks])
    )
    skipping = rng.random(play_count) < np.clip(skip_probability, 0.01, 0.92)
    duration = cat.track_duration[tracks]
    stopped_early = rng.random(play_count) < 0.12
    completed_ms = np.where(
        stopped_early,
        SKIP_THRESHOLD_MS + np.maximum(duration - SKIP_THRESHOLD_MS, 0) * rng.random(play_count),
        duration,
    )
    skipped_ms = 500 + 29_000 * rng.beta(1.1, 2.4, play_count)
    ms_played = np.minimum(np.where(skipping, skipped_ms, completed_ms), duration).astype(np.int64)
    skipped = ms_played < SKIP_THRESHOLD_MS
    gaps = rng.integers(200, 2500, play_count) + np.where(
        rng.random(play_count) < 0.03, rng.integers(30_000, 600_000, play_count), 0
    )
    steps = ms_played + gaps
    before = np.cumsum(steps) - steps
    offsets = before - before[first_play][play_session]
    session_durations = np.add.reduceat(steps, first_play)

    # A listener plays one thing at a time: a session waits for the one before it.
    session_starts = starts[order].tolist()
    pauses = rng.integers(60_000, 1_200_000, len(sessions)).tolist()
    busy = world.busy_until_ms
    for index, (listener_index, duration_ms) in enumerate(
        zip(ordered_listener.tolist(), session_durations.tolist(), strict=True)
    ):
        start = session_starts[index]
        if start < busy[listener_index]:
            start = busy[listener_index] + pauses[index]
            session_starts[index] = start
        busy[listener_index] = start + duration_ms
    play_times = np.array(session_starts, np.int64)[play_session] + offsets

    # Tracks completed outside the library may go "on repeat" (from the next day on).
    adopted = np.flatnonzero(~skipped & ~favourite & (rng.random(play_count) < ROTATION_ADOPTION))
    for listener_index, track in zip(
        listener_of_play[adopted].tolist(), tracks[adopted].tolist(), strict=True
    ):
        listener = world.listeners[listener_index]
        listener.rotation[listener.rotation_next] = track
        listener.rotation_next = (listener.rotation_next + 1) % ROTATION_SIZE
        listener.rotation_size = min(ROTATION_SIZE, listener.rotation_size + 1)

    inside = np.flatnonzero((play_times >= world.start_ms) & (play_times < world.end_ms))
    emitted = inside[np.argsort(play_times[inside], kind="stable")]
    contexts: list[str | None] = [s.context for s in sessions]
    contexts.append(None)  # autoplay
    context_index = np.where(in_context, play_session, len(sessions))
    emitted_times = play_times[emitted]
    return emitted_times, _build_plays(
        world,
        emitted_times.tolist(),
        listener_of_play[emitted].tolist(),
        tracks[emitted].tolist(),
        ms_played[emitted].tolist(),
        skipped[emitted].tolist(),
        devices[order][play_session][emitted].tolist(),
        sources[emitted].tolist(),
        [contexts[i] for i in context_index[emitted].tolist()],
    )


def _build_plays(
    world: _World,
    times: list[int],
    listener_indices: list[int],
    tracks: list[int],
    ms_played: list[int],
    skipped: list[bool],
    devices: list[int],
    sources: list[int],
    contexts: list[str | None],
) -> list[SyntheticPlay]:
    user_ids, countries, cities, track_ids = (
        world.user_ids,
        world.countries,
        world.cities,
        world.catalogue.track_ids,
    )
    (set_user, set_track, set_played_at, set_ms, set_skipped, set_country, set_city, set_device, set_source,
     set_context) = _PLAY_SLOT_SETTERS  # fmt: skip
    new = object.__new__
    from_timestamp = datetime.fromtimestamp
    plays: list[SyntheticPlay] = []
    append = plays.append
    for time, listener, track, played, skip, device, source, context in zip(
        times, listener_indices, tracks, ms_played, skipped, devices, sources, contexts, strict=True
    ):
        play = new(SyntheticPlay)
        set_user(play, user_ids[listener])
        set_track(play, track_ids[track])
        set_played_at(play, from_timestamp(time / 1000, UTC))
        set_ms(play, played)
        set_skipped(play, skip)
        set_country(play, countries[listener])
        set_city(play, cities[listener])
        set_device(play, DEVICES[device])
        set_source(play, SOURCES[source])
        set_context(play, context)
        append(play)
    return plays


# --- sessions ----------------------------------------------------------------------------------


def _autoplay(world: _World, artist: int, count: int, taste_mask: int, uniforms: _Uniforms) -> list[int]:
    """Radio around an artist: some of its tracks, mostly popular tracks of one of its genres
    (one of the listener's taste when the artist has one)."""
    if count <= 0:
        return []
    genres = world.catalogue.artist_genres[artist]
    liked = [g for g in genres if (taste_mask >> g) & 1] or list(genres)
    draws = 2 * count + 4
    if liked:
        genre = liked[uniforms.below(len(liked))]
        around = _draws(world.genre_tracks[genre], world.genre_cumulative[genre], draws, uniforms)
    else:
        around = _draws(world.all_tracks, world.all_cumulative, draws, uniforms)
    if len(world.artist_tracks[artist]):
        own = _draws(world.artist_tracks[artist], world.artist_track_cumulative[artist], draws, uniforms)
        around = np.where(uniforms.take(draws) < 0.35, own, around)
    return _distinct(around.tolist(), count)


def _with_autoplay(
    world: _World,
    context_tracks: list[int],
    length: int,
    listener: _ListenerState,
    source: int,
    context: str | None,
    uniforms: _Uniforms,
) -> _Session:
    """The context's tracks, then autoplay around the last one's artist if they run out."""
    played = context_tracks[:length]
    if len(played) >= length or not played:
        return _Session(played, len(played), source, context)
    artist = int(world.catalogue.track_artist[played[-1]])
    fill = [
        t
        for t in _autoplay(world, artist, length - len(played) + 2, listener.taste_mask, uniforms)
        if t not in played
    ]
    return _Session(played + fill[: length - len(played)], len(played), source, context)


def _pick_taste_artist(listener: _ListenerState, uniforms: _Uniforms) -> int:
    if len(listener.favourite_artists) and uniforms.one() < 0.55:
        return int(listener.favourite_artists[uniforms.below(len(listener.favourite_artists))])
    return _draw_one(listener.artist_pool, listener.artist_cumulative, uniforms)


def _album_session(
    world: _World, artist: int, length: int, listener: _ListenerState, source: int, uniforms: _Uniforms
) -> _Session:
    cat = world.catalogue
    albums = world.artist_albums[artist]
    if not len(albums):
        return _artist_session(world, artist, length, listener, uniforms)
    album = _draw_one(albums, world.artist_album_cumulative[artist], uniforms)
    tracks = cat.album_tracks[album]
    ordered = tracks.tolist() if uniforms.one() < 0.75 else _shuffled(tracks, uniforms)
    return _with_autoplay(
        world, ordered, length, listener, source, f"spotify:album:{cat.album_ids[album]}", uniforms
    )


def _artist_session(
    world: _World, artist: int, length: int, listener: _ListenerState, uniforms: _Uniforms
) -> _Session:
    """The artist's top tracks (its ten most popular playable ones), popular ones first."""
    top = world.artist_top_tracks[artist]
    if not len(top):
        return _radio_session(world, int(world.all_tracks[0]), length, listener.taste_mask, uniforms)
    ordered = _distinct(
        _draws(top, world.artist_top_cumulative[artist], 3 * len(top), uniforms).tolist(), len(top)
    )
    uri = f"spotify:artist:{world.catalogue.artist_ids[artist]}"
    return _with_autoplay(world, ordered, length, listener, SOURCE_ARTIST_PROFILE, uri, uniforms)


def _radio_session(
    world: _World, seed_track: int, length: int, taste_mask: int, uniforms: _Uniforms
) -> _Session:
    artist = int(world.catalogue.track_artist[seed_track])
    around = [t for t in _autoplay(world, artist, length, taste_mask, uniforms) if t != seed_track]
    tracks = [seed_track, *around[: length - 1]]
    return _Session(tracks, len(tracks), SOURCE_RADIO, None)


def _playlist_session(
    world: _World,
    playlists: list[tuple[int, str, IntArray]],
    start_ms: int,
    length: int,
    listener: _ListenerState,
    source: int,
    uniforms: _Uniforms,
) -> _Session | None:
    available = [p for p in playlists if p[0] <= start_ms]
    if not available:
        return None
    _, uri, tracks = available[uniforms.below(len(available))]
    if uniforms.one() < 0.8:
        ordered = _shuffled(tracks, uniforms)
    else:  # in order, from wherever it was left
        first = uniforms.below(len(tracks))
        ordered = tracks[first:].tolist() + tracks[:first].tolist()
    return _with_autoplay(world, ordered, length, listener, source, uri, uniforms)


def _library_session(length: int, listener: _ListenerState, uniforms: _Uniforms) -> _Session:
    """Saved tracks shuffled, favourites more often, with the rotation's recent finds mixed in."""
    draws = 2 * length + 4
    chosen = _draws(listener.library, listener.library_cumulative, draws, uniforms)
    if listener.rotation_size:
        recent = listener.rotation[(uniforms.take(draws) * listener.rotation_size).astype(np.int64)]
        chosen = np.where(uniforms.take(draws) < 0.25, recent, chosen)
    tracks = _distinct(chosen.tolist(), length)
    return _Session(tracks, len(tracks), SOURCE_USER_LIBRARY, None)


def _taste_session(
    world: _World, kind: int, length: int, start_ms: int, listener: _ListenerState, uniforms: _Uniforms
) -> _Session:
    """A session within the listener's taste, from a context of the given kind."""
    cat = world.catalogue
    if kind == KIND_ALBUM:
        artist = _pick_taste_artist(listener, uniforms)
        source = SOURCE_USER_LIBRARY if artist in listener.favourite_artist_set else SOURCE_SEARCH
        return _album_session(world, artist, length, listener, source, uniforms)
    if kind == KIND_ARTIST:
        return _artist_session(world, _pick_taste_artist(listener, uniforms), length, listener, uniforms)
    if kind in (KIND_USER_PLAYLIST, KIND_OTHER_PLAYLIST):
        own = kind == KIND_USER_PLAYLIST
        session = _playlist_session(
            world,
            listener.playlists if own else listener.followed,
            start_ms,
            length,
            listener,
            SOURCE_USER_PLAYLIST if own else SOURCE_OTHER_PLAYLIST,
            uniforms,
        )
        return session if session is not None else _library_session(length, listener, uniforms)
    if kind == KIND_EDITORIAL and world.editorial_tracks:
        # The sample playlist closest to the taste; its tracks of the taste come up far more
        # (a listener skips forward through the rest).
        chosen = int(listener.editorial_cumulative.searchsorted(uniforms.one(), side="right"))
        candidates = world.editorial_tracks[chosen]
        fits = (cat.track_genre_mask[candidates] & listener.taste_mask) != 0
        weights = _cumulative(np.where(fits, 1.0, 0.08))
        ordered = _distinct(_draws(candidates, weights, 2 * length + 4, uniforms).tolist(), length)
        return _with_autoplay(
            world, ordered, length, listener, SOURCE_EDITORIAL, world.editorial_uris[chosen], uniforms
        )
    if kind == KIND_RADIO:
        if uniforms.one() < 0.5:
            seed_track = int(listener.library[uniforms.below(len(listener.library))])
        else:
            seed_track = _draw_one(listener.pool, listener.pool_cumulative, uniforms)
        return _radio_session(world, seed_track, length, listener.taste_mask, uniforms)
    if kind == KIND_ALGORITHMIC:  # a personal mix: discoveries by affinity, some favourites
        draws = 2 * length + 4
        discovered = _draws(listener.pool, listener.discovery_cumulative, draws, uniforms)
        favourites = _draws(listener.library, listener.library_cumulative, draws, uniforms)
        mixed = np.where(uniforms.take(draws) < 0.3, favourites, discovered)
        tracks = _distinct(mixed.tolist(), length)
        return _Session(tracks, len(tracks), SOURCE_ALGORITHMIC, None)
    if kind in (KIND_SEARCH, KIND_OTHER):
        tracks = _distinct(
            _draws(listener.pool, listener.pool_cumulative, 2 * length + 4, uniforms).tolist(), length
        )
        return _Session(tracks, len(tracks), SOURCE_SEARCH if kind == KIND_SEARCH else SOURCE_OTHER, None)
    return _library_session(length, listener, uniforms)


def _exploration_session(
    world: _World, kind: int, genre: int, length: int, listener: _ListenerState, uniforms: _Uniforms
) -> _Session:
    """A session outside the listener's taste, around one other genre."""
    genre_artists = world.genre_artists[genre]
    genre_tracks = world.genre_tracks[genre]
    draws = 2 * length + 4
    if not len(genre_artists) or not len(genre_tracks) or kind == KIND_OTHER:
        tracks = _distinct(_draws(world.all_tracks, world.all_cumulative, draws, uniforms).tolist(), length)
        return _Session(tracks, len(tracks), SOURCE_OTHER, None)
    if kind in (KIND_ALBUM, KIND_ARTIST):
        artist = _draw_one(genre_artists, world.genre_artist_cumulative[genre], uniforms)
        if kind == KIND_ALBUM:
            return _album_session(world, artist, length, listener, SOURCE_SEARCH, uniforms)
        return _artist_session(world, artist, length, listener, uniforms)
    if kind == KIND_EDITORIAL and world.editorial_tracks:
        chosen = uniforms.below(len(world.editorial_tracks))
        ordered = _shuffled(world.editorial_tracks[chosen][: 4 * length], uniforms)
        return _with_autoplay(
            world, ordered, length, listener, SOURCE_EDITORIAL, world.editorial_uris[chosen], uniforms
        )
    if kind == KIND_RADIO:
        seed_track = _draw_one(genre_tracks, world.genre_cumulative[genre], uniforms)
        return _radio_session(world, seed_track, length, 1 << genre, uniforms)
    if kind == KIND_ALGORITHMIC:
        tracks = _distinct(
            _draws(genre_tracks, world.genre_discovery_cumulative[genre], draws, uniforms).tolist(), length
        )
        return _Session(tracks, len(tracks), SOURCE_ALGORITHMIC, None)
    tracks = _distinct(_draws(genre_tracks, world.genre_cumulative[genre], draws, uniforms).tolist(), length)
    return _Session(tracks, len(tracks), SOURCE_SEARCH, None)


def _new_release_session(
    world: _World, release: int, length: int, listener: _ListenerState, uniforms: _Uniforms
) -> _Session:
    """A new album played through (twice over when short), found through Release Radar, the
    artist's profile, search or the listener's library."""
    cat = world.catalogue
    album = int(world.release_albums[release])
    album_tracks: list[int] = cat.album_tracks[album].tolist()
    played = (album_tracks * 2)[: max(1, min(length, 2 * len(album_tracks)))]
    draw = uniforms.one()
    album_uri = f"spotify:album:{cat.album_ids[album]}"
    if draw < 0.4:
        source, context = SOURCE_ALGORITHMIC, None
    elif draw < 0.7:
        source, context = (
            SOURCE_ARTIST_PROFILE,
            f"spotify:artist:{cat.artist_ids[int(world.release_artists[release])]}",
        )
    elif draw < 0.85:
        source, context = SOURCE_SEARCH, album_uri
    else:
        source, context = SOURCE_USER_LIBRARY, album_uri
    return _with_autoplay(world, played, length, listener, source, context, uniforms)
