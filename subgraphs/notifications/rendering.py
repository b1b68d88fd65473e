"""Notifications rendered from their templates: the in-app title and body, and the e-mail's
subject, text part and HTML part, in English, French or German.

A kind's template is `templates/<lang>/<kind>.jinja`; it defines the blocks `subject`,
`title`, `body` (in-app, plain text), `text` and `html_content` (what happened, in the
e-mail) and `cta` (the label of the e-mail's one button, which opens `link`), and may define
`reason` (why the mail was sent, instead of the category's sentence). What every mail shares
is added here: the greeting, the button, the footer (an unsubscribe link for a category, or
the security notice of a critical kind), and the HTML layout (`templates/layout.html.jinja`).
A digest (`templates/<lang>/digest.jinja`) is rendered the same way from in-app items.

Two environments read the same files: the HTML parts are rendered with autoescaping and the
others without (a subject or a text part is not HTML). Both are strict: a value a template
reads that the caller did not give raises `jinja2.UndefinedError`. Blocks are rendered one at
a time, so a kind template holds nothing but blocks.

Critical (security) kinds are never tracked and cannot be unsubscribed from: their
`unsubscribe_url`, `pixel_url` and `track` are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from subgraphs.notifications.workflows import BY_KIND, LANGUAGES, Category

TEMPLATES = Path(__file__).parent / "templates"
PRODUCT = "Spotify Agent"
DEFAULT_LANGUAGE = "en"
BLOCKS = ("subject", "title", "body", "text", "html_content", "cta")
"""The blocks every kind template defines (`reason` is optional)."""


@dataclass(frozen=True)
class Rendered:
    title: str
    """In-app, one line."""
    body: str
    """In-app, plain text."""
    subject: str
    text: str
    """The e-mail's text/plain part."""
    html: str
    """The e-mail's text/html part: a whole document."""


@dataclass(frozen=True)
class DigestItem:
    """One notification of a digest, as it was rendered in-app."""

    kind: str
    title: str
    body: str
    link: str
    occurred_at: datetime


@dataclass(frozen=True)
class _Strings:
    greeting: str
    greeting_named: str
    reason: str
    unsubscribe: str
    security_notice: str
    if_not_you: str
    digest_emails: str
    months: tuple[str, ...]
    date: str
    """`{day}`, `{month}`, `{year}`."""
    at_time: str
    labelled: str
    """A label and its value (a link) in the text part."""
    decimal: str
    thousands: str
    categories: Mapping[Category, str]
    """As the footer names a category's e-mails, after "from" and as a plural subject."""
    roles: Mapping[str, str]
    consents: Mapping[str, str]
    content_kinds: Mapping[str, str]
    """What ai writes (`ContentKind` values), as a sentence names it."""


_STRINGS: dict[str, _Strings] = {
    "en": _Strings(
        greeting="Hello,",
        greeting_named="Hi {name},",
        reason="You're receiving this email because {emails} are turned on in your notification settings.",
        unsubscribe="Unsubscribe from {emails}",
        security_notice="This security notice about your account is always sent, whatever your settings.",
        if_not_you="If this wasn't you, reset your password right away and check your account's sessions "
        "and API keys.",
        digest_emails="digest emails",
        months=(
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
        date="{day} {month} {year}",
        at_time="{date} at {time} UTC",
        labelled="{label}: {value}",
        decimal=".",
        thousands=",",
        categories={
            Category.MENTIONS: "mention emails",
            Category.COMMENTS: "comment emails",
            Category.INVITATIONS: "invitation emails",
            Category.MEMBERSHIP: "membership emails",
            Category.PROJECTS: "project update emails",
            Category.JOBS: "job status emails",
            Category.REPORTS: "report emails",
            Category.MODELS: "model alert emails",
            Category.SECURITY: "security emails",
        },
        roles={
            "owner": "Owner",
            "admin": "Admin",
            "editor": "Editor",
            "commenter": "Commenter",
            "member": "Member",
            "viewer": "Viewer",
        },
        content_kinds={
            "artist_bio": "artist bio",
            "release_pitch": "release pitch",
            "social_post": "social post",
            "playlist_description": "playlist description",
            "lyrics_draft": "lyrics draft",
            "press_release": "press release",
        },
        consents={
            "terms": "Terms of service",
            "data_processing": "Processing of personal data",
            "marketing": "Product news by email",
            "personalization": "Personalized recommendations",
        },
    ),
    "fr": _Strings(
        greeting="Bonjour,",
        greeting_named="Bonjour {name},",
        reason="Vous recevez cet e-mail car les {emails} sont activés dans vos préférences de notification.",
        unsubscribe="Se désabonner des {emails}",
        security_notice="Cette alerte de sécurité concernant votre compte est toujours envoyée, "
        "quelles que soient vos préférences.",
        if_not_you="Si vous n'êtes pas à l'origine de cette action, réinitialisez immédiatement votre mot "
        "de passe et vérifiez les sessions et les clés d'API de votre compte.",
        digest_emails="e-mails récapitulatifs",
        months=(
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ),
        date="{day} {month} {year}",
        at_time="{date} à {time} UTC",
        labelled="{label}\u00a0: {value}",
        decimal=",",
        thousands="\u202f",
        categories={
            Category.MENTIONS: "e-mails de mention",
            Category.COMMENTS: "e-mails de commentaires",
            Category.INVITATIONS: "e-mails d'invitation",
            Category.MEMBERSHIP: "e-mails sur les membres",
            Category.PROJECTS: "e-mails de mise à jour des projets",
            Category.JOBS: "e-mails sur l'état des tâches",
            Category.REPORTS: "e-mails de rapports",
            Category.MODELS: "e-mails d'alerte des modèles",
            Category.SECURITY: "e-mails de sécurité",
        },
        roles={
            "owner": "Propriétaire",
            "admin": "Administrateur",
            "editor": "Éditeur",
            "commenter": "Commentateur",
            "member": "Membre",
            "viewer": "Lecteur",
        },
        content_kinds={
            "artist_bio": "biographie d'artiste",
            "release_pitch": "pitch de sortie",
            "social_post": "publication pour les réseaux sociaux",
            "playlist_description": "description de playlist",
            "lyrics_draft": "ébauche de paroles",
            "press_release": "communiqué de presse",
        },
        consents={
            "terms": "Conditions d'utilisation",
            "data_processing": "Traitement des données personnelles",
            "marketing": "Actualités produit par e-mail",
            "personalization": "Recommandations personnalisées",
        },
    ),
    "de": _Strings(
        greeting="Guten Tag,",
        greeting_named="Hallo {name},",
        reason="Sie erhalten diese E-Mail, weil {emails} in Ihren Benachrichtigungseinstellungen "
        "aktiviert sind.",
        unsubscribe="{emails} abbestellen",
        security_notice="Dieser Sicherheitshinweis zu Ihrem Konto wird unabhängig von Ihren Einstellungen "
        "immer versendet.",
        if_not_you="Falls Sie das nicht waren, setzen Sie bitte sofort Ihr Passwort zurück und prüfen Sie "
        "die Sitzungen und API-Schlüssel Ihres Kontos.",
        digest_emails="Zusammenfassungs-E-Mails",
        months=(
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ),
        date="{day}. {month} {year}",
        at_time="{date} um {time} UTC",
        labelled="{label}: {value}",
        decimal=",",
        thousands=".",
        categories={
            Category.MENTIONS: "E-Mails zu Erwähnungen",
            Category.COMMENTS: "E-Mails zu Kommentaren",
            Category.INVITATIONS: "E-Mails zu Einladungen",
            Category.MEMBERSHIP: "E-Mails zu Mitgliedschaften",
            Category.PROJECTS: "E-Mails zu Projektänderungen",
            Category.JOBS: "E-Mails zum Auftragsstatus",
            Category.REPORTS: "E-Mails zu Berichten",
            Category.MODELS: "E-Mails zu Modellwarnungen",
            Category.SECURITY: "Sicherheits-E-Mails",
        },
        roles={
            "owner": "Inhaber",
            "admin": "Administrator",
            "editor": "Bearbeiter",
            "commenter": "Kommentator",
            "member": "Mitglied",
            "viewer": "Betrachter",
        },
        content_kinds={
            "artist_bio": "Künstlerbiografie",
            "release_pitch": "Release-Pitch",
            "social_post": "Social-Media-Beitrag",
            "playlist_description": "Playlist-Beschreibung",
            "lyrics_draft": "Songtext-Entwurf",
            "press_release": "Pressemitteilung",
        },
        consents={
            "terms": "Nutzungsbedingungen",
            "data_processing": "Verarbeitung personenbezogener Daten",
            "marketing": "Produktneuigkeiten per E-Mail",
            "personalization": "Personalisierte Empfehlungen",
        },
    ),
}

# Templates style plain tags; e-mail clients ignore <style>, so every tag gets its own.
_TAG_STYLES = {
    "p": "margin:0 0 16px 0;",
    "blockquote": "margin:0 0 16px 0;padding:12px 16px;border-left:4px solid #d4d4d8;"
    "background-color:#f4f4f5;color:#3f3f46;",
    "ul": "margin:0 0 16px 0;padding:0 0 0 24px;",
    "li": "margin:0 0 4px 0;",
    "code": "font-family:Menlo,Consolas,'Courier New',monospace;font-size:14px;"
    "background-color:#f4f4f5;padding:1px 4px;",
}
_BARE_TAG = re.compile(r"<(" + "|".join(_TAG_STYLES) + r")>")
_SPACES = re.compile(r"[^\S\u00a0\u202f]+")  # keeps the no-break spaces of French typography
_BLANK_LINES = re.compile(r"\n{3,}")


def language_of(preferred: str | None) -> str:
    """One of `LANGUAGES` for a preferred language ("fr", "de-AT", "fr-CA,fr;q=0.9"): its primary
    subtag if a template exists in it, else English."""
    if not preferred:
        return DEFAULT_LANGUAGE
    primary = re.split(r"[-_,;\s]", preferred.strip(), maxsplit=1)[0].lower()
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def render(
    kind: str,
    language: str,
    params: Mapping[str, Any],
    *,
    recipient_name: str | None,
    link: str,
    unsubscribe_url: str | None = None,
    pixel_url: str | None = None,
    track: Callable[[str], str] | None = None,
) -> Rendered:
    """A notification of `kind` (KeyError if there is none) with its workflow's `params`."""
    workflow = BY_KIND[kind]
    language = language_of(language)
    strings = _STRINGS[language]
    critical = workflow.critical
    return _render(
        f"{language}/{kind}.jinja",
        language,
        dict(params),
        recipient_name=recipient_name,
        link=link,
        emails=strings.categories[workflow.category],
        critical=critical,
        unsubscribe_url=None if critical else unsubscribe_url,
        pixel_url=None if critical else pixel_url,
        track=None if critical else track,
    )


def render_in_app(
    kind: str, language: str, params: Mapping[str, Any], *, recipient_name: str | None = None
) -> tuple[str, str]:
    """Only what the app shows, (title, body): a notification made for many people renders
    no mail it does not send."""
    language = language_of(language)
    template = TEXT_ENVIRONMENT.get_template(f"{language}/{BY_KIND[kind].kind}.jinja")
    variables = {
        **params,
        "recipient_name": (recipient_name or "").strip() or None,
        "link": "",
        "language": language,
        "product": PRODUCT,
        "track": _identity,
    }
    title, body = (
        _SPACES.sub(" ", _block(template, block, variables).strip()).strip() for block in ("title", "body")
    )
    return title, body


def render_digest(
    language: str,
    items: Sequence[DigestItem],
    *,
    recipient_name: str | None,
    link: str,
    unsubscribe_url: str | None = None,
    pixel_url: str | None = None,
    track: Callable[[str], str] | None = None,
) -> Rendered:
    """Several notifications of digestible categories in one mail, in the order given."""
    if not items:
        raise ValueError("A digest needs at least one item")
    language = language_of(language)
    return _render(
        f"{language}/digest.jinja",
        language,
        {"items": list(items)},
        recipient_name=recipient_name,
        link=link,
        emails=_STRINGS[language].digest_emails,
        critical=False,
        unsubscribe_url=unsubscribe_url,
        pixel_url=pixel_url,
        track=track,
    )


def _render(
    name: str,
    language: str,
    params: dict[str, Any],
    *,
    recipient_name: str | None,
    link: str,
    emails: str,
    critical: bool,
    unsubscribe_url: str | None,
    pixel_url: str | None,
    track: Callable[[str], str] | None,
) -> Rendered:
    strings = _STRINGS[language]
    tracked = track or _identity
    recipient_name = (recipient_name or "").strip() or None
    base = {
        **params,
        "recipient_name": recipient_name,
        "link": link,
        "language": language,
        "product": PRODUCT,
    }
    text_template = TEXT_ENVIRONMENT.get_template(name)
    html_template = HTML_ENVIRONMENT.get_template(name)

    def plain(block: str) -> str:
        return _block(text_template, block, {**base, "track": _identity}).strip()

    def one_line(block: str) -> str:
        return _SPACES.sub(" ", plain(block)).strip()

    subject, title, body, cta = (one_line(block) for block in ("subject", "title", "body", "cta"))
    content = "\n".join(line.rstrip() for line in plain("text").splitlines())
    content = _BLANK_LINES.sub("\n\n", content)
    has_reason = "reason" in text_template.blocks
    reason = one_line("reason") if has_reason else strings.reason.format(emails=emails)
    greeting = (
        strings.greeting_named.format(name=" ".join(recipient_name.split()))
        if recipient_name
        else strings.greeting
    )
    unsubscribe = strings.unsubscribe.format(emails=emails)

    lines = [greeting, "", content, "", strings.labelled.format(label=cta, value=link), ""]
    if critical:
        lines += [strings.if_not_you, "", "-- ", strings.security_notice]
    else:
        lines += ["-- ", reason]
    if unsubscribe_url:
        lines.append(strings.labelled.format(label=unsubscribe, value=unsubscribe_url))
    text = "\n".join([*lines, PRODUCT]) + "\n"

    html_content = _block(html_template, "html_content", {**base, "track": tracked}).strip()
    html_reason = (
        Markup(_block(html_template, "reason", {**base, "track": tracked}).strip()) if has_reason else reason
    )
    html = HTML_ENVIRONMENT.get_template("layout.html.jinja").render(
        language=language,
        subject=subject,
        preheader=body,
        greeting=greeting,
        content=Markup(_BARE_TAG.sub(_styled, html_content)),
        cta=cta,
        cta_url=tracked(link),
        critical=critical,
        if_not_you=strings.if_not_you,
        security_notice=strings.security_notice,
        reason=html_reason,
        unsubscribe=unsubscribe,
        unsubscribe_url=unsubscribe_url,
        pixel_url=pixel_url,
        product=PRODUCT,
    )
    return Rendered(title=title, body=body, subject=subject, text=text, html=html)


def _block(template: Template, name: str, variables: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(variables)))


def _styled(match: re.Match[str]) -> str:
    tag = match.group(1)
    return f'<{tag} style="{_TAG_STYLES[tag]}">'


def _identity(url: str) -> str:
    return url


# Filters: they read the language from the context, which `_render` always sets.


def _strings(context: Context) -> _Strings:
    return _STRINGS[context["language"]]


def _as_datetime(value: datetime | date | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@pass_context
def _date(context: Context, value: datetime | date | str) -> str:
    """7 December 2026, 1er décembre 2026, 7. Dezember 2026 (in UTC)."""
    strings = _strings(context)
    moment = _as_datetime(value)
    day = "1er" if moment.day == 1 and context["language"] == "fr" else str(moment.day)
    return strings.date.format(day=day, month=strings.months[moment.month - 1], year=moment.year)


@pass_context
def _date_time(context: Context, value: datetime | date | str) -> str:
    moment = _as_datetime(value)
    return _strings(context).at_time.format(date=_date(context, moment), time=f"{moment:%H:%M}")


@pass_context
def _number(context: Context, value: float, digits: int = 2) -> str:
    """Grouped thousands for an integer, `digits` decimals for anything else."""
    strings = _strings(context)
    formatted = f"{value:,}" if isinstance(value, int) else f"{value:,.{digits}f}"
    separators: dict[str, str | int | None] = {",": strings.thousands, ".": strings.decimal}
    return formatted.translate(str.maketrans(separators))


@pass_context
def _role(context: Context, value: str) -> str:
    return _strings(context).roles.get(value, value)


@pass_context
def _content_kind(context: Context, value: str) -> str:
    return _strings(context).content_kinds.get(value, value.replace("_", " "))


@pass_context
def _consent(context: Context, value: str) -> str:
    return _strings(context).consents.get(value, value.replace("_", " "))


def _shorten(value: str, width: int = 140) -> str:
    """One line of at most `width` characters, cut at a word."""
    line = " ".join(value.split())
    if len(line) <= width:
        return line
    return line[: width - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


def _quote(value: str) -> str:
    """A plain-text quotation: each line behind "> "."""
    return "\n".join(f"> {line}".rstrip() for line in value.strip().splitlines())


def _nl2br(value: str) -> Markup:
    return Markup("<br>\n").join(escape(line) for line in value.strip().splitlines())


def _environment(*, html: bool) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # the templates ship with the package: no file stat per lookup
    )
    environment.filters.update(
        date=_date,
        datetime=_date_time,
        number=_number,
        role=_role,
        consent=_consent,
        content_kind=_content_kind,
        shorten=_shorten,
        quote=_quote,
        nl2br=_nl2br,
    )
    return environment


TEXT_ENVIRONMENT = _environment(html=False)
HTML_ENVIRONMENT = _environment(html=True)
