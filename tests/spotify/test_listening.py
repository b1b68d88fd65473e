"""Synthetic listening over the offline catalogue: deterministic, streamed in time order, and
realistic where an offline recommender evaluation needs it (taste, popularity, personal
favourites, sessions, repeats, time patterns, release spikes, skips, playlists)."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta
from statistics import mean

import pytest

from subgraphs.spotify.data.listening import (
    DEFAULT_END,
    DEVICES,
    PLAYLIST_ID_PREFIX,
    SOURCES,
    Listening,
    SyntheticPlay,
    generate_listening,
    holdout_split,
    iter_plays,
    load_catalogue,
    track_genres,
)

CATALOGUE = load_catalogue()
TRACKS = {track["id"]: track for track in CATALOGUE["tracks"]}
GENRES_OF_TRACK = track_genres()
SAMPLE_PLAYLIST_URIS = {f"spotify:playlist:{p['id']}" for p in CATALOGUE["playlists"]}
MARKETS = {
    "US",
    "GB",
    "DE",
    "FR",
    "ES",
    "SE",
    "NO",
    "BR",
    "MX",
    "JP",
    "AU",
    "CA",
    "NL",
    "IT",
    "GH",
    "NG",
    "ZA",
    "IN",
}
ALL_GENRES = {genre for artist in CATALOGUE["artists"] for genre in artist["genres"]}


def small(seed: int = 11) -> Listening:
    return generate_listening(listeners=40, days=21, seed=seed)


@pytest.fixture(scope="module")
def listening() -> Listening:
    """The default run: 300 listeners, 90 days, about 160k plays."""
    return generate_listening()


@pytest.fixture(scope="module")
def plays_by_user(listening: Listening) -> dict[str, list[SyntheticPlay]]:
    by_user: dict[str, list[SyntheticPlay]] = defaultdict(list)
    for play in listening.plays:
        by_user[play.user_id].append(play)
    return by_user


def test_same_seed_same_output_and_another_seed_differs() -> None:
    first, again = small(), small()
    assert first.plays == again.plays
    assert first.listeners == again.listeners
    assert first.playlists == again.playlists
    assert first.releases == again.releases
    other = small(seed=12)
    assert [(p.user_id, p.track_id) for p in other.plays[:200]] != [
        (p.user_id, p.track_id) for p in first.plays[:200]
    ]
    assert [listener.taste for listener in other.listeners] != [
        listener.taste for listener in first.listeners
    ]


def test_iter_plays_streams_exactly_the_plays_of_generate_listening() -> None:
    stream = iter_plays(listeners=40, days=21, seed=11)
    assert not isinstance(stream, list)
    assert list(stream) == small().plays


def test_ids_volume_and_window(listening: Listening) -> None:
    assert [listener.id for listener in listening.listeners[:2]] == ["listener-0001", "listener-0002"]
    assert len({listener.id for listener in listening.listeners}) == 300
    assert listening.end == DEFAULT_END and listening.start == DEFAULT_END - timedelta(days=90)
    assert 130_000 < len(listening.plays) < 195_000  # 300 listeners x 90 days x ~6 plays
    times = [play.played_at for play in listening.plays]
    assert all(a <= b for a, b in itertools.pairwise(times))
    assert listening.start <= times[0] and times[-1] < listening.end
    assert all(play.played_at.utcoffset() == timedelta(0) for play in listening.plays[:100])


def test_plays_are_well_formed(listening: Listening) -> None:
    listeners = {listener.id: listener for listener in listening.listeners}
    first = listening.plays[0]  # built through the slots, equal to one built through __init__
    assert replace(first) == first and hash(replace(first)) == hash(first)
    for play in listening.plays:
        assert 0 < play.ms_played <= TRACKS[play.track_id]["duration_ms"]
        assert play.skipped == (play.ms_played < 30_000)
        assert play.device in DEVICES and play.source in SOURCES
        assert (play.country, play.city) == (listeners[play.user_id].country, listeners[play.user_id].city)
    assert {listener.country for listener in listening.listeners} <= MARKETS
    countries = Counter(listener.country for listener in listening.listeners)
    assert countries.most_common(1)[0][0] == "US" and len(countries) >= 12
    devices = Counter(play.device for play in listening.plays)
    assert devices.most_common(1)[0][0] == "mobile" and set(devices) == set(DEVICES)


def test_a_listener_plays_one_thing_at_a_time(plays_by_user: dict[str, list[SyntheticPlay]]) -> None:
    for plays in plays_by_user.values():
        for play, following in itertools.pairwise(plays):
            assert play.played_at + timedelta(milliseconds=play.ms_played) <= following.played_at


def test_skip_share_and_who_skips(listening: Listening) -> None:
    skipped = [play.skipped for play in listening.plays]
    assert 0.18 <= mean(skipped) <= 0.27
    libraries = {listener.id: set(listener.library_track_ids) for listener in listening.listeners}
    tastes = {listener.id: set(listener.taste) for listener in listening.listeners}
    favourite = [p.skipped for p in listening.plays if p.track_id in libraries[p.user_id]]
    exploring = [p.skipped for p in listening.plays if not GENRES_OF_TRACK[p.track_id] & tastes[p.user_id]]
    assert mean(exploring) > 2 * mean(favourite)


def test_taste_concentration(listening: Listening, plays_by_user: dict[str, list[SyntheticPlay]]) -> None:
    tastes = {listener.id: set(listener.taste) for listener in listening.listeners}
    assert all(1 <= len(taste) <= 3 for taste in tastes.values())
    shares = {
        user: mean(bool(GENRES_OF_TRACK[p.track_id] & tastes[user]) for p in plays)
        for user, plays in plays_by_user.items()
        if len(plays) >= 50
    }
    overall = mean(bool(GENRES_OF_TRACK[p.track_id] & tastes[p.user_id]) for p in listening.plays)
    assert 0.75 <= overall <= 0.92  # mostly taste, and some real exploration
    assert mean(share >= 0.70 for share in shares.values()) >= 0.85
    # Genres are skewed: the most common main genre is far more common than the typical one.
    main_genres = Counter(listener.taste[0] for listener in listening.listeners)
    counts = sorted(main_genres.get(genre, 0) for genre in ALL_GENRES)
    assert counts[-1] >= 4 * counts[len(counts) // 2]


def test_popularity_skew(listening: Listening) -> None:
    plays = Counter(play.track_id for play in listening.plays)
    by_popularity = sorted(TRACKS, key=lambda t: (-TRACKS[t]["popularity"], t))
    tenth, half = len(by_popularity) // 10, len(by_popularity) // 2
    top = sum(plays[t] for t in by_popularity[:tenth]) / len(listening.plays)
    bottom = sum(plays[t] for t in by_popularity[half:]) / len(listening.plays)
    assert top >= 2.5 * bottom  # a tenth of the tracks, well over twice the plays of half of them
    assert len(plays) >= 0.8 * len(TRACKS)  # and a long tail is still played


def test_repeat_listening(listening: Listening) -> None:
    seen: set[tuple[str, str]] = set()
    repeats = 0
    for play in listening.plays:
        key = (play.user_id, play.track_id)
        repeats += key in seen
        seen.add(key)
    assert 0.2 < repeats / len(listening.plays) < 0.9


def test_weekly_and_daily_seasonality(listening: Listening) -> None:
    first, last = listening.start.date() + timedelta(days=1), listening.end.date() - timedelta(days=2)
    per_date: Counter[date] = Counter()
    hours: Counter[int] = Counter()
    offsets = {listener.id: timedelta(hours=listener.utc_offset_hours) for listener in listening.listeners}
    for play in listening.plays:
        moment = play.played_at + offsets[play.user_id]
        hours[moment.hour] += 1
        if first <= moment.date() <= last:
            per_date[moment.date()] += 1
    by_weekday: dict[int, list[int]] = defaultdict(list)
    for day, count in per_date.items():
        by_weekday[day.weekday()].append(count)
    weekday_mean = {weekday: mean(counts) for weekday, counts in by_weekday.items()}
    assert max(weekday_mean.values()) >= 1.10 * min(weekday_mean.values())
    assert weekday_mean[4] > 1.05 * weekday_mean[1]  # Friday above Tuesday
    evening = sum(hours[h] for h in range(18, 23))
    night = sum(hours[h] for h in range(1, 6))
    assert evening > 5 * night


def test_new_releases_spike_then_decay(listening: Listening) -> None:
    assert len(listening.releases) >= 10  # about one a week
    early, late = 0.0, 0.0
    for release in listening.releases:
        tracks = set(release.track_ids)
        times = [p.played_at for p in listening.plays if p.track_id in tracks]
        # Live at local midnight: listeners east of UTC start up to 11 h before it in UTC.
        assert all(t >= release.released_at - timedelta(hours=12) for t in times)
        days_after = (listening.end - release.released_at).days
        if days_after < 14:
            continue
        launch_end = release.released_at + timedelta(days=3)
        early += sum(t < launch_end for t in times) / 3
        late += sum(t >= launch_end for t in times) / (days_after - 3)
    assert early > 4 * late > 0


def test_listeners_sharing_a_taste_share_tracks(
    listening: Listening, plays_by_user: dict[str, list[SyntheticPlay]]
) -> None:
    played = {user: {p.track_id for p in plays} for user, plays in plays_by_user.items()}
    same, disjoint = [], []
    for a, b in itertools.combinations(listening.listeners, 2):
        if a.id not in played or b.id not in played:
            continue
        jaccard = len(played[a.id] & played[b.id]) / len(played[a.id] | played[b.id])
        if set(a.taste) == set(b.taste):
            same.append(jaccard)
        elif not set(a.taste) & set(b.taste):
            disjoint.append(jaccard)
    assert len(same) >= 20
    assert mean(same) > 2 * mean(disjoint)


def test_favourites_are_personal_beyond_popularity(listening: Listening) -> None:
    """Listeners of one taste share favourite artists more than chance, yet not all the same:
    the signal collaborative filtering should find on top of popularity."""
    groups: dict[tuple[str, ...], list[set[str]]] = defaultdict(list)
    for listener in listening.listeners:
        groups[tuple(sorted(listener.taste))].append(set(listener.favourite_artist_ids))
    overlaps = [
        len(a & b) / len(a | b)
        for favourites in groups.values()
        for a, b in itertools.combinations(favourites, 2)
    ]
    assert 0.05 < mean(overlaps) < 0.6


def test_sessions_and_sources_match_contexts(
    listening: Listening, plays_by_user: dict[str, list[SyntheticPlay]]
) -> None:
    owned = defaultdict(set)
    for playlist in listening.playlists:
        owned[playlist.owner_id].add(playlist.uri)
    sizes = []
    for plays in plays_by_user.values():
        size = 1
        for play, following in itertools.pairwise(plays):
            if following.played_at - play.played_at < timedelta(minutes=12):
                size += 1
            else:
                sizes.append(size)
                size = 1
        sizes.append(size)
    assert 4 <= mean(sizes) <= 14
    for play in listening.plays:
        context = play.context
        if play.source in ("radio", "other"):
            assert context is None
        elif play.source == "editorial_playlist":
            assert context in SAMPLE_PLAYLIST_URIS
        elif play.source == "user_playlist":
            assert context in owned[play.user_id]
        elif play.source == "other_playlist":
            assert context and context.startswith(f"spotify:playlist:{PLAYLIST_ID_PREFIX}")
            assert context not in owned[play.user_id]
        elif play.source == "artist_profile":
            assert context and context.startswith("spotify:artist:")
    sources = Counter(play.source for play in listening.plays)
    assert set(sources) == set(SOURCES)
    # An album session mostly plays that album.
    album_plays = [p for p in listening.plays if p.context and p.context.startswith("spotify:album:")]
    assert mean(p.context == f"spotify:album:{TRACKS[p.track_id]['album']['id']}" for p in album_plays) > 0.95


def test_playlists_are_coherent_with_their_owner(listening: Listening) -> None:
    tastes = {listener.id: set(listener.taste) for listener in listening.listeners}
    assert 100 <= len(listening.playlists) <= 220  # about half a playlist per listener
    for playlist in listening.playlists:
        assert playlist.id.startswith(PLAYLIST_ID_PREFIX)
        assert 15 <= len(playlist.track_ids) <= 60 and len(set(playlist.track_ids)) == len(playlist.track_ids)
        assert listening.start <= playlist.created_at < listening.end
        in_taste = mean(bool(GENRES_OF_TRACK[t] & tastes[playlist.owner_id]) for t in playlist.track_ids)
        assert in_taste >= 0.9
        assert playlist.owner_id not in playlist.follower_ids
    assert len({p.id for p in listening.playlists}) == len(listening.playlists)


def test_holdout_split(listening: Listening) -> None:
    split = holdout_split(listening)
    assert len(split.train_plays) + len(split.test_plays) == len(listening.plays)
    last_train: dict[str, datetime] = {}
    for play in split.train_plays:
        last_train[play.user_id] = play.played_at
    assert all(play.played_at >= last_train[play.user_id] for play in split.test_plays)
    assert 0.18 < len(split.test_plays) / len(listening.plays) < 0.22
    for playlist in listening.playlists:
        visible, hidden = split.playlist_visible[playlist.id], split.playlist_hidden[playlist.id]
        assert set(visible) | set(hidden) == set(playlist.track_ids) and not set(visible) & set(hidden)
        assert round(0.2 * len(playlist.track_ids)) == len(hidden)


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        generate_listening(listeners=0)
    with pytest.raises(ValueError):
        generate_listening(end=datetime(2026, 1, 1))  # naive
