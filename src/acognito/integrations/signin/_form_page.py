"""The built-in pages of the form sign-in (plain HTML, every value escaped), and the
QR code of a TOTP set-up. Apps draw their own through ``form_renderer``."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._forms import FormView

__all__ = ["qr_svg", "render"]


def qr_svg(uri: str) -> str | None:
    """An inline SVG QR code of ``uri`` (None without the ``segno`` package)."""
    try:
        import segno
    except ImportError:
        return None
    svg: str = segno.make(uri, error="m").svg_inline(scale=4, omitsize=False)
    return svg


_TITLES: dict[str, str] = {
    "password": "Sign in",
    "totp_code": "Enter the code from your authenticator app",
    "sms_code": "Enter the code we sent by text message",
    "email_code": "Enter the code we sent by e-mail",
    "totp_setup": "Set up your authenticator app",
    "new_password": "Choose a new password",
    "mfa_choice": "Choose how to confirm it is you",
    "email_setup": "Add an e-mail address for sign-in codes",
    "unsupported": "This sign-in cannot continue here",
}


def render(view: FormView) -> str:
    """The built-in page for ``view``: plain HTML, every value escaped."""
    e = html.escape
    hidden = f'<input type="hidden" name="csrf_token" value="{e(view.csrf_token)}">'
    parts: list[str] = []
    if view.error:
        parts.append(f'<p role="alert" id="error">{e(view.error)}</p>')
    fields: list[str] = []
    if view.kind == "password":
        fields += [
            f'<input type="hidden" name="next" value="{e(view.next)}">',
            '<label for="username">User name</label>'
            f'<input id="username" name="username" autocomplete="username" required '
            f'value="{e(view.username or "")}">',
            '<label for="password">Password</label>'
            '<input id="password" name="password" type="password" '
            'autocomplete="current-password">',
        ]
    elif view.kind in ("totp_code", "sms_code", "email_code", "totp_setup"):
        if view.kind == "totp_setup":
            if view.qr_svg:
                parts.append(f'<div id="qr">{view.qr_svg}</div>')
            parts.append(f'<p>Key: <code id="totp-secret">{e(view.totp_secret or "")}</code></p>')
        if view.destination:
            parts.append(f'<p>Sent to <span id="destination">{e(view.destination)}</span></p>')
        fields.append(
            '<label for="code">Code</label><input id="code" name="code" '
            'inputmode="numeric" autocomplete="one-time-code" required>'
        )
    elif view.kind == "new_password":
        fields.append(
            '<label for="new_password">New password</label><input id="new_password" '
            'name="new_password" type="password" autocomplete="new-password" required>'
        )
        for name in view.required_attributes:
            fields.append(
                f'<label for="attr_{e(name)}">{e(name)}</label>'
                f'<input id="attr_{e(name)}" name="attr_{e(name)}" required>'
            )
    elif view.kind == "mfa_choice":
        for choice in view.choices:
            fields.append(
                f'<label><input type="radio" name="choice" value="{e(choice)}" required> '
                f"{e(choice)}</label>"
            )
    elif view.kind == "email_setup":
        fields.append(
            '<label for="email">E-mail</label>'
            '<input id="email" name="email" type="email" autocomplete="email" required>'
        )
    else:
        parts.append("<p>Sign in another way, or start again.</p>")
    # The first submit button is the one Enter presses: it names the step.
    buttons = (
        f'<button id="submit" type="submit" name="step" value="{e(view.submit)}">Continue</button>'
    )
    if view.kind == "password" and view.email_otp:
        buttons += (
            '<button id="email-code" type="submit" name="step" value="email_code" '
            "formnovalidate>E-mail me a code</button>"
        )
    if view.kind != "password":
        buttons += (
            '<button id="cancel" type="submit" name="step" value="cancel" '
            "formnovalidate>Start again</button>"
        )
    parts.append(
        f'<form method="post" action="{e(view.action)}">{hidden}{"".join(fields)}{buttons}</form>'
    )
    title = e(_TITLES[view.kind])
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><main><h1>{title}</h1>"
        + "".join(parts)
        + "</main></body></html>"
    )
