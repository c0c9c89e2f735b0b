"""Every state-changing page route, found by walking the app (so a new form cannot forget it),
refuses a POST that lacks the CSRF token — even from a signed-in admin."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.web.csrf import verify_csrf
from tests.web.pages_support import pages_over_ledger
from tests.web.sessions import sign_in_as, test_user

PAGE_PREFIXES = ("/app", "/portal")


def _calls(dependant: Dependant) -> set[object]:
    found = {dependant.call}
    for child in dependant.dependencies:
        found |= _calls(child)
    return found


def _all_routes(routes: list[object]) -> list[object]:
    """The app's routes, with those of included routers (FastAPI keeps those behind a
    wrapper that holds the original router)."""
    found: list[object] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found.extend(_all_routes(inner.routes) if inner is not None else [route])
    return found


def page_posts(routes: list[object]) -> list[APIRoute]:
    return [
        route
        for route in _all_routes(routes)
        if isinstance(route, APIRoute)
        and route.path.startswith(PAGE_PREFIXES)
        and route.methods & {"POST", "PUT", "PATCH", "DELETE"}
    ]


async def test_every_page_post_depends_on_the_csrf_check_and_refuses_without_it(
    tmp_path: Path,
) -> None:
    async with pages_over_ledger(tmp_path) as pages:
        app = pages.http._transport.app  # type: ignore[attr-defined]
        posts = page_posts(app.routes)
        assert len(posts) >= 15, [route.path for route in posts]  # the walk found the forms
        unguarded = [route.path for route in posts if verify_csrf not in _calls(route.dependant)]
        assert unguarded == []

        sign_in_as(pages.http, pages.settings, test_user("admin"), pages.sessions)
        await pages.http.get("/app/inbox")  # the browser has its CSRF cookie, not the token
        for route in posts:
            path = re.sub(r"\{[^}]+\}", "X-1", route.path)
            response = await pages.http.post(path, data={"anything": "1"})
            assert response.status_code in (403, 404), (route.path, response.status_code)
            if response.status_code == 404:
                # Only the portal answers 404 first: its token is the credential, and an
                # unknown one must not tell a forger anything more.
                assert route.path.startswith("/portal"), route.path
