"""The HTTP routes mail links lead to, beside /graphql: `/unsubscribe` (GET shows a
confirmation with a button, POST unsubscribes: what RFC 8058 mail clients send, no login),
`/open` (the 1x1 pixel) and `/click` (a redirect to the link the platform put in the mail). A
forged, altered or expired link gets a plain 400 page, never a redirect."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from shared.errors import BadUserInput
from shared.runtime import SubgraphRuntime
from subgraphs.notifications.config import NotificationsServices, NotificationsSettings
from subgraphs.notifications.service import tracking
from subgraphs.notifications.service.links import LinkSigner

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
CATEGORY_NAMES = {
    "mentions": "mentions",
    "comments": "comment replies",
    "invitations": "invitations",
    "membership": "membership changes",
    "projects": "project updates",
    "jobs": "job results",
    "reports": "reports",
    "models": "model alerts",
}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
        f"<title>{escape(title)}</title><body style='font-family:system-ui,sans-serif;max-width:32rem;"
        f"margin:4rem auto;padding:0 1rem;color:#222'><h1 style='font-size:1.4rem'>{escape(title)}</h1>"
        f"{body}</body></html>"
    )
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            **NO_STORE,
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        },
    )


def _invalid(error: BadUserInput) -> HTMLResponse:
    return _page("This link does not work", f"<p>{escape(str(error))}. Nothing was changed.</p>", 400)


def routes(runtime: SubgraphRuntime[NotificationsSettings, NotificationsServices]) -> Sequence[BaseRoute]:
    links = LinkSigner.from_settings(runtime.settings, runtime.config.public_url(runtime.settings))
    db = runtime.db

    async def confirm_unsubscribe(request: Request) -> Response:
        token = request.query_params.get("t", "")
        try:
            found = tracking.unsubscription(links, token)
        except BadUserInput as error:
            return _invalid(error)
        name = CATEGORY_NAMES.get(found.category.value, found.category.value)
        form = (
            f"<p>Stop e-mails about {escape(name)}? You will still see them in the app, and you can turn "
            "them back on in your notification preferences.</p>"
            f"<form method=post action='?t={escape(token)}'>"
            "<input type=hidden name=List-Unsubscribe value=One-Click>"
            "<button type=submit style='font-size:1rem;padding:.5rem 1rem'>Unsubscribe</button></form>"
        )
        return _page("Unsubscribe", form)

    async def unsubscribe(request: Request) -> Response:
        try:
            found = await tracking.unsubscribe(db, links, request.query_params.get("t", ""))
        except BadUserInput as error:
            return _invalid(error)
        name = CATEGORY_NAMES.get(found.category.value, found.category.value)
        return _page("You are unsubscribed", f"<p>No more e-mails about {escape(name)}.</p>")

    async def opened(request: Request) -> Response:
        try:
            await tracking.opened(db, links, request.query_params.get("t", ""))
        except BadUserInput:
            pass  # a pixel answers the same either way: mail clients show nothing
        return Response(PIXEL, media_type="image/gif", headers=NO_STORE)

    async def clicked(request: Request) -> Response:
        try:
            target = await tracking.clicked(db, links, request.query_params.get("t", ""))
        except BadUserInput as error:
            return _invalid(error)
        return RedirectResponse(target, status_code=302, headers=NO_STORE)

    return [
        Route("/unsubscribe", confirm_unsubscribe, methods=["GET"]),
        Route("/unsubscribe", unsubscribe, methods=["POST"]),
        Route("/open", opened, methods=["GET"]),
        Route("/click", clicked, methods=["GET"]),
    ]
