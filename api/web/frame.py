"""What every page shares: static files, security headers, the language switch, and the
pages for "sign in first", "not for your role" and "form expired"."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from api.web.csrf import CsrfRejected, verify_csrf
from api.web.i18n import LANGUAGE_COOKIE, request_language, supported, translate
from api.web.session import NotAllowed, SignInRequired
from api.web.templating import render

STATIC = Path(__file__).parent / "static"
PAGE_PREFIXES = ("/app", "/portal")

# No inline script or style anywhere (htmx is a file of ours); no framing; and no Referer: a
# portal link carries its token in the path, which must not leak to a payment provider's page.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self' https:; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(include_in_schema=False)


@router.get("/app")
@router.get("/app/")
async def app_home() -> RedirectResponse:
    return RedirectResponse("/app/inbox", status_code=303)


@router.post("/app/language", dependencies=[Depends(verify_csrf)])
async def choose_language(language: str = Form(...), next: str = Form("/app/inbox")) -> Response:
    chosen = supported(language) or "es"
    # Only a path of ours: never an open redirect.
    target = next if next.startswith("/") and not next.startswith("//") else "/app/inbox"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=365 * 86400, samesite="lax", path="/")
    return response


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        if request.url.path.startswith(PAGE_PREFIXES) or request.url.path.startswith("/static"):
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
        return response


def install_pages(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)
    app.include_router(router)

    @app.exception_handler(SignInRequired)
    async def _sign_in_first(_: Request, error: SignInRequired) -> Response:
        return RedirectResponse(f"/app/sign-in?next={quote(error.next_path)}", status_code=303)

    @app.exception_handler(NotAllowed)
    async def _not_for_this_role(request: Request, error: NotAllowed) -> Response:
        request.state.user = error.user
        lang = request_language(request)
        return render(
            request,
            "error.html",
            {
                "title": translate(lang, "error.forbidden.title"),
                "message": translate(
                    lang, "error.forbidden.body", role=translate(lang, f"role.{error.user.role}")
                ),
            },
            status_code=403,
        )

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, _: CsrfRejected) -> Response:
        lang = request_language(request)
        return render(
            request,
            "error.html",
            {
                "title": translate(lang, "error.csrf.title"),
                "message": translate(lang, "error.csrf.body"),
            },
            status_code=403,
        )
