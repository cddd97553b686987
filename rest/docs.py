"""Swagger UI and ReDoc for the REST API, with their assets served by Broadsheet itself."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from service.http_safety import content_security_policy

router = APIRouter(include_in_schema=False)
VENDOR = "/static/vendor"
FAVICON = "/static/favicon.svg"


def _with_policy(response: HTMLResponse) -> HTMLResponse:
    page = bytes(response.body).decode()
    response.headers["Content-Security-Policy"] = content_security_policy(page)
    return response


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return _with_policy(
        get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Broadsheet REST API",
            swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui.css",
            swagger_favicon_url=FAVICON,
            # Swagger UI would otherwise ask validator.swagger.io about the document.
            swagger_ui_parameters={"validatorUrl": None},
        )
    )


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return _with_policy(
        get_redoc_html(
            openapi_url="/openapi.json",
            title="Broadsheet REST API",
            redoc_js_url=f"{VENDOR}/redoc.standalone.js",
            redoc_favicon_url=FAVICON,
            with_google_fonts=False,
        )
    )
