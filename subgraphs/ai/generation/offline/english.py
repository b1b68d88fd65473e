"""The English phrasebook."""

from __future__ import annotations

from subgraphs.ai.generation.base import (
    Language,
    Tone,
)
from subgraphs.ai.generation.offline.phrasebook import MAX_LISTED, PL, B, P, Phrasebook, W
from subgraphs.ai.generation.offline.subject import PartialDate, Subject


class English(Phrasebook):
    language = Language.EN
    months = (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    )  # fmt: skip
    conjunction = "and"
    quotes = ("“", "”")
    thousands = ","
    fallback_genre = "the music"
    verse, chorus = "[Verse]", "[Chorus]"

    def date(self, d: PartialDate) -> str:
        if d.month and d.day:
            return f"{d.day} {self.months[d.month - 1]} {d.year}"
        if d.month:
            return f"{self.months[d.month - 1]} {d.year}"
        return str(d.year)

    def when(self, d: PartialDate) -> str:
        return f"on {self.date(d)}" if d.day else f"in {self.date(d)}"

    def tracks_count(self, n: int) -> str:
        return f"{self.number(n)} track" + ("" if n == 1 else "s")

    def intro(self, s: Subject, tone: Tone) -> str:
        q = self.label(s)
        by = f" by {self.join(list(s.artists[:MAX_LISTED]))}" if s.artists else ""
        released = f", released {self.when(s.released)}" if s.released else ""
        if s.type == "artist" and s.genres:
            return {
                W: "{name} makes heartfelt music rooted in {genres}.",
                P: "{name} is an artist working in {genres}.",
                PL: "{name} is here to get you moving to {genres}.",
                B: "{name} plays {genres} with conviction and no compromise.",
            }[tone].format(name=s.name, genres=self.genre_list(s))
        if s.type == "artist":
            return {
                W: "{name} makes music that is meant to be felt.",
                P: "{name} is a recording artist.",
                PL: "Say hello to {name}.",
                B: "{name} is an artist with something to say.",
            }[tone].format(name=s.name)
        if s.type == "track":
            album = f" from the album {self.quote(s.album)}" if s.album else ""
            return f"{q} is a track{by}{album}{released}."
        if s.type == "album":
            count = f", with {self.tracks_count(s.total_tracks)}" if s.total_tracks else ""
            return f"{q} is an album{by}{released}{count}."
        if s.type == "playlist":
            return f"{q} is a playlist" + (f" curated by {s.owner}." if s.owner else ".")
        return f"{q} is a project" + (f" ({s.project_type})." if s.project_type else ".")

    def sound(self, s: Subject, tone: Tone) -> str | None:
        if not s.genres or s.type == "artist":
            return None
        return {
            W: "It carries the warmth of {genres}.",
            P: "Its sound is rooted in {genres}.",
            PL: "Expect a generous helping of {genres}.",
            B: "It delivers {genres} at full strength.",
        }[tone].format(genres=self.genre_list(s))

    def top_tracks(self, s: Subject, tone: Tone) -> str | None:
        if not s.top_tracks:
            return None
        return {
            W: "Listeners keep coming back to {tracks}.",
            P: "{name}'s most popular tracks include {tracks}.",
            PL: "Start with {tracks} and you will see why.",
            B: "To hear what {name} is capable of, listen to {tracks}.",
        }[tone].format(name=s.name, tracks=self.works_list(s.top_tracks))

    def albums(self, s: Subject) -> list[str]:
        if not s.albums:
            return []
        first, others = s.albums[0], s.albums[1:]
        if not first.released and not first.total_tracks:
            return [f"The discography includes {self.works_list(s.albums)}."]
        detail = f"{self.quote(first.name)} was released"
        detail += f" {self.when(first.released)}" if first.released else ""
        detail += f" with {self.tracks_count(first.total_tracks)}" if first.total_tracks else ""
        sentences = [detail + "."]
        if others:
            sentences.append(f"The discography also includes {self.works_list(others)}.")
        return sentences

    def tracklist(self, s: Subject) -> str | None:
        if not s.tracks:
            return None
        if s.type == "playlist":
            items = [
                self.quote(t.name) + (f" by {self.join(list(t.artists[:2]))}" if t.artists else "")
                for t in s.tracks[:MAX_LISTED]
            ]
            return f"It features {self.join(items)}."
        return f"The tracklist includes {self.titles(s.tracks)}."

    def description(self, s: Subject) -> str | None:
        return self.sentence_with_quote("Its description reads: ", s.description) if s.description else None

    def audience(self, s: Subject) -> str | None:
        followers = s.followers if s.type == "artist" else None
        fans = f"{self.number(followers)} follower" + ("" if followers == 1 else "s") if followers else ""
        score = f"a popularity score of {s.popularity}" if s.popularity is not None else ""
        who = s.name if s.type == "artist" else "It"
        if fans and score:
            return f"{who} has {fans} and {score}."
        if fans or score:
            return f"{who} has {fans or score}."
        return None

    def bio_closer(self, tone: Tone) -> str:
        return {
            W: "Every song is an open invitation to listen closely.",
            P: "Well worth a careful listen.",
            PL: "Turn it up and enjoy the ride.",
            B: "This is music that refuses to play it safe.",
        }[tone]

    def pitch_opener(self, s: Subject, tone: Tone) -> str:
        return {
            W: "We would love to share {label} with you.",
            P: "We are pleased to present {label} for your consideration.",
            PL: "Got a minute? {label} deserves it.",
            B: "Make room for {label}.",
        }[tone].format(label=self.label(s))

    def pitch_fit(self, s: Subject) -> str | None:
        return f"A natural fit for playlists built around {self.genre_list(s)}." if s.genres else None

    def pitch_close(self, tone: Tone) -> str:
        return {
            W: "Thank you for listening.",
            P: "Thank you for your time and consideration.",
            PL: "Press play, you will not regret it.",
            B: "One listen is all it takes.",
        }[tone]

    def social_hook(self, s: Subject, tone: Tone) -> str:
        return {
            W: "Something from the heart: {label}.",
            P: "Now presenting {label}.",
            PL: "Psst… {label} is calling your name!",
            B: "{label}. Turn it up.",
        }[tone].format(label=self.label(s))

    def social_cta(self, tone: Tone) -> str:
        return {
            W: "Tell us what it means to you.",
            P: "Listen now and share your thoughts.",
            PL: "Press play and tag a friend who needs this.",
            B: "Play it loud.",
        }[tone]

    def playlist_lead(self, s: Subject, tone: Tone) -> str:
        topic = f"The music of {s.name}" if s.type == "artist" else self.label(s)
        genres = f" of {self.genre_list(s)}" if s.genres else ""
        return {
            W: "{topic}: a warm selection{genres} to settle into.",
            P: "{topic}: a carefully curated selection{genres}.",
            PL: "{topic}: a feel-good mix{genres}.",
            B: "{topic}: a high-voltage selection{genres}.",
        }[tone].format(topic=topic, genres=genres)

    def playlist_featuring(self, s: Subject) -> str | None:
        if s.type == "playlist" and s.tracks:
            return (self.tracklist(s) or "").replace("It features", "Featuring", 1)
        works = s.top_tracks or s.tracks
        if works:
            return f"Featuring {self.titles(works)}."
        if s.artists:
            return f"Featuring {self.join(list(s.artists[:MAX_LISTED]))}."
        return None

    def playlist_owner(self, s: Subject) -> str | None:
        return f"Curated by {s.owner}." if s.owner and s.type == "playlist" else None

    def lyrics_title(self, s: Subject) -> str:
        return f"Draft lyrics inspired by {self.label(s)}"

    def verse_lines(self, tone: Tone) -> tuple[str, ...]:
        return {
            W: (
                "I keep {a} close when the night gets cold,",
                "{g} playing soft like a story told,",
                "and {b} hums where the heart can hear,",
                "{name}, sing it slow, sing it near.",
            ),
            P: (
                "Lights come up on {a},",
                "that {g} pulse that holds the floor,",
                "{b} echoing down the hall,",
                "{name}, and we want more.",
            ),
            PL: (
                "Put {a} on, let the speakers shake,",
                "{g} grooves for goodness' sake,",
                "{b} spinning round and round,",
                "{name} turns the whole room around.",
            ),
            B: (
                "{a} hits like thunder in the street,",
                "{g} running hot beneath our feet,",
                "{b} is the fire we carry on,",
                "{name}, until the break of dawn.",
            ),
        }[tone]

    def chorus_lines(self) -> tuple[str, ...]:
        return ("{name}, {name},", "play {a} all night long,", "{name}, {name},", "{g} is where we belong.")

    def press_header(self) -> str:
        return "FOR IMMEDIATE RELEASE"

    def press_headline(self, s: Subject, tone: Tone) -> str:
        return {
            W: "{label}: music to hold close",
            P: "Introducing {label}",
            PL: "Turn it up for {label}",
            B: "{label} makes its mark",
        }[tone].format(label=self.label(s))

    def key_facts_heading(self) -> str:
        return "Key facts"

    def key_facts(self, s: Subject) -> list[str]:
        lines = []
        if s.artists:
            lines.append(("Artist: " if len(s.artists) == 1 else "Artists: ") + ", ".join(s.artists))
        if s.album:
            lines.append(f"Album: {s.album}")
        if s.released:
            lines.append(f"Release date: {self.date(s.released)}")
        if s.total_tracks:
            lines.append(f"Tracks: {self.number(s.total_tracks)}")
        if s.project_type:
            lines.append(f"Type: {s.project_type}")
        if s.genres:
            lines.append(f"Genres: {', '.join(s.genres)}")
        if s.followers is not None and s.type == "artist":
            lines.append(f"Followers: {self.number(s.followers)}")
        if s.popularity is not None:
            lines.append(f"Popularity: {s.popularity}")
        if s.owner and s.type == "playlist":
            lines.append(f"Curated by: {s.owner}")
        return lines
