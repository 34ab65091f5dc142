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

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

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
from ._form_page import qr_svg, render
from ._http import (
    WebAnswer,
    WebRequest,
    forbidden,
    redirect,
    safe_next,
    same_origin,
    unavailable,
)
from ._userpool import tokens_of

if TYPE_CHECKING:
    from ...cognito import AsyncCognito
    from ...context import UserContext
    from ._core import ServerSignIn

__all__ = ["FormFlow", "FormView"]

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
#: The form field that carries the encoded data of Cognito's JavaScript collector
#: (``AmazonCognitoAdvancedSecurityData.getData(username, userPoolId, clientId)``).
CONTEXT_FIELD = "cognito_context_data"
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
    the ``segno`` package), :attr:`totp_secret` and :attr:`totp_uri`. A hidden field
    named :attr:`context_field`, filled by Cognito's JavaScript collector, passes the
    user's encoded context data on to Cognito (threat protection).
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
    context_field: str = CONTEXT_FIELD
    totp_secret: str | None = field(default=None, repr=False)
    totp_uri: str | None = field(default=None, repr=False)
    qr_svg: str | None = field(default=None, repr=False)


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
            or not constant_time_equal(
                str(form.get("csrf_token", "")), signin.cookies.form_token(binding)
            )
        ):
            return forbidden()
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
        cognito.user_context = self._context(request, form)
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
            return unavailable("The sign-in service did not answer; try again.")
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
        cognito.user_context = self._context(request, form)
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
            return unavailable("The sign-in service did not answer; try again.")
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
            return unavailable()
        answer = redirect(self.path, status=303)
        answer.cookies.append(self.signin.binding_cookie(binding))
        return answer

    def _context(self, request: WebRequest, form: Mapping[str, str]) -> UserContext:
        """The user's context for the calls this request makes (threat protection)."""
        encoded = form.get(CONTEXT_FIELD) or None
        if encoded is not None and len(encoded) > 32 * 1024:
            encoded = None
        return self.signin.user_context(request, encoded)

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
            csrf_token=self.signin.cookies.form_token(binding),
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
