"""The German phrasebook."""

from __future__ import annotations

import re

from subgraphs.ai.generation.base import (
    Language,
    Tone,
)
from subgraphs.ai.generation.offline.phrasebook import MAX_LISTED, PL, B, P, Phrasebook, W, capitalise_words
from subgraphs.ai.generation.offline.subject import PartialDate, Subject


class German(Phrasebook):
    language = Language.DE
    months = (
        "Januar", "Februar", "März", "April", "Mai", "Juni",
        "Juli", "August", "September", "Oktober", "November", "Dezember",
    )  # fmt: skip
    conjunction = "und"
    quotes = ("„", "“")
    thousands = "."
    fallback_genre = "Musik"
    verse, chorus = "[Strophe]", "[Refrain]"

    def genre_list(self, s: Subject) -> str:
        # German capitalises nouns: "afro house" is written "Afro House".
        return self.join([capitalise_words(g) for g in s.genres[:MAX_LISTED]])

    def lyric_genre(self, s: Subject) -> str:
        return capitalise_words(s.genres[0]).replace(" ", "-") if s.genres else self.fallback_genre

    def date(self, d: PartialDate) -> str:
        if d.month and d.day:
            return f"{d.day}. {self.months[d.month - 1]} {d.year}"
        if d.month:
            return f"{self.months[d.month - 1]} {d.year}"
        return str(d.year)

    def when(self, d: PartialDate) -> str:
        if d.day:
            return f"am {self.date(d)}"
        return f"im {self.date(d)}" if d.month else f"im Jahr {d.year}"

    def tracks_count(self, n: int) -> str:
        return f"{self.number(n)} Song" + ("" if n == 1 else "s")

    def intro(self, s: Subject, tone: Tone) -> str:
        q = self.label(s)
        by = f" von {self.join(list(s.artists[:MAX_LISTED]))}" if s.artists else ""
        released = f", erschienen {self.when(s.released)}" if s.released else ""
        if s.type == "artist" and s.genres:
            return {
                W: "Die Musik von {name} kommt von Herzen und wurzelt in {genres}.",
                P: "Die Musik von {name} bewegt sich im Bereich {genres}.",
                PL: "{name} macht aus {genres} eine Einladung zum Tanzen.",
                B: "{name} spielt {genres} mit Überzeugung und ohne Kompromisse.",
            }[tone].format(name=s.name, genres=self.genre_list(s))
        if s.type == "artist":
            return {
                W: "Die Musik von {name} will gefühlt werden.",
                P: "{name} ist ein Name, den man kennen sollte.",
                PL: "Darf ich vorstellen: {name}.",
                B: "{name} hat etwas zu sagen.",
            }[tone].format(name=s.name)
        if s.type == "track":
            album = f" aus dem Album {self.quote(s.album)}" if s.album else ""
            return f"{q} ist ein Song{by}{album}{released}."
        if s.type == "album":
            count = f", mit {self.tracks_count(s.total_tracks)}" if s.total_tracks else ""
            return f"{q} ist ein Album{by}{released}{count}."
        if s.type == "playlist":
            return f"{q} ist eine Playlist" + (f", kuratiert von {s.owner}." if s.owner else ".")
        return f"{q} ist ein Projekt" + (f" ({s.project_type})." if s.project_type else ".")

    def sound(self, s: Subject, tone: Tone) -> str | None:
        if not s.genres or s.type == "artist":
            return None
        return {
            W: "Darin steckt die ganze Wärme von {genres}.",
            P: "Klanglich ist es im Bereich {genres} zu Hause.",
            PL: "Freuen Sie sich auf eine ordentliche Portion {genres}.",
            B: "Hier gibt es {genres} mit voller Wucht.",
        }[tone].format(genres=self.genre_list(s))

    def top_tracks(self, s: Subject, tone: Tone) -> str | None:
        if not s.top_tracks:
            return None
        return {
            W: "Das Publikum kehrt immer wieder zu {tracks} zurück.",
            P: "Zu den beliebtesten Songs von {name} {count} {tracks}.",
            PL: "Fangen Sie mit {tracks} an, dann wissen Sie Bescheid.",
            B: "Wer hören will, wozu {name} fähig ist, startet mit {tracks}.",
        }[tone].format(
            name=s.name,
            count="zählt" if len(s.top_tracks) == 1 else "zählen",
            tracks=self.works_list(s.top_tracks),
        )

    def albums(self, s: Subject) -> list[str]:
        if not s.albums:
            return []
        first, others = s.albums[0], s.albums[1:]
        if not first.released and not first.total_tracks:
            belong = "gehört" if len(s.albums) == 1 else "gehören"
            return [f"Zur Diskografie {belong} {self.works_list(s.albums)}."]
        if first.released:
            detail = f"{self.quote(first.name)} erschien {self.when(first.released)}"
            detail += f" mit {self.tracks_count(first.total_tracks)}" if first.total_tracks else ""
        else:
            detail = f"{self.quote(first.name)} umfasst {self.tracks_count(first.total_tracks or 0)}"
        sentences = [detail + "."]
        if others:
            belong = "gehört" if len(others) == 1 else "gehören"
            sentences.append(f"Außerdem {belong} {self.works_list(others)} zur Diskografie.")
        return sentences

    def tracklist(self, s: Subject) -> str | None:
        if not s.tracks:
            return None
        if s.type == "playlist":
            items = [
                self.quote(t.name) + (f" von {self.join(list(t.artists[:2]))}" if t.artists else "")
                for t in s.tracks[:MAX_LISTED]
            ]
            return f"Mit dabei {'ist' if len(items) == 1 else 'sind'} {self.join(items)}."
        return f"Auf der Trackliste {'steht' if len(s.tracks) == 1 else 'stehen'} {self.titles(s.tracks)}."

    def description(self, s: Subject) -> str | None:
        return self.sentence_with_quote("Die Beschreibung lautet: ", s.description) if s.description else None

    def audience(self, s: Subject) -> str | None:
        followers = s.followers if s.type == "artist" else None
        fans = f"{self.number(followers)} Follower" if followers else ""
        score = f"einen Popularitätswert von {s.popularity}" if s.popularity is not None else ""
        who = s.name if s.type == "artist" else "Es"
        if fans and score:
            return f"{who} hat {fans} und {score}."
        if fans or score:
            return f"{who} hat {fans or score}."
        return None

    def bio_closer(self, tone: Tone) -> str:
        return {
            W: "Jeder Song ist eine Einladung, genau hinzuhören.",
            P: "Es lohnt sich, genau hinzuhören.",
            PL: "Lauter drehen und die Fahrt genießen.",
            B: "Diese Musik geht keine Kompromisse ein.",
        }[tone]

    def pitch_opener(self, s: Subject, tone: Tone) -> str:
        return {
            W: "Wir freuen uns sehr, {label} mit Ihnen zu teilen.",
            P: "Gern stellen wir Ihnen {label} vor.",
            PL: "Haben Sie eine Minute? {label} ist sie wert.",
            B: "Machen Sie Platz für {label}.",
        }[tone].format(label=self.label(s))

    def pitch_fit(self, s: Subject) -> str | None:
        return f"Ideal für Playlists rund um {self.genre_list(s)}." if s.genres else None

    def pitch_close(self, tone: Tone) -> str:
        return {
            W: "Danke fürs Zuhören.",
            P: "Vielen Dank für Ihre Zeit und Aufmerksamkeit.",
            PL: "Einfach auf Play drücken, es lohnt sich.",
            B: "Ein Durchlauf genügt.",
        }[tone]

    def social_hook(self, s: Subject, tone: Tone) -> str:
        return {
            W: "Von Herzen für euch: {label}.",
            P: "Jetzt entdecken: {label}.",
            PL: "Psst… {label} wartet auf euch!",
            B: "{label}. Laut aufdrehen.",
        }[tone].format(label=self.label(s))

    def social_cta(self, tone: Tone) -> str:
        return {
            W: "Erzählt uns, was es euch bedeutet.",
            P: "Jetzt reinhören und eure Meinung teilen.",
            PL: "Auf Play drücken und Freunde markieren, die das brauchen.",
            B: "Laut hören.",
        }[tone]

    def playlist_lead(self, s: Subject, tone: Tone) -> str:
        topic = f"Die Musik von {s.name}" if s.type == "artist" else self.label(s)
        genres = f" aus {self.genre_list(s)}" if s.genres else ""
        return {
            W: "{topic}: eine warme Auswahl{genres} zum Zurücklehnen.",
            P: "{topic}: eine sorgfältig kuratierte Auswahl{genres}.",
            PL: "{topic}: ein Gute-Laune-Mix{genres}.",
            B: "{topic}: eine Auswahl{genres} unter Hochspannung.",
        }[tone].format(topic=topic, genres=genres)

    def playlist_featuring(self, s: Subject) -> str | None:
        if s.type == "playlist" and s.tracks:
            return re.sub(r"^Mit dabei (ist|sind)", "Mit", self.tracklist(s) or "")
        works = s.top_tracks or s.tracks
        if works:
            return f"Mit {self.titles(works)}."
        if s.artists:
            return f"Mit {self.join(list(s.artists[:MAX_LISTED]))}."
        return None

    def playlist_owner(self, s: Subject) -> str | None:
        return f"Kuratiert von {s.owner}." if s.owner and s.type == "playlist" else None

    def lyrics_title(self, s: Subject) -> str:
        return f"Songtext-Entwurf, inspiriert von {self.label(s)}"

    def verse_lines(self, tone: Tone) -> tuple[str, ...]:
        return {
            W: (
                "Ich halte {a} fest, wenn die Nacht kalt wird,",
                "{g} klingt leise wie ein Lied, das uns führt,",
                "und {b} summt dort, wo das Herz noch hört,",
                "{name}, sing es langsam, ungestört.",
            ),
            P: (
                "Das Licht geht an für {a},",
                "ein {g}-Puls, der den Raum erfüllt,",
                "{b} hallt durch den Flur,",
                "{name}, wir wollen mehr davon.",
            ),
            PL: (
                "Leg {a} auf, lass die Boxen beben,",
                "{g}-Groove, das ist das Leben,",
                "{b} dreht sich rund und rund,",
                "{name} macht den Abend bunt.",
            ),
            B: (
                "{a} schlägt ein wie Donner auf der Straße,",
                "{g} brennt heiß in jeder Phase,",
                "{b} ist das Feuer, das uns trägt,",
                "{name}, bis der Morgen schlägt.",
            ),
        }[tone]

    def chorus_lines(self) -> tuple[str, ...]:
        return ("{name}, {name},", "{a} die ganze Nacht,", "{name}, {name},", "{g} hat uns wach gemacht.")

    def press_header(self) -> str:
        return "PRESSEMITTEILUNG"

    def press_headline(self, s: Subject, tone: Tone) -> str:
        return {
            W: "{label}: Musik zum Festhalten",
            P: "Vorgestellt: {label}",
            PL: "Lauter drehen für {label}",
            B: "{label} setzt ein Zeichen",
        }[tone].format(label=self.label(s))

    def key_facts_heading(self) -> str:
        return "Auf einen Blick"

    def key_facts(self, s: Subject) -> list[str]:
        lines = []
        if s.artists:
            lines.append(("Artist: " if len(s.artists) == 1 else "Artists: ") + ", ".join(s.artists))
        if s.album:
            lines.append(f"Album: {s.album}")
        if s.released:
            lines.append(f"Erscheinungsdatum: {self.date(s.released)}")
        if s.total_tracks:
            lines.append(f"Songs: {self.number(s.total_tracks)}")
        if s.project_type:
            lines.append(f"Art: {s.project_type}")
        if s.genres:
            lines.append(f"Genres: {', '.join(capitalise_words(g) for g in s.genres)}")
        if s.followers is not None and s.type == "artist":
            lines.append(f"Follower: {self.number(s.followers)}")
        if s.popularity is not None:
            lines.append(f"Popularität: {s.popularity}")
        if s.owner and s.type == "playlist":
            lines.append(f"Kuratiert von: {s.owner}")
        return lines
