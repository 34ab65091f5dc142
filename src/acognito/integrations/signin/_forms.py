"""The server-rendered sign-in: a form flow over the typed steps, without managed login.

One path (``form_path``) serves every page. GET shows the password form, or the step
the browser's pending sign-in waits on; POST answers it (``action``: ``password``,
``email_code`` (sign in with an e-mailed code), ``answer``, ``cancel``). Each step's
record (:class:`~acognito.flows.PendingSignIn`: Cognito's challenge session, a TOTP
set-up key) is kept in the store under the browser's login cookie, never in a cookie,
so any worker continues it on a fresh :class:`~acognito.AsyncCognito` session
(``resume_sign_in`` then ``confirm_sign_in``). Progress answers 303 back to the form
(post/redirect/get); a refusal re-renders the step with a message. Pages are rendered
by a ``renderer`` (a :class:`FormView` -> HTML: your templates), or a plain built-in one.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..._lazy import Lazy
from ..._secret import constant_time_equal
from ...errors import (
    CodeMismatchError,
    CognitoConnectionError,
    CognitoServiceError,
    ConfigurationError,
    EnableSoftwareTokenMFAError,
    ExpiredCodeError,
    InvalidPasswordError,
    NotAuthorizedError,
    PasswordResetRequiredError,
    SessionClosedError,
    UserNotConfirmedError,
    UserNotFoundError,
)
from ...steps import (
    ConfirmSignInWithEmailCode,
    ConfirmSignInWithNewPassword,
    ConfirmSignInWithPassword,
    ConfirmSignInWithSMSCode,
    ConfirmSignInWithTOTPCode,
    ContinueSignInWithEmailSetup,
    ContinueSignInWithMFASelection,
    ContinueSignInWithMFASetupSelection,
    ContinueSignInWithTOTPSetup,
    Done,
    SignInStep,
    totp_uri,
)
from ._cookies import new_id
from ._http import WebAnswer, WebRequest, redirect, safe_next, same_origin

if TYPE_CHECKING:
    from ...cognito import AsyncCognito
    from ._core import ServerSignIn

__all__ = ["FormFlow", "FormView", "UserPoolAccess", "render"]

log = logging.getLogger("acognito.integrations.signin")

#: What a sign-in page asks for.
FormKind = Literal[
    "password",
    "totp_code",
    "sms_code",
    "email_code",
    "totp_setup",
    "new_password",
    "mfa_choice",
    "email_setup",
    "unsupported",
]
_MAX_FIELD = 512
_SIGN_IN_FLOWS = ("USER_SRP_AUTH", "USER_PASSWORD_AUTH")


@dataclass(frozen=True)
class FormView:
    """One page of the sign-in form, for a template.

    ``kind`` says what to ask; ``action`` is the URL to POST to, with the hidden field
    ``csrf_token`` (and ``next`` on the first page) and a submit button named ``step``
    whose value is :attr:`submit` (``"password"`` or ``"answer"``). The fields asked for are
    ``username`` and ``password`` (``password``; ``email_otp`` offers a second submit
    with ``step=email_code``), ``code`` (``*_code`` and ``totp_setup``),
    ``new_password`` and ``attr_<name>`` for each of :attr:`required_attributes`,
    ``choice`` (one of :attr:`choices`), ``email`` (``email_setup``). A ``cancel``
    submit (``step=cancel``) starts over. ``totp_setup`` shows :attr:`qr_svg` (with
    the ``segno`` package), :attr:`totp_secret` and :attr:`totp_uri`.
    """

    kind: FormKind
    action: str
    csrf_token: str = field(repr=False)
    submit: str = "answer"
    error: str | None = None
    username: str | None = None
    next: str = "/"
    destination: str | None = None
    choices: tuple[str, ...] = ()
    required_attributes: tuple[str, ...] = ()
    email_otp: bool = False
    totp_secret: str | None = field(default=None, repr=False)
    totp_uri: str | None = field(default=None, repr=False)
    qr_svg: str | None = field(default=None, repr=False)


# --------------------------------------------------------------------------- user pool


class UserPoolAccess:
    """The user-pool API for server sign-in: one parent :class:`~acognito.AsyncCognito`
    (made on first use, on the loop that serves the app), a child session per request."""

    def __init__(
        self,
        user_pool_id: str,
        client_id: str,
        *,
        client_secret: str | None,
        options: Mapping[str, Any],
    ) -> None:
        self._args = (user_pool_id, client_id)
        self._kwargs = {k: v for k, v in options.items() if v is not None}
        if client_secret is not None:
            self._kwargs["client_secret"] = client_secret
        self._parent: Lazy[AsyncCognito] = Lazy(
            self._make, dispose=_close, closed_error=lambda: SessionClosedError("closed")
        )

    async def _make(self) -> AsyncCognito:
        from ...cognito import AsyncCognito

        return AsyncCognito(*self._args, **self._kwargs)

    async def session(
        self, username: str | None = None, *, refresh_token: str | None = None
    ) -> AsyncCognito:
        """A child session of the parent (shares its client, connections and keys)."""
        parent = await self._parent.get()
        return parent.for_user(username, refresh_token=refresh_token)

    async def refresh(self, refresh_token: str, username: str) -> dict[str, Any]:
        """New tokens from ``refresh_token`` (the user's pool user name: SECRET_HASH)."""
        child = await self.session(username or None, refresh_token=refresh_token)
        try:
            await child.renew_access_token()
            return tokens_of(child)
        finally:
            await child.aclose()

    async def revoke(self, refresh_token: str) -> None:
        """Revoke ``refresh_token`` (RevokeToken) and the tokens issued from it."""
        child = await self.session(refresh_token=refresh_token)
        try:
            await child.revoke_token()
        finally:
            await child.aclose()

    async def aclose(self) -> None:
        await self._parent.aclose()


async def _close(cognito: AsyncCognito) -> None:
    await cognito.aclose()


def tokens_of(cognito: AsyncCognito) -> dict[str, Any]:
    """A session record's token fields from a signed-in session."""
    tokens = cognito.tokens
    claims = cognito.access_claims or {}
    return {
        "access_token": tokens.access_token,
        "id_token": tokens.id_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": tokens.expires_at_timestamp or 0.0,
        "username": claims.get("username") or cognito.username,
    }


# --------------------------------------------------------------------------- the flow


class FormFlow:
    """The server-rendered sign-in of one :class:`~._core.ServerSignIn`."""

    def __init__(
        self,
        signin: ServerSignIn,
        *,
        auth_flow: str = "USER_SRP_AUTH",
        email_otp: bool = False,
        totp_issuer: str | None = None,
        renderer: Callable[[FormView], str] | None = None,
    ) -> None:
        if auth_flow not in _SIGN_IN_FLOWS:
            raise ConfigurationError(f"auth_flow must be one of {', '.join(_SIGN_IN_FLOWS)}")
        if renderer is not None and not callable(renderer):
            raise ConfigurationError("form_renderer must be callable (a FormView -> HTML)")
        self.signin = signin
        self.auth_flow = auth_flow
        self.email_otp = bool(email_otp)
        self.totp_issuer = totp_issuer
        self.renderer = renderer or render
        assert signin.form_path is not None
        self.path = signin.form_path

    # ------------------------------------------------------------------ entry

    async def handle(self, request: WebRequest) -> WebAnswer:
        if request.method in ("GET", "HEAD"):
            return await self.show(request)
        if request.method != "POST":
            return WebAnswer(405, [("Allow", "GET, POST")], body=b"Method Not Allowed")
        signin = self.signin
        binding = signin.browser_binding(request)
        form = request.form or {}
        if (
            binding is None
            or not same_origin(request, signin.allowed_origins)
            or not constant_time_equal(str(form.get("csrf_token", "")), signin.form_token(binding))
        ):
            from ._core import _forbidden

            return _forbidden()
        step = form.get("step")
        if step in ("password", "email_code"):
            return await self.start(request, binding, form, email_code=step == "email_code")
        if step == "answer":
            return await self.answer(request, binding, form)
        if step == "cancel":
            await signin.sessions.drop_pending(binding)
            return redirect(self.path, status=303)
        return await self.page(binding, "password", status=400, error="Unknown step.")

    async def show(self, request: WebRequest) -> WebAnswer:
        """GET: the step this browser's sign-in waits on, or the password form."""
        binding = self.signin.browser_binding(request) or new_id()
        saved = await self.signin.sessions.load_pending(binding)
        if isinstance(saved, dict):
            return await self.step_page(binding, saved)
        target = safe_next(request.single("next"), self.signin.after_login)
        return await self.page(binding, "password", next_=target)

    # ------------------------------------------------------------------ steps

    async def start(
        self,
        request: WebRequest,
        binding: str,
        form: Mapping[str, str],
        *,
        email_code: bool,
    ) -> WebAnswer:
        username = _field(form, "username")
        password = _field(form, "password")
        target = safe_next(form.get("next"), self.signin.after_login)
        if not username or (not password and not email_code) or (email_code and not self.email_otp):
            return await self.page(
                binding, "password", status=400, error="Enter your user name and password."
            )
        cognito = await self.signin.cognito.session(username)
        try:
            if email_code:
                step = await cognito.sign_in(
                    username,
                    auth_flow="USER_AUTH",
                    preferred_first_factor="EMAIL_OTP",
                    totp_issuer=self.totp_issuer,
                )
            else:
                step = await cognito.sign_in(
                    username,
                    password,
                    auth_flow=self.auth_flow,  # type: ignore[arg-type]
                    totp_issuer=self.totp_issuer,
                )
            return await self.progress(request, binding, cognito, step, target)
        except (NotAuthorizedError, UserNotFoundError):
            error = "Incorrect user name or password."
        except PasswordResetRequiredError:
            error = "Your password must be reset before you can sign in."
        except UserNotConfirmedError:
            error = "Confirm your account before you sign in."
        except CognitoConnectionError:
            from ._core import _unavailable

            return _unavailable("The sign-in service did not answer; try again.")
        except CognitoServiceError as exc:
            log.info("form sign-in refused: %s", type(exc).__name__)
            error = "The sign-in could not be completed."
        finally:
            await cognito.aclose()
        return await self.page(binding, "password", status=400, error=error, next_=target)

    async def answer(self, request: WebRequest, binding: str, form: Mapping[str, str]) -> WebAnswer:
        from ...flows import PendingSignIn

        sessions = self.signin.sessions
        saved = await sessions.load_pending(binding)
        if not isinstance(saved, dict):
            return await self.page(
                binding, "password", status=400, error="This sign-in expired; start again."
            )
        try:
            record = PendingSignIn.from_dict(saved["pending"])
        except (ConfigurationError, KeyError, TypeError):
            await sessions.drop_pending(binding)
            return await self.page(binding, "password", status=400, error="Start again.")
        target = safe_next(str(saved.get("next", "")), self.signin.after_login)
        cognito = await self.signin.cognito.session(record.username)
        try:
            step = cognito.resume_sign_in(record)
            value, extra = _answer_for(step, form)
            if value is None:
                return await self.step_page(binding, saved, error="Fill in the form.", status=400)
            following = await cognito.confirm_sign_in(value, **extra)
            return await self.progress(request, binding, cognito, following, target)
        except (CodeMismatchError, EnableSoftwareTokenMFAError):
            error = "That code is not right; try again."
        except InvalidPasswordError:
            error = "That password does not meet the rules; choose another."
        except (NotAuthorizedError, ExpiredCodeError):
            await sessions.drop_pending(binding)
            return await self.page(
                binding, "password", status=400, error="This sign-in expired; start again."
            )
        except CognitoConnectionError:
            from ._core import _unavailable

            return _unavailable("The sign-in service did not answer; try again.")
        except CognitoServiceError as exc:
            log.info("form sign-in step refused: %s", type(exc).__name__)
            error = "The sign-in could not be completed."
        finally:
            still = cognito.pending_sign_in
            await cognito.aclose()
        if still is not None:  # the step stays: keep its (possibly renewed) record
            saved = {**saved, "pending": still.to_dict()}
            await sessions.save_pending(binding, saved)
        return await self.step_page(binding, saved, error=error, status=400)

    async def progress(
        self,
        request: WebRequest,
        binding: str,
        cognito: AsyncCognito,
        step: SignInStep,
        target: str,
    ) -> WebAnswer:
        """Signed in: a new session. Otherwise the step's record goes to the store and
        the browser comes back for the next page."""
        sessions = self.signin.sessions
        if isinstance(step, Done):
            await sessions.drop_pending(binding)
            return await self.signin.start_session(request, tokens_of(cognito), "idp", target)
        record = cognito.pending_sign_in
        if record is None:  # pragma: no cover - a step always leaves its record
            return await self.page(binding, "password", status=400, error="Start again.")
        saved = {"pending": record.to_dict(), "next": target}
        if not await sessions.save_pending(binding, saved):
            from ._core import _unavailable

            return _unavailable()
        answer = redirect(self.path, status=303)
        answer.cookies.append(self.signin.binding_cookie(binding))
        return answer

    # ------------------------------------------------------------------ pages

    async def step_page(
        self,
        binding: str,
        saved: Mapping[str, Any],
        *,
        error: str | None = None,
        status: int = 200,
    ) -> WebAnswer:
        from ...flows import PendingSignIn

        try:
            record = PendingSignIn.from_dict(saved["pending"])
        except (ConfigurationError, KeyError, TypeError):
            return await self.page(binding, "password", status=400, error="Start again.")
        step = record.step
        kind, extra = _view_of(step, record.username)
        if isinstance(step, ContinueSignInWithTOTPSetup):
            uri = totp_uri(step.secret, account_name=step.account_name, issuer=step.issuer)
            extra.update(totp_secret=step.secret, totp_uri=uri, qr_svg=qr_svg(uri))
        return await self.page(
            binding, kind, status=status, error=error, username=record.username, **extra
        )

    async def page(
        self,
        binding: str,
        kind: FormKind,
        *,
        status: int = 200,
        error: str | None = None,
        next_: str | None = None,
        **fields: Any,
    ) -> WebAnswer:
        view = FormView(
            kind=kind,
            action=self.path,
            csrf_token=self.signin.form_token(binding),
            submit="password" if kind == "password" else "answer",
            error=error,
            next=next_ or self.signin.after_login,
            email_otp=self.email_otp,
            **fields,
        )
        body = self.renderer(view).encode("utf-8")
        return WebAnswer(
            status,
            [("Cache-Control", "no-store"), ("X-Frame-Options", "DENY")],
            cookies=[self.signin.binding_cookie(binding)],
            body=body,
            content_type="text/html; charset=utf-8",
        )


def _field(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if name != "password" else value[:_MAX_FIELD]


def _view_of(step: SignInStep | None, username: str) -> tuple[FormKind, dict[str, Any]]:
    delivery = getattr(step, "code_delivery", None)
    destination = getattr(delivery, "destination", None)
    if isinstance(step, ConfirmSignInWithTOTPCode):
        return "totp_code", {}
    if isinstance(step, ConfirmSignInWithSMSCode):
        return "sms_code", {"destination": destination}
    if isinstance(step, ConfirmSignInWithEmailCode):
        return "email_code", {"destination": destination}
    if isinstance(step, ContinueSignInWithTOTPSetup):
        return "totp_setup", {}
    if isinstance(step, ConfirmSignInWithNewPassword):
        return "new_password", {"required_attributes": tuple(step.required_attributes)}
    if isinstance(step, (ContinueSignInWithMFASelection, ContinueSignInWithMFASetupSelection)):
        return "mfa_choice", {"choices": tuple(step.allowed)}
    if isinstance(step, ContinueSignInWithEmailSetup):
        return "email_setup", {}
    if isinstance(step, ConfirmSignInWithPassword):
        return "password", {}
    return "unsupported", {}


def _answer_for(step: SignInStep, form: Mapping[str, str]) -> tuple[str | None, dict[str, Any]]:
    """The ``confirm_sign_in`` answer (and keyword arguments) a form gives ``step``."""
    if isinstance(
        step,
        (
            ConfirmSignInWithTOTPCode,
            ConfirmSignInWithSMSCode,
            ConfirmSignInWithEmailCode,
            ContinueSignInWithTOTPSetup,
        ),
    ):
        code = "".join(_field(form, "code").split())
        return (code or None), {}
    if isinstance(step, ConfirmSignInWithNewPassword):
        password = form.get("new_password", "")[:_MAX_FIELD]
        attributes = {
            name: _field(form, f"attr_{name}")
            for name in step.required_attributes
            if _field(form, f"attr_{name}")
        }
        return (password or None), ({"attributes": attributes} if attributes else {})
    if isinstance(step, (ContinueSignInWithMFASelection, ContinueSignInWithMFASetupSelection)):
        choice = _field(form, "choice")
        return (choice if choice in step.allowed else None), {}
    if isinstance(step, ContinueSignInWithEmailSetup):
        return (_field(form, "email") or None), {}
    if isinstance(step, ConfirmSignInWithPassword):
        return (form.get("password", "")[:_MAX_FIELD] or None), {}
    return None, {}


def qr_svg(uri: str) -> str | None:
    """An inline SVG QR code of ``uri`` (None without the ``segno`` package)."""
    try:
        import segno
    except ImportError:
        return None
    svg: str = segno.make(uri, error="m").svg_inline(scale=4, omitsize=False)
    return svg


# --------------------------------------------------------------------------- built-in page

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
