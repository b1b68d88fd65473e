"""Notification templates: every kind (and the digest) in every language renders as its
snapshot, reads every param its workflow declares, escapes in HTML and only there, sends
critical mail untracked and without unsubscribe, and looks like an e-mail in headless Chromium.

Snapshots are `snapshots/<lang>/<kind>.txt` (subject, in-app title and body, then the text
part) and `.html`; `UPDATE_SNAPSHOTS=1` writes them instead of comparing (read the diff).
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from jinja2 import UndefinedError, meta, nodes

from subgraphs.notifications.rendering import (
    BLOCKS,
    TEMPLATES,
    TEXT_ENVIRONMENT,
    DigestItem,
    Rendered,
    language_of,
    render,
    render_digest,
    render_in_app,
)
from subgraphs.notifications.workflows import BY_KIND, LANGUAGES, WORKFLOWS
from tests.router.test_graphiql import CHROMIUM, CHROMIUM_ARGS

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
SCREENSHOT = Path(tempfile.gettempdir()) / "mention_email.png"

RECIPIENT = "Camille Laurent"
UNSUBSCRIBE = "https://notify.example.com/unsubscribe/tok-7f3a"
PIXEL = "https://notify.example.com/open/tok-7f3a.gif"
CLICK = "https://notify.example.com/click/tok-7f3a?to="
PROVIDED = {"recipient_name", "link", "language", "product", "track"}
"""What the renderer gives every template besides the params."""

SAMPLES: dict[str, dict[str, Any]] = {
    "comment_mention": {
        "actor_name": "Léa Moreau",
        "project_title": "Summer campaign",
        "excerpt": "Can you check the mix of the second chorus before Friday?\nThe vocals feel a bit buried.",
    },
    "comment_reply": {
        "actor_name": "Jonas Weber",
        "project_title": "Summer campaign",
        "excerpt": "Agreed, I'll bump the vocals by 2 dB and send a new bounce tonight.",
    },
    "workspace_invitation": {
        "actor_name": "Léa Moreau",
        "workspace_name": "Northern Lights Records",
        "role": "editor",
        "expires_at": "2026-12-07T18:00:00+00:00",
    },
    "workspace_member_joined": {
        "member_name": "Jonas Weber",
        "workspace_name": "Northern Lights Records",
        "role": "commenter",
    },
    "workspace_member_left": {"member_name": "Jonas Weber", "workspace_name": "Northern Lights Records"},
    "workspace_role_changed": {
        "actor_name": "Léa Moreau",
        "workspace_name": "Northern Lights Records",
        "role": "editor",
        "previous_role": "viewer",
    },
    "tenant_role_changed": {"actor_name": "Léa Moreau", "role": "admin", "previous_role": "member"},
    "project_changed": {"actor_name": "Jonas Weber", "project_title": "Summer campaign", "version": 7},
    "library_sync_completed": {"playlists": 14, "new_plays": 12045},
    "generation_finished": {"generation_kind": "release_pitch", "succeeded": True},
    "library_sync_failed": {"reason": "expired"},
    "report_ready": {"artist_name": "The Midnight Owls", "format": "pdf"},
    "report_failed": {"artist_name": "The Midnight Owls", "reason": "StorageUnavailable"},
    "model_drift": {
        "model_name": "recommender",
        "version": "rec-20261201093000-3fa9c1d2",
        "signal": "search_queries",
        "level": "alert",
        "psi": 0.3127,
    },
    "new_sign_in": {"method": "log_in"},
    "api_key_created": {"key_name": "CI deploy", "scopes": ["spotify:read", "collaboration:read"]},
    "password_changed": {"revoked_sessions": 2},
    "consent_changed": {"consent": "marketing", "granted": True},
    "consent_withdrawn": {"consent": "personalization", "granted": False},
}

DIGEST_ITEMS = {
    "en": [
        ("Jonas Weber updated “Summer campaign”", "Jonas Weber saved version 7 of “Summer campaign”."),
        ("Léa Moreau updated “Tour poster”", "Léa Moreau saved version 3 of “Tour poster”."),
    ],
    "fr": [
        (
            "Jonas Weber a modifié « Summer campaign »",
            "Jonas Weber a enregistré la version 7 de « Summer campaign ».",
        ),
        ("Léa Moreau a modifié « Tour poster »", "Léa Moreau a enregistré la version 3 de « Tour poster »."),
    ],
    "de": [
        (
            "Jonas Weber hat „Summer campaign“ geändert",
            "Jonas Weber hat Version 7 von „Summer campaign“ gespeichert.",
        ),
        ("Léa Moreau hat „Tour poster“ geändert", "Léa Moreau hat Version 3 von „Tour poster“ gespeichert."),
    ],
}
CASES = [(language, workflow.kind) for language in LANGUAGES for workflow in WORKFLOWS]


def track(url: str) -> str:
    return CLICK + quote(url, safe="")


def link_of(kind: str) -> str:
    return f"https://app.example.com/notifications/{kind}"


def render_sample(kind: str, language: str, **overrides: Any) -> Rendered:
    options: dict[str, Any] = {
        # An invitee may have no account, hence no name.
        "recipient_name": None if kind == "workspace_invitation" else RECIPIENT,
        "link": link_of(kind),
        "unsubscribe_url": UNSUBSCRIBE,
        "pixel_url": PIXEL,
        "track": track,
    }
    return render(kind, language, SAMPLES[kind], **(options | overrides))


def digest_items(language: str) -> list[DigestItem]:
    return [
        DigestItem(
            kind="project_changed",
            title=title,
            body=body,
            link=f"https://app.example.com/projects/{number}",
            occurred_at=datetime(2026, 12, 1 + number, 9 + number, 30, tzinfo=UTC),
        )
        for number, (title, body) in enumerate(DIGEST_ITEMS[language], start=1)
    ]


def render_sample_digest(language: str) -> Rendered:
    return render_digest(
        language,
        digest_items(language),
        recipient_name=RECIPIENT,
        link="https://app.example.com/notifications",
        unsubscribe_url=UNSUBSCRIBE,
        pixel_url=PIXEL,
        track=track,
    )


def check_snapshot(path: Path, actual: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path} missing: run with UPDATE_SNAPSHOTS=1"
    assert actual == path.read_text(encoding="utf-8"), f"{path} differs: UPDATE_SNAPSHOTS=1 to accept"


def check_rendered(language: str, kind: str, rendered: Rendered) -> None:
    for line in (rendered.subject, rendered.title, rendered.body):
        assert line and "\n" not in line and line == line.strip()
    summary = (
        f"Subject: {rendered.subject}\nTitle: {rendered.title}\nBody: {rendered.body}\n\n{rendered.text}"
    )
    check_snapshot(SNAPSHOTS / language / f"{kind}.txt", summary)
    check_snapshot(SNAPSHOTS / language / f"{kind}.html", rendered.html)


@pytest.mark.parametrize(("language", "kind"), CASES)
def test_each_kind_renders_as_its_snapshot(language: str, kind: str) -> None:
    check_rendered(language, kind, render_sample(kind, language))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_digest_renders_as_its_snapshot(language: str) -> None:
    check_rendered(language, "digest", render_sample_digest(language))


def test_no_snapshot_is_left_over() -> None:
    expected = {
        f"{language}/{kind}.{extension}"
        for language in LANGUAGES
        for kind in [*BY_KIND, "digest"]
        for extension in ("txt", "html")
    }
    assert {path.relative_to(SNAPSHOTS).as_posix() for path in SNAPSHOTS.rglob("*.*")} == expected


def test_every_workflow_has_a_sample_covering_its_params() -> None:
    assert set(SAMPLES) == set(BY_KIND)
    for workflow in WORKFLOWS:
        assert set(SAMPLES[workflow.kind]) == set(workflow.params), workflow.kind


@pytest.mark.parametrize(("language", "kind"), CASES)
def test_every_declared_param_is_rendered_in_both_email_parts(language: str, kind: str) -> None:
    name = f"{language}/{kind}.jinja"
    assert (TEMPLATES / name).is_file()
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    tree = TEXT_ENVIRONMENT.parse(source, name)
    blocks = {block.name: block for block in tree.find_all(nodes.Block)}
    assert set(BLOCKS) <= set(blocks) <= {*BLOCKS, "reason"}
    # Outside blocks nothing runs: blocks are rendered one by one.
    assert all(isinstance(node, nodes.Block | nodes.Output) for node in tree.body)
    params = set(BY_KIND[kind].params)
    for part in ("text", "html_content"):
        read = {name.name for name in blocks[part].find_all(nodes.Name) if name.ctx == "load"}
        assert params <= read, f"{part} of {name} does not read {params - read}"
    assert meta.find_undeclared_variables(tree) <= params | PROVIDED


EXCERPT = "Try <script>alert(1)</script> & see"


@pytest.mark.parametrize("language", LANGUAGES)
def test_html_escapes_what_the_text_keeps_verbatim(language: str) -> None:
    params = SAMPLES["comment_mention"] | {"excerpt": EXCERPT, "project_title": "A&B <i>"}
    rendered = render("comment_mention", language, params, recipient_name="<b>Eve</b>", link=link_of("x"))
    assert "<script>" not in rendered.html
    assert "<i>" not in rendered.html and "<b>Eve" not in rendered.html
    assert "Try &lt;script&gt;alert(1)&lt;/script&gt; &amp; see" in rendered.html
    assert "A&amp;B &lt;i&gt;" in rendered.html
    assert "&lt;b&gt;Eve&lt;/b&gt;" in rendered.html
    assert f"> {EXCERPT}" in rendered.text
    assert "A&B <i>" in rendered.subject and "A&B <i>" in rendered.text
    assert "<b>Eve</b>" in rendered.text
    assert EXCERPT in rendered.body
    assert "&amp;" not in rendered.text + rendered.subject + rendered.title + rendered.body


def test_lines_stay_single_and_long_excerpts_are_shortened_in_app() -> None:
    params = SAMPLES["comment_mention"] | {"project_title": "Summer\ncampaign", "excerpt": "word " * 100}
    rendered = render("comment_mention", "en", params, recipient_name=None, link=link_of("x"))
    assert rendered.subject == "Léa Moreau mentioned you in “Summer campaign”"
    assert rendered.title == rendered.subject
    assert len(rendered.body) <= 142 and rendered.body.endswith("…”")
    assert rendered.text.startswith("Hello,\n\n")


CRITICAL = [workflow.kind for workflow in WORKFLOWS if workflow.critical]
NOT_CRITICAL = [workflow.kind for workflow in WORKFLOWS if not workflow.critical]
IF_NOT_YOU = {"en": "If this wasn't you", "fr": "Si vous n'êtes pas à l'origine", "de": "Falls Sie das nicht"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", CRITICAL)
def test_critical_mail_has_no_unsubscribe_no_pixel_and_no_tracking(kind: str, language: str) -> None:
    rendered = render_sample(kind, language)
    for part in (rendered.text, rendered.html):
        assert UNSUBSCRIBE not in part
        assert "notify.example.com" not in part
        assert IF_NOT_YOU[language] in part.replace("&#39;", "'")
    assert "<img" not in rendered.html
    assert f'href="{link_of(kind)}"' in rendered.html


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", NOT_CRITICAL)
def test_other_mail_has_unsubscribe_and_pixel_when_given(kind: str, language: str) -> None:
    rendered = render_sample(kind, language)
    assert f'<a href="{UNSUBSCRIBE}"' in rendered.html
    assert UNSUBSCRIBE in rendered.text
    assert rendered.html.count(f'<img src="{PIXEL}" width="1" height="1" alt=""') == 1
    assert IF_NOT_YOU[language] not in rendered.text

    bare = render(kind, language, SAMPLES[kind], recipient_name=RECIPIENT, link=link_of(kind))
    assert "<img" not in bare.html
    assert bare.html.count("<a ") == 1  # the button
    assert "notify.example.com" not in bare.text


def test_track_rewrites_the_cta_and_item_links_but_not_unsubscribe() -> None:
    rendered = render_sample("comment_mention", "en")
    assert f'href="{track(link_of("comment_mention"))}"' in rendered.html
    assert f'href="{link_of("comment_mention")}"' not in rendered.html
    assert f'href="{UNSUBSCRIBE}"' in rendered.html
    assert f"View comment: {link_of('comment_mention')}\n" in rendered.text  # text links stay plain

    digest = render_sample_digest("en")
    for item in digest_items("en"):
        assert f'href="{track(item.link)}"' in digest.html
        assert item.link in digest.text
    assert f'href="{UNSUBSCRIBE}"' in digest.html


def test_unknown_languages_read_english() -> None:
    assert [
        language_of(value) for value in (None, "", "es", "fr", "fr-CA", "de_AT", "DE", "fr-CA,fr;q=0.9")
    ] == ["en", "en", "en", "fr", "fr", "de", "de", "fr"]
    assert render_sample("comment_mention", "es") == render_sample("comment_mention", "en")
    assert render_sample("comment_mention", "fr-BE") == render_sample("comment_mention", "fr")


def test_an_unknown_kind_or_a_missing_param_raises() -> None:
    with pytest.raises(KeyError):
        render("comment_liked", "en", {}, recipient_name=None, link=link_of("x"))
    params = {key: value for key, value in SAMPLES["comment_mention"].items() if key != "excerpt"}
    with pytest.raises(UndefinedError, match="excerpt"):
        render("comment_mention", "en", params, recipient_name=None, link=link_of("x"))
    with pytest.raises(ValueError):
        render_digest("en", [], recipient_name=None, link=link_of("x"))


@pytest.mark.parametrize(
    ("language", "expires", "number", "psi"),
    [
        ("en", "1 December 2026", "12,045 new plays", "PSI 0.31"),
        ("fr", "1er décembre 2026", "12\u202f045 nouvelles écoutes", "PSI de 0,31"),
        ("de", "1. Dezember 2026", "12.045 neue Wiedergaben", "PSI 0,31"),
    ],
)
def test_dates_and_numbers_follow_the_language(language: str, expires: str, number: str, psi: str) -> None:
    def body(kind: str, **params: Any) -> str:
        return render(kind, language, SAMPLES[kind] | params, recipient_name=None, link="x").body

    assert expires in body("workspace_invitation", expires_at=datetime(2026, 12, 1, 12, tzinfo=UTC))
    assert expires in body("workspace_invitation", expires_at="2026-12-01T12:00:00Z")
    assert number in body("library_sync_completed")
    assert psi in body("model_drift")


@pytest.mark.browser
def test_the_mention_email_looks_like_an_email_in_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail("Chromium missing: apt-get install -y chromium")
    from PIL import Image
    from playwright.sync_api import Route, sync_playwright

    html = render_sample("comment_mention", "en", pixel_url=None).html
    requested: list[str] = []

    def offline(route: Route) -> None:
        requested.append(route.request.url)
        route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 800, "height": 600})
            page.route("**/*", offline)
            page.set_content(html, wait_until="load")
            assert "View comment" in page.inner_text("body")
            button = page.get_by_role("link", name="View comment")
            assert button.is_visible()
            assert button.get_attribute("href") == track(link_of("comment_mention"))
            box = button.bounding_box()
            assert box is not None and box["width"] > 80 and box["height"] > 30
            page.screenshot(path=str(SCREENSHOT), full_page=True)

            page.set_viewport_size({"width": 360, "height": 640})  # a phone: nothing sideways
            assert page.evaluate("document.documentElement.scrollWidth") <= 360
        finally:
            browser.close()
    assert requested == []

    with Image.open(SCREENSHOT) as screenshot:
        data = screenshot.convert("RGB").tobytes()
    pixels = list(zip(data[0::3], data[1::3], data[2::3], strict=True))
    inked = sum(1 for red, green, blue in pixels if min(red, green, blue) < 160)
    assert inked > len(pixels) // 100, "the e-mail rendered (nearly) blank"
    green = sum(1 for red, green, blue in pixels if green > 100 and red < 60 and blue < 90)
    assert green > 1500, "no button"


def test_snapshot_html_is_email_safe() -> None:
    for path in SNAPSHOTS.rglob("*.html"):
        html = path.read_text(encoding="utf-8")
        assert not re.search(r"<(script|style|link|iframe|form)\b", html, re.I), path
        assert "max-width:600px" in html, path
        assert re.findall(r"<img\b[^>]*>", html) in (
            [],
            [
                f'<img src="{PIXEL}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;">'
            ],
        ), path


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_in_app_rendering_is_the_mails_title_and_body(language: str) -> None:
    for workflow in WORKFLOWS:
        params = SAMPLES[workflow.kind]
        whole = render(
            workflow.kind, language, params, recipient_name="Camille Laurent", link="https://app.example/x"
        )
        assert render_in_app(workflow.kind, language, params, recipient_name="Camille Laurent") == (
            whole.title,
            whole.body,
        )
