"""Security headers on every response: pages, the sign-in page, static files, errors."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.helpers import sign_in


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def assert_secure_headers(response) -> None:
    csp = _csp(response)
    script_src = csp.get("script-src", csp.get("default-src"))
    assert script_src == ["'self'"], script_src
    for directive, sources in csp.items():
        assert "'unsafe-inline'" not in sources or directive == "style-src-attr", directive
        assert "'unsafe-eval'" not in sources, directive
        assert not any(s.startswith(("http:", "https:", "*")) for s in sources), directive
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["style-src"] == ["'self'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_signed_in_page_is_secured_and_never_cached(client, personas):
    sign_in(client, personas.cadre_a)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    assert_secure_headers(response)
    assert "no-store" in response["Cache-Control"]


def test_htmx_fragment_is_secured_and_never_cached(client, personas):
    sign_in(client, personas.cadre_a)
    response = client.get(reverse("notifications:bell"), HTTP_HX_REQUEST="true")
    assert_secure_headers(response)
    assert "no-store" in response["Cache-Control"]


def test_sign_in_page_is_secured_and_never_cached(client, db):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert_secure_headers(response)
    # It carries a CSRF token, so a shared cache must not keep it.
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "asset",
    [
        "jindu/app.css",
        "jindu/app.js",
        "vendor/bootstrap/bootstrap.min.css",
        "vendor/htmx/htmx.min.js",
    ],
)
def test_static_files_are_secured(client, db, asset):
    response = client.get(f"/static/{asset}")
    assert response.status_code == 200
    assert_secure_headers(response)
    # Static files are the same for everyone and may be cached.
    assert "no-store" not in response.get("Cache-Control", "")


def test_404_page_is_secured(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_secure_headers(response)


def test_404_for_a_signed_in_user_is_never_cached(client, personas):
    sign_in(client, personas.cadre_a)
    response = client.get("/no-such-page/")
    assert_secure_headers(response)
    assert "no-store" in response["Cache-Control"]


def test_health_check_is_secured(client, db):
    response = client.get(reverse("portal:healthz"))
    assert response.status_code == 200
    assert_secure_headers(response)


def test_header_check_catches_an_inline_script_policy():
    from django.http import HttpResponse

    response = HttpResponse()
    response["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self'; "
        "object-src 'none'; frame-ancestors 'none'"
    )
    response["X-Frame-Options"] = "DENY"
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "same-origin"
    with pytest.raises(AssertionError):
        assert_secure_headers(response)
