"""A judged relevance set over the offline catalogue, and the metrics that score a ranking
against it (data and pure functions: no engine is run here).

Every judged query carries graded relevance per search document key (`track:<id>`,
`artist:<id>`, `album:<id>`, `playlist:<id>`): 3 = exactly what was asked, 2 = clearly
relevant, 1 = partially relevant, unlisted = 0. The id-bearing entries are derived from the
catalogue by fixed rules and one seeded `random.Random`, so the set is the same on every run
and follows the catalogue if it is regenerated. The documents are built the way the search
subgraph builds them (`projection.item` then `catalogue_documents`): a track's genres are its
artists'.

Kinds of query:
- `exact`: a name as it is; 3 for every object of that name, 1 for their parts (an artist's
  albums and tracks, an album's tracks).
- `misspelling`: a distinctive name with typos inside Meilisearch's budget (words of 5 letters
  may carry one, of 9 two, shorter ones none; a transposition is one; never the first letter);
  3 for the intended object (`target`), 1 for its parts. `ambiguous_misspellings()` proves no
  other name is as close.
- `partial`: a distinctive name with its last word cut to its first half (at most 4 letters,
  so the prefix itself carries no typo); 3 for the target, 1 for its parts.
- `artist_title`: "artist track" for a track whose title other artists also use; 3 for the
  track, 1 for the artist and the artist's other tracks.
- `genre`: a genre phrase; 3 for the artists of that genre, 2 for its tracks and albums.
- `mood`: a phrase with no genre word in it, judged through `MOOD_GENRES` (and playlists
  through `MOOD_PLAYLISTS`, names through `MOOD_NAME_WORDS`).
- `nothing`: nonsense that no document should match; no grades.
"""

from __future__ import annotations

import functools
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, utils
from rapidfuzz.distance import OSA

from subgraphs.search.backends.base import Document, DocumentType
from subgraphs.search.documents import catalogue_documents
from subgraphs.search.matching import allowed_typos, words_of
from subgraphs.spotify.catalogue import projection
from subgraphs.spotify.catalogue.offline import KINDS, load_sample

K = 10
"""The cut-off of the metrics the set is read with."""
SEED = 1234
QUERY_KINDS = ("exact", "misspelling", "partial", "artist_title", "genre", "mood", "nothing")


@dataclass(frozen=True)
class Judged:
    query: str
    kind: str
    grades: dict[str, int]
    target: str | None = None


# --- the catalogue as the search subgraph indexes it ------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    documents: dict[str, Document]
    """By key, in catalogue order."""
    album_tracks: dict[str, tuple[str, ...]]
    """Album key -> its track keys, in track order."""

    def of_type(self, kind: str) -> list[Document]:
        """Documents of one type, sorted by id (the order every pick starts from)."""
        wanted = DocumentType(kind)
        return sorted((doc for doc in self.documents.values() if doc.type is wanted), key=_by_id)

    def by_artist(self, artist_id: str, *kinds: str) -> list[Document]:
        """The artist's albums and/or tracks, sorted by id."""
        wanted = {DocumentType(kind) for kind in kinds}
        return [doc for doc in self._made_by[artist_id] if doc.type in wanted]

    @functools.cached_property
    def _made_by(self) -> dict[str, list[Document]]:
        found: dict[str, list[Document]] = defaultdict(list)
        for doc in sorted(self.documents.values(), key=_by_id):
            if doc.type is not DocumentType.ARTIST:
                for artist_id in doc.artist_ids:
                    found[artist_id].append(doc)
        return found

    @functools.cached_property
    def terms(self) -> dict[str, tuple[str, ...]]:
        """Key -> the words of the document's name."""
        return {key: words_of(doc.name).terms for key, doc in self.documents.items()}

    @functools.cached_property
    def keys_by_name(self) -> dict[str, tuple[str, ...]]:
        """Normalised name -> the keys of every document of that name."""
        found: dict[str, list[str]] = defaultdict(list)
        for key, doc in self.documents.items():
            found[normalise(doc.name)].append(key)
        return {name: tuple(keys) for name, keys in found.items()}

    def unique_name(self, doc: Document) -> bool:
        return len(self.keys_by_name[normalise(doc.name)]) == 1


def _by_id(doc: Document) -> str:
    return doc.entity_id


def normalise(text: str) -> str:
    """A name as the engines see it: its lower-cased words."""
    return " ".join(words_of(text).terms)


@functools.cache
def catalogue() -> Catalogue:
    sample = load_sample()
    genres = {artist["id"]: artist.get("genres") or [] for artist in sample["artists"]}
    documents: dict[str, Document] = {}
    for kind in KINDS:
        items: list[Mapping[str, Any]] = [projection.item(kind, obj, genres) for obj in sample[f"{kind}s"]]
        documents.update((doc.key, doc) for doc in catalogue_documents(kind, items))
    album_tracks = {
        f"album:{album['id']}": tuple(f"track:{track_id}" for track_id in album["track_ids"])
        for album in sample["albums"]
    }
    return Catalogue(documents, album_tracks)


# --- mood -> genres: the judgement a reviewer should check ------------------------------------

CORE, NEIGHBOUR = 2, 1
MOOD_GENRES: dict[str, dict[str, int]] = {
    "melancholy rainy night": {
        "ambient": 2,
        "trip hop": 2,
        "lo-fi beats": 2,
        "dream pop": 2,
        "shoegaze": 2,
        "chamber pop": 1,
        "bedroom pop": 1,
    },
    "songs for a sunny beach party": {
        "reggaeton": 2,
        "afrobeats": 2,
        "amapiano": 2,
        "deep house": 1,
        "bossa nova": 1,
    },
    "music to focus while studying": {"lo-fi beats": 2, "ambient": 2, "trip hop": 1, "jazz fusion": 1},
    "aggressive guitar noise": {"grunge": 2, "post-punk": 2, "alt rock": 2, "shoegaze": 2},
    "latin dance floor": {"reggaeton": 2, "bossa nova": 1},
    "chilled electronic rhythms": {
        "lo-fi beats": 2,
        "trip hop": 2,
        "deep house": 2,
        "ambient": 1,
        "synthwave": 1,
    },
    "soulful late night grooves": {"neo soul": 2, "jazz fusion": 1, "trip hop": 1, "deep house": 1},
    "brazilian lounge": {"bossa nova": 2, "jazz fusion": 1},
    "distorted 90s guitars": {"grunge": 2, "alt rock": 2, "shoegaze": 2, "post-punk": 1},
    "african dance music": {"afrobeats": 2, "amapiano": 2},
    "late night city drive": {"synthwave": 2, "deep house": 1, "trip hop": 1},
    "warehouse rave": {"deep house": 2, "drum and bass": 2, "uk garage": 2},
    "sunday morning coffee": {"bossa nova": 2, "folk": 2, "jazz fusion": 1, "chamber pop": 1},
    "glitchy maximalist internet music": {"hyperpop": 2, "bedroom pop": 1},
}
"""Mood phrase -> genre -> CORE (2: the genre is what the phrase describes) or NEIGHBOUR (1: close
to it). See `mood_grade` for how a document's genres (its artists', for tracks and albums)
become its grade; artists are graded like their tracks."""

MOOD_NAME_WORDS: dict[str, frozenset[str]] = {
    "melancholy rainy night": frozenset({"rain", "night"}),
    "songs for a sunny beach party": frozenset({"summer", "ocean", "paradise"}),
    "late night city drive": frozenset({"night", "drive"}),
}
"""Name words that literally evoke a mood: a document of a grade-2 genre whose name holds two
of them (e.g. an ambient track called "Rain Night") is exactly what was asked, grade 3."""

MOOD_PLAYLISTS: dict[str, dict[str, int]] = {
    "melancholy rainy night": {"Rainy Window": 2, "Late Night Drive": 1},
    "music to focus while studying": {"Focus Flow": 2, "Deep Focus": 2},
    "soulful late night grooves": {"Late Night Drive": 1},
    "late night city drive": {"Late Night Drive": 3},
    "warehouse rave": {"Warehouse Hours": 2},
    "sunday morning coffee": {"Coffeehouse": 2, "Sunday Slow": 2},
}
"""The sample playlists carry no genres; these are judged by what their names promise."""

GENRE_QUERIES: dict[str, str] = {
    "dream pop": "dream pop",
    "deep house tracks": "deep house",
    "bossa nova": "bossa nova",
    "shoegaze": "shoegaze",
    "drum and bass": "drum and bass",
    "uk garage": "uk garage",
    "post punk bands": "post-punk",
    "lo-fi beats": "lo-fi beats",
    "neo soul": "neo soul",
    "amapiano songs": "amapiano",
    "synthwave": "synthwave",
    "jazz fusion albums": "jazz fusion",
}
"""Genre phrase as typed -> the catalogue genre it names (only that genre is judged relevant)."""

NOTHING_QUERIES: tuple[str, ...] = (
    "qwxzv plorgh",
    "zzzzzzzz",
    "xqjv",
    "bnmkjh",
    "pfftzt wqrrk",
    "grblx vwmp",
    "yxyxyx",
)

# How many of each kind are picked from the catalogue, per document type.
EXACT_PICKS = {"track": 4, "album": 3, "artist": 3, "playlist": 2}
MISSPELLING_PICKS = {"track": 8, "album": 2, "artist": 2, "playlist": 2}
PARTIAL_PICKS = {"track": 5, "album": 2, "artist": 1, "playlist": 1}
ARTIST_TITLE_PICKS = 9


# --- typos -------------------------------------------------------------------------------------

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def keyboard_neighbours(letter: str) -> str:
    """The keys left and right of `letter` on a QWERTY keyboard."""
    for row in _KEYBOARD_ROWS:
        at = row.find(letter)
        if at >= 0:
            return row[max(at - 1, 0) : at] + row[at + 1 : at + 2]
    return ""


def one_typo(word: str, rng: random.Random) -> str:
    """`word` with one realistic slip, never on its first letter: two adjacent letters swapped,
    a letter dropped, a letter doubled, or a letter replaced by a keyboard neighbour."""
    while True:
        operation = rng.choice(("swap", "drop", "double", "neighbour"))
        if operation == "swap" and len(word) >= 3:
            at = rng.randrange(1, len(word) - 1)
            if word[at] != word[at + 1]:
                return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        elif operation == "drop" and len(word) >= 2:
            at = rng.randrange(1, len(word))
            return word[:at] + word[at + 1 :]
        elif operation == "double" and len(word) >= 2:
            at = rng.randrange(1, len(word))
            return word[: at + 1] + word[at:]
        elif operation == "neighbour" and len(word) >= 2:
            at = rng.randrange(1, len(word))
            choices = keyboard_neighbours(word[at])
            if choices:
                return word[:at] + rng.choice(choices) + word[at + 1 :]


def within_budget(typed: str, meant: str) -> bool:
    """One word's typos are ones Meilisearch forgives: at most what both the typed and the meant
    word's length allow (a transposition counts once), and the first letter is right."""
    typos = OSA.distance(typed, meant)
    return typed[:1] == meant[:1] and typos <= min(allowed_typos(typed), allowed_typos(meant))


def misspell(name: str, rng: random.Random) -> str:
    """`name`, lower-cased, with one or two of its long words mistyped within the budget."""
    words = list(words_of(name).terms)
    eligible = [index for index, word in enumerate(words) if allowed_typos(word)]
    if not eligible:
        raise ValueError(f"{name!r} has no word long enough for a typo")
    count = 2 if len(eligible) >= 2 and rng.random() < 0.4 else 1
    for index in sorted(rng.sample(eligible, count)):
        meant = words[index]
        edits = 2 if allowed_typos(meant) == 2 and rng.random() < 0.5 else 1
        for _ in range(100):
            typed = meant
            for _ in range(edits):
                typed = one_typo(typed, rng)
            if typed != meant and within_budget(typed, meant):
                words[index] = typed
                break
        else:  # every word of 5 letters has a forgivable slip: never reached
            raise ValueError(f"no typo of {meant!r} within the budget")
    return " ".join(words)


def _closeness(query: str, name: str) -> tuple[float, float]:
    """How close a typed query is to a name, as a whole and regardless of word order (the engines
    match words in any order)."""
    return (
        fuzz.ratio(query, name, processor=utils.default_process),
        fuzz.token_sort_ratio(query, name, processor=utils.default_process),
    )


def rivals(query: str, target: str) -> list[str]:
    """Keys of the documents other than `target` whose name is at least as close to `query` as
    the target's, by either measure."""
    docs = catalogue().documents
    wanted = _closeness(query, docs[target].name)
    found: list[str] = []
    for name, keys in catalogue().keys_by_name.items():
        others = [key for key in keys if key != target]
        if others and any(score >= bar for score, bar in zip(_closeness(query, name), wanted, strict=True)):
            found.extend(others)
    return found


def ambiguous_misspellings() -> list[tuple[str, list[str]]]:
    """Misspellings another name matches as well as (or better than) their target: (query,
    rival keys). Empty for a sound set."""
    offenders: list[tuple[str, list[str]]] = []
    for judged in JUDGED_QUERIES:
        if judged.kind == "misspelling" and judged.target is not None:
            found = rivals(judged.query, judged.target)
            if found:
                offenders.append((judged.query, found))
    return offenders


# --- partial names -----------------------------------------------------------------------------


def cut_last_word(name: str) -> str:
    """The name with its last word cut to its first half (2 to 4 letters)."""
    words = name.split()
    last = words[-1]
    return " ".join([*words[:-1], last[: max(2, min(4, (len(last) + 1) // 2))]])


def completes(name: Sequence[str], partial: str) -> bool:
    """Whether a name (its words) holds the partial query's whole words and, besides them, a word
    that starts with its last (cut) one, in any order."""
    *whole, prefix = words_of(partial).terms
    left = Counter(name)
    needed = Counter(whole)
    if any(left[word] < count for word, count in needed.items()):
        return False
    left.subtract(needed)
    return any(word.startswith(prefix) for word in left.elements())


def completions(partial: str) -> list[str]:
    """The documents whose name the partial query could be the beginning of."""
    return [key for key, terms in catalogue().terms.items() if completes(terms, partial)]


# --- building the set --------------------------------------------------------------------------


def parts_of(key: str) -> list[str]:
    """What a name query for `key` also partly asks for: an artist's albums and tracks, an
    album's tracks (graded 1)."""
    cat = catalogue()
    doc = cat.documents[key]
    if doc.type is DocumentType.ARTIST:
        return [item.key for item in cat.by_artist(doc.entity_id, "album", "track")]
    if doc.type is DocumentType.ALBUM:
        return list(cat.album_tracks[key])
    return []


def named_grades(target: str) -> dict[str, int]:
    """3 for the target, 1 for its parts."""
    return {target: 3} | dict.fromkeys((part for part in parts_of(target) if part != target), 1)


def _exact(rng: random.Random, used: set[str]) -> Iterator[Judged]:
    """Per type, names of two words or more; for tracks, half of them names that two to four
    documents share (every one of them is what was asked)."""
    cat = catalogue()
    for kind, count in EXACT_PICKS.items():
        candidates = [
            doc
            for doc in cat.of_type(kind)
            if doc.key not in used and (kind in ("artist", "playlist") or len(doc.name.split()) >= 2)
        ]
        picks = rng.sample(candidates, count)
        if kind == "track":
            shared = [doc for doc in candidates if 2 <= len(cat.keys_by_name[normalise(doc.name)]) <= 4]
            picks = rng.sample(shared, count // 2) + rng.sample(candidates, count - count // 2)
        for doc in picks:
            if doc.key in used:
                continue
            grades = dict.fromkeys(cat.keys_by_name[normalise(doc.name)], 3)
            for key in cat.keys_by_name[normalise(doc.name)]:
                for part in parts_of(key):
                    grades.setdefault(part, 1)
            used.update(key for key, grade in grades.items() if grade == 3)
            yield Judged(doc.name, "exact", grades, doc.key)


def _misspellings(rng: random.Random, used: set[str]) -> Iterator[Judged]:
    cat = catalogue()
    for kind, count in MISSPELLING_PICKS.items():
        candidates = [
            doc
            for doc in cat.of_type(kind)
            if doc.key not in used
            and cat.unique_name(doc)
            and any(allowed_typos(word) for word in words_of(doc.name).terms)
            and (kind != "track" or len(doc.name.split()) >= 2)
        ]
        rng.shuffle(candidates)
        picked = 0
        for doc in candidates:
            query = misspell(doc.name, rng)
            if query == normalise(doc.name) or rivals(query, doc.key):
                continue
            used.add(doc.key)
            yield Judged(query, "misspelling", named_grades(doc.key), doc.key)
            picked += 1
            if picked == count:
                break


def _partials(rng: random.Random, used: set[str]) -> Iterator[Judged]:
    cat = catalogue()
    for kind, count in PARTIAL_PICKS.items():
        candidates = [
            doc
            for doc in cat.of_type(kind)
            if doc.key not in used and len(doc.name.split()) >= 2 and len(doc.name.split()[-1]) >= 3
        ]
        rng.shuffle(candidates)
        picked = 0
        for doc in candidates:
            query = cut_last_word(doc.name)
            if completions(query) != [doc.key]:
                continue
            used.add(doc.key)
            yield Judged(query, "partial", named_grades(doc.key), doc.key)
            picked += 1
            if picked == count:
                break


def _artist_titles(rng: random.Random, used: set[str]) -> Iterator[Judged]:
    """Tracks whose title other artists' tracks share: the artist's words are what tell them apart."""
    cat = catalogue()
    artists_by_title: dict[str, set[str]] = defaultdict(set)
    for track in cat.of_type("track"):
        artists_by_title[normalise(track.name)].update(track.artist_ids)
    candidates = [
        track
        for track in cat.of_type("track")
        if track.key not in used
        and len(track.artist_ids) == 1
        and len(artists_by_title[normalise(track.name)]) >= 2
        and len(cat.by_artist(track.artist_ids[0], "track")) >= 3
    ]
    picked_artists: set[str] = set()
    rng.shuffle(candidates)
    for track in candidates:
        artist_id = track.artist_ids[0]
        if artist_id in picked_artists:
            continue
        picked_artists.add(artist_id)
        artist = cat.documents[f"artist:{artist_id}"]
        grades = {artist.key: 1}
        for other in cat.by_artist(artist_id, "track"):
            grades[other.key] = 3 if normalise(other.name) == normalise(track.name) else 1
        used.add(track.key)
        yield Judged(normalise(f"{artist.name} {track.name}"), "artist_title", grades, track.key)
        if len(picked_artists) == ARTIST_TITLE_PICKS:
            break


def _genres() -> Iterator[Judged]:
    for query, genre in GENRE_QUERIES.items():
        grades = {
            doc.key: 3 if doc.type is DocumentType.ARTIST else 2
            for doc in catalogue().documents.values()
            if genre in doc.genres
        }
        yield Judged(query, "genre", grades)


def mood_grade(mood: str, doc: Document) -> int:
    """2 when every genre of the document fits the mood and one is core; 1 when a core genre sits
    among unrelated ones, or when all fit but only as neighbours; 0 otherwise (a neighbour among
    unrelated genres says too little). Artists carry up to three genres, often far apart
    ("amapiano, jazz fusion, reggaeton"): a mixed one is only partly what a mood asks for. A
    document with a core genre whose name holds two of the mood's `MOOD_NAME_WORDS` is 3 (an
    ambient artist's "Rain Night"); a playlist is graded by `MOOD_PLAYLISTS`."""
    if doc.type is DocumentType.PLAYLIST:
        return MOOD_PLAYLISTS.get(mood, {}).get(doc.name, 0)
    fits = [MOOD_GENRES[mood].get(genre, 0) for genre in doc.genres]
    if not fits or max(fits) == 0:
        return 0
    evoking = MOOD_NAME_WORDS.get(mood, frozenset())
    if max(fits) == CORE and len(evoking.intersection(words_of(doc.name).terms)) >= 2:
        return 3
    if min(fits) == 0:
        return NEIGHBOUR if max(fits) == CORE else 0
    return CORE if max(fits) == CORE else NEIGHBOUR


def mood_grades(mood: str) -> dict[str, int]:
    grades = {key: mood_grade(mood, doc) for key, doc in catalogue().documents.items()}
    return {key: grade for key, grade in grades.items() if grade}


def _moods() -> Iterator[Judged]:
    for mood in MOOD_GENRES:
        yield Judged(mood, "mood", mood_grades(mood))


def _nothing() -> Iterator[Judged]:
    for query in NOTHING_QUERIES:
        yield Judged(query, "nothing", {})


@functools.cache
def judged_queries() -> tuple[Judged, ...]:
    rng = random.Random(SEED)
    used: set[str] = set()
    judged = (
        *_exact(rng, used),
        *_misspellings(rng, used),
        *_partials(rng, used),
        *_artist_titles(rng, used),
        *_genres(),
        *_moods(),
        *_nothing(),
    )
    seen = Counter(normalise(item.query) for item in judged)
    repeated = [query for query, count in seen.items() if count > 1]
    if repeated:
        raise ValueError(f"judged queries repeat: {repeated}")
    return judged


JUDGED_QUERIES: tuple[Judged, ...] = judged_queries()


# --- metrics -----------------------------------------------------------------------------------


def _first_k(ranked: Sequence[str], k: int) -> list[str | None]:
    """The top `k` ranks; a key returned again takes its rank but counts once (None)."""
    seen: set[str] = set()
    top: list[str | None] = []
    for key in ranked[:k]:
        top.append(None if key in seen else key)
        seen.add(key)
    return top


def ndcg_at(ranked: Sequence[str], grades: Mapping[str, int], k: int = K) -> float:
    """NDCG@k with exponential gain (2^grade - 1) and a log2(rank + 1) discount. A query with no
    relevant document scores 1.0 for an empty answer and 0.0 for any other."""
    positive = sorted((grade for grade in grades.values() if grade > 0), reverse=True)
    top = _first_k(ranked, k)
    if not positive:
        return 0.0 if top else 1.0
    dcg = sum(
        (2 ** grades.get(key, 0) - 1) / math.log2(rank + 2) for rank, key in enumerate(top) if key is not None
    )
    ideal = sum((2**grade - 1) / math.log2(rank + 2) for rank, grade in enumerate(positive[:k]))
    return dcg / ideal


def recall_at(ranked: Sequence[str], grades: Mapping[str, int], k: int = K) -> float:
    """Capped recall@k: the relevant documents (grade >= 1) in the top k, over min(k, #relevant).

    With at most k relevant documents this is plain recall; with more (a genre or a mood judges
    hundreds of tracks) it is the share of the top k that is relevant, so a perfect answer scores
    1.0 instead of k/#relevant. A query with no relevant document scores like `ndcg_at`."""
    relevant = {key for key, grade in grades.items() if grade > 0}
    top = _first_k(ranked, k)
    if not relevant:
        return 0.0 if top else 1.0
    return sum(key in relevant for key in top if key is not None) / min(k, len(relevant))


def rank_of(ranked: Sequence[str], key: str) -> int | None:
    """The 1-based rank of `key`, or None when it is not in the ranking."""
    for rank, found in enumerate(ranked, start=1):
        if found == key:
            return rank
    return None


def summarise(results: Mapping[str, Sequence[str]]) -> dict[str, dict[str, float]]:
    """Mean NDCG@10 and capped recall@10 per kind of query, and over all the queries given
    ("overall", every query weighing the same), from query -> ranked keys. Each entry also
    counts its queries. A query outside the judged set is an error."""
    by_query = {judged.query: judged for judged in JUDGED_QUERIES}
    scores: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for query, ranked in results.items():
        judged = by_query.get(query)
        if judged is None:
            raise KeyError(f"not a judged query: {query!r}")
        score = (ndcg_at(ranked, judged.grades), recall_at(ranked, judged.grades))
        scores[judged.kind].append(score)
        scores["overall"].append(score)
    order = [*(kind for kind in QUERY_KINDS if kind in scores), *(["overall"] if scores else [])]
    return {
        kind: {
            "ndcg@10": sum(ndcg for ndcg, _ in scores[kind]) / len(scores[kind]),
            "recall@10": sum(recall for _, recall in scores[kind]) / len(scores[kind]),
            "queries": float(len(scores[kind])),
        }
        for kind in order
    }
