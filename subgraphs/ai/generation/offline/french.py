"""The French phrasebook."""

from __future__ import annotations

from collections.abc import Sequence

from subgraphs.ai.generation.base import (
    Language,
    Tone,
)
from subgraphs.ai.generation.offline.phrasebook import MAX_LISTED, PL, B, P, Phrasebook, W
from subgraphs.ai.generation.offline.subject import PartialDate, Subject


class French(Phrasebook):
    language = Language.FR
    months = (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    )  # fmt: skip
    conjunction = "et"
    quotes = ("«\u00a0", "\u00a0»")
    thousands = "\u202f"
    fallback_genre = "la musique"
    verse, chorus = "[Couplet]", "[Refrain]"

    @staticmethod
    def of(name: str) -> str:
        """`de` before a name, elided before a vowel: « d'Ada Costa », « de Kelis »."""
        return f"d'{name}" if name[:1].lower() in "aeiouyàâéèêëîïôöùûüæœh" else f"de {name}"

    def date(self, d: PartialDate) -> str:
        if d.month and d.day:
            return f"{'1er' if d.day == 1 else d.day} {self.months[d.month - 1]} {d.year}"
        if d.month:
            return f"{self.months[d.month - 1]} {d.year}"
        return str(d.year)

    def when(self, d: PartialDate) -> str:
        return f"le {self.date(d)}" if d.day else f"en {self.date(d)}"

    def tracks_count(self, n: int) -> str:
        return f"{self.number(n)} titre" + ("" if n == 1 else "s")

    def scene(self, s: Subject) -> str:
        """The genres as scenes: « la scène amapiano », « les scènes amapiano et gqom »."""
        genres = self.genre_list(s)
        return f"la scène {genres}" if len(s.genres) == 1 else f"les scènes {genres}"

    def of_scene(self, s: Subject) -> str:
        return "de " + self.scene(s) if len(s.genres) == 1 else "des scènes " + self.genre_list(s)

    def to_scene(self, s: Subject) -> str:
        return "à " + self.scene(s) if len(s.genres) == 1 else "aux scènes " + self.genre_list(s)

    def artists_of(self, artists: Sequence[str]) -> str:
        return self.of(self.join(list(artists[:MAX_LISTED])))

    def intro(self, s: Subject, tone: Tone) -> str:
        q = self.label(s)
        by = f" {self.artists_of(s.artists)}" if s.artists else ""
        released = f", sorti {self.when(s.released)}" if s.released else ""
        if s.type == "artist" and s.genres:
            return {
                W: "La musique {of_name}, sincère et généreuse, puise dans {scene}.",
                P: "La musique {of_name} s'inscrit dans {scene}.",
                PL: "Avec {name}, le son {of_scene} donne envie de bouger.",
                B: "{name} s'empare {of_scene} sans compromis.",
            }[tone].format(
                name=s.name, of_name=self.of(s.name), scene=self.scene(s), of_scene=self.of_scene(s)
            )
        if s.type == "artist":
            return {
                W: "La musique {of_name} se ressent autant qu'elle s'écoute.",
                P: "{name}, un nom à retenir.",
                PL: "Dites bonjour à {name}.",
                B: "{name} a des choses à dire.",
            }[tone].format(name=s.name, of_name=self.of(s.name))
        if s.type == "track":
            album = f", extrait de l'album {self.quote(s.album)}" if s.album else ""
            return f"{q} est un titre{by}{album}{released}."
        if s.type == "album":
            count = f", qui compte {self.tracks_count(s.total_tracks)}" if s.total_tracks else ""
            return f"{q} est un album{by}{released}{count}."
        if s.type == "playlist":
            return f"{q} est une playlist" + (f" signée {s.owner}." if s.owner else ".")
        return f"{q} est un projet" + (f" ({s.project_type})." if s.project_type else ".")

    def sound(self, s: Subject, tone: Tone) -> str | None:
        if not s.genres or s.type == "artist":
            return None
        return {
            W: "On y retrouve toute la chaleur {of_scene}.",
            P: "Son univers sonore s'inscrit dans {scene}.",
            PL: "Au menu, une belle dose {of_scene}.",
            B: "Le son {of_scene}, à pleine puissance.",
        }[tone].format(scene=self.scene(s), of_scene=self.of_scene(s))

    def top_tracks(self, s: Subject, tone: Tone) -> str | None:
        if not s.top_tracks:
            return None
        return {
            W: "Le public revient sans cesse vers {tracks}.",
            P: "Parmi les titres les plus populaires {of_name} {figure} {tracks}.",
            PL: "Commencez par {tracks}, vous comprendrez vite pourquoi.",
            B: "Pour mesurer l'ambition {of_name}, écoutez {tracks}.",
        }[tone].format(
            of_name=self.of(s.name),
            figure="figure" if len(s.top_tracks) == 1 else "figurent",
            tracks=self.works_list(s.top_tracks),
        )

    def albums(self, s: Subject) -> list[str]:
        if not s.albums:
            return []
        first, others = s.albums[0], s.albums[1:]
        if not first.released and not first.total_tracks:
            return [f"Sa discographie comprend {self.works_list(s.albums)}."]
        if first.released:
            detail = f"{self.quote(first.name)} est sorti {self.when(first.released)}"
            detail += f" avec {self.tracks_count(first.total_tracks)}" if first.total_tracks else ""
        else:
            detail = f"{self.quote(first.name)} compte {self.tracks_count(first.total_tracks or 0)}"
        sentences = [detail + "."]
        if others:
            sentences.append(f"Sa discographie comprend aussi {self.works_list(others)}.")
        return sentences

    def tracklist(self, s: Subject) -> str | None:
        if not s.tracks:
            return None
        if s.type == "playlist":
            items = [
                self.quote(t.name) + (f" {self.of(self.join(list(t.artists[:2])))}" if t.artists else "")
                for t in s.tracks[:MAX_LISTED]
            ]
            return f"On y trouve {self.join(items)}."
        return f"Au programme : {self.titles(s.tracks)}."

    def description(self, s: Subject) -> str | None:
        return self.sentence_with_quote("Sa description : ", s.description) if s.description else None

    def audience(self, s: Subject) -> str | None:
        followers = s.followers if s.type == "artist" else None
        fans = f"{self.number(followers)} abonné" + ("" if followers == 1 else "s") if followers else ""
        score = f"un score de popularité de {s.popularity}" if s.popularity is not None else ""
        if s.type != "artist":
            return f"Son score de popularité est de {s.popularity}." if score else None
        if fans and score:
            return f"{s.name} compte {fans} et affiche {score}."
        if fans:
            return f"{s.name} compte {fans}."
        return f"{s.name} affiche {score}." if score else None

    def bio_closer(self, tone: Tone) -> str:
        return {
            W: "Chaque morceau est une invitation à écouter de plus près.",
            P: "Une écoute attentive s'impose.",
            PL: "Montez le son et laissez-vous porter.",
            B: "Une musique qui refuse de jouer la prudence.",
        }[tone]

    def pitch_opener(self, s: Subject, tone: Tone) -> str:
        return {
            W: "Nous avons le plaisir de partager {label} avec vous.",
            P: "Nous avons l'honneur de vous présenter {label}.",
            PL: "Vous avez une minute ? {label} la mérite bien.",
            B: "Faites de la place pour {label}.",
        }[tone].format(label=self.label(s))

    def pitch_fit(self, s: Subject) -> str | None:
        return f"Une évidence pour les playlists consacrées {self.to_scene(s)}." if s.genres else None

    def pitch_close(self, tone: Tone) -> str:
        return {
            W: "Merci pour votre écoute.",
            P: "Merci de votre attention.",
            PL: "Appuyez sur lecture, vous ne le regretterez pas.",
            B: "Une seule écoute suffit.",
        }[tone]

    def social_hook(self, s: Subject, tone: Tone) -> str:
        return {
            W: "Un petit bout de cœur : {label}.",
            P: "À découvrir : {label}.",
            PL: "Psst… {label} vous attend !",
            B: "{label}. Montez le son.",
        }[tone].format(label=self.label(s))

    def social_cta(self, tone: Tone) -> str:
        return {
            W: "Dites-nous ce que cela vous inspire.",
            P: "Écoutez et partagez votre avis.",
            PL: "Lancez la lecture et identifiez un ami qui en a besoin.",
            B: "À écouter très fort.",
        }[tone]

    def playlist_lead(self, s: Subject, tone: Tone) -> str:
        topic = f"La musique {self.of(s.name)}" if s.type == "artist" else self.label(s)
        genres = f" aux couleurs {self.of_scene(s)}" if s.genres else ""
        return {
            W: "{topic} : une sélection chaleureuse{genres}, pour se laisser aller.",
            P: "{topic} : une sélection soignée{genres}.",
            PL: "{topic} : un mélange plein de bonne humeur{genres}.",
            B: "{topic} : une sélection à haute tension{genres}.",
        }[tone].format(topic=topic, genres=genres)

    def playlist_featuring(self, s: Subject) -> str | None:
        if s.type == "playlist" and s.tracks:
            return (self.tracklist(s) or "").replace("On y trouve", "Avec", 1)
        works = s.top_tracks or s.tracks
        if works:
            return f"Avec {self.titles(works)}."
        if s.artists:
            return f"Avec {self.join(list(s.artists[:MAX_LISTED]))}."
        return None

    def playlist_owner(self, s: Subject) -> str | None:
        return f"Une sélection signée {s.owner}." if s.owner and s.type == "playlist" else None

    def lyrics_title(self, s: Subject) -> str:
        return f"Ébauche de paroles inspirée par {self.label(s)}"

    def verse_lines(self, tone: Tone) -> tuple[str, ...]:
        return {
            W: (
                "Je garde {a} tout contre moi,",
                "{g} qui murmure tout bas,",
                "et {b} chante au creux du cœur,",
                "{name}, doucement, sans peur.",
            ),
            P: (
                "Les lumières s'allument sur {a},",
                "{g} bat au cœur de la piste,",
                "{b} résonne dans le couloir,",
                "{name}, encore un peu ce soir.",
            ),
            PL: (
                "Mets {a}, que les enceintes tremblent,",
                "{g} qui groove, on danse ensemble,",
                "{b} tourne et tourne encore,",
                "{name} fait vibrer le décor.",
            ),
            B: (
                "{a} frappe comme l'orage,",
                "{g} brûle sur notre passage,",
                "{b}, c'est le feu qu'on porte,",
                "{name}, jusqu'à l'aube, plus fort.",
            ),
        }[tone]

    def chorus_lines(self) -> tuple[str, ...]:
        return ("{name}, {name},", "{a} toute la nuit,", "{name}, {name},", "{g}, c'est notre vie.")

    def press_header(self) -> str:
        return "COMMUNIQUÉ DE PRESSE"

    def press_headline(self, s: Subject, tone: Tone) -> str:
        return {
            W: "{label}, une musique à garder près de soi",
            P: "Présentation : {label}",
            PL: "Montez le son pour {label}",
            B: "{label} frappe fort",
        }[tone].format(label=self.label(s))

    def key_facts_heading(self) -> str:
        return "Repères"

    def key_facts(self, s: Subject) -> list[str]:
        lines = []
        if s.artists:
            lines.append(("Artiste : " if len(s.artists) == 1 else "Artistes : ") + ", ".join(s.artists))
        if s.album:
            lines.append(f"Album : {s.album}")
        if s.released:
            lines.append(f"Date de sortie : {self.date(s.released)}")
        if s.total_tracks:
            lines.append(f"Titres : {self.number(s.total_tracks)}")
        if s.project_type:
            lines.append(f"Type : {s.project_type}")
        if s.genres:
            lines.append(f"Genres : {', '.join(s.genres)}")
        if s.followers is not None and s.type == "artist":
            lines.append(f"Abonnés : {self.number(s.followers)}")
        if s.popularity is not None:
            lines.append(f"Popularité : {s.popularity}")
        if s.owner and s.type == "playlist":
            lines.append(f"Sélection : {s.owner}")
        return lines
