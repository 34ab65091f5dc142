"""The sign-in state machine over InitiateAuth / RespondToAuthChallenge.

A :class:`SignIn` starts a flow and answers every challenge it can answer by itself
(SRP's PASSWORD_VERIFIER, remembered-device SRP, a SELECT_CHALLENGE it has the password
for, custom challenges through a callback) until Cognito returns tokens. A challenge
only the user can answer (an MFA code, a new password) ends the run with a
:class:`Challenge`: plain data, what is needed to continue, possibly in another process.

It also makes the two calls MFA set-up needs inside a sign-in (AssociateSoftwareToken and
VerifySoftwareToken with the challenge session): every sign-in request goes through here.

SECRET_HASH is computed over what the user typed on the first step only; every later
step uses the pool's own user name (``USER_ID_FOR_SRP`` / ``USERNAME`` from the
challenge), which is what Cognito checks it against.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from .. import srp
from .._secret import secret_hash
from .._threads import run_cpu
from ..devices import DeviceCredentials
from ..errors import (
    ConfigurationError,
    EnableSoftwareTokenMFAError,
    SRPError,
    UnsupportedChallengeError,
)

__all__ = [
    "MAX_STEPS",
    "Caller",
    "Challenge",
    "CustomAnswer",
    "Outcome",
    "SignIn",
    "password_verifier_responses",
]

#: A CUSTOM_CHALLENGE answerer: gets the challenge parameters, returns the answer.
CustomAnswer = Callable[[Mapping[str, str]], str | Awaitable[str]]

#: How many challenge round trips one sign-in may take before we call it a loop.
MAX_STEPS = 12


class Caller(Protocol):
    """Where the machine sends its requests: ``acognito._idp.IdpClient``, or a session
    (every user-facing request of a session then passes one place)."""

    async def call(self, operation: str, **params: Any) -> dict[str, Any]: ...


@dataclass(frozen=True, repr=False)
class Challenge:
    """A challenge only the user can answer: where a run of the machine stops.

    ``username`` is the pool's own user name for the rest of the sign-in (what
    SECRET_HASH goes over); ``session`` is Cognito's opaque challenge session (never
    shown by ``repr``). For SELECT_CHALLENGE, ``parameters["AvailableChallenges"]``
    lists the offered factors, comma-separated.
    """

    name: str
    session: str | None = field(default=None, repr=False)
    parameters: Mapping[str, str] = field(default_factory=dict)
    username: str | None = None
    admin: bool = False

    def __repr__(self) -> str:
        return f"Challenge(name={self.name!r}, username={self.username!r})"


#: What a run of the machine ends with: Cognito's answer with ``AuthenticationResult``
#: (tokens, and ``NewDeviceMetadata`` when the pool tracks devices), or a
#: :class:`Challenge` for the user.
Outcome = dict[str, Any] | Challenge


def _now_timestamp() -> str:
    return srp.cognito_timestamp(datetime.now(timezone.utc))


def _hex(value: int) -> str:
    return format(value, "x")


async def password_verifier_responses(
    *, pool_id: str, password: str, small_a: int, parameters: Mapping[str, str]
) -> dict[str, str]:
    """PASSWORD_VERIFIER's ChallengeResponses (SRP's proof of the password), without the
    SECRET_HASH and DEVICE_KEY that :meth:`SignIn.challenge_responses` adds.

    The proof is over ``USER_ID_FOR_SRP`` (what the verifier was made with); the answer
    names the user by the challenge's ``USERNAME``. The math runs in a worker thread.
    Raises :class:`~acognito.errors.SRPError` for a malformed or unsafe challenge.
    """
    try:
        user_id = parameters["USER_ID_FOR_SRP"]
        srp_b, salt, block = parameters["SRP_B"], parameters["SALT"], parameters["SECRET_BLOCK"]
    except KeyError as exc:
        raise SRPError(f"PASSWORD_VERIFIER lacks {exc.args[0]}") from None
    timestamp = _now_timestamp()
    signature = await run_cpu(
        _password_signature, pool_id, user_id, password, small_a, srp_b, salt, block, timestamp
    )
    return {
        "USERNAME": parameters.get("USERNAME") or user_id,
        "PASSWORD_CLAIM_SECRET_BLOCK": block,
        "PASSWORD_CLAIM_SIGNATURE": signature,
        "TIMESTAMP": timestamp,
    }


class SignIn:
    """One sign-in attempt. Create it, call one ``start_*`` coroutine, read the outcome.

    Every ``start_*`` / ``continue_with`` / ``select_password_factor`` returns an
    :data:`Outcome`: Cognito's answer with tokens, or the :class:`Challenge` the user
    must answer. ``pool_username`` is learned on the way. Service errors raise the
    typed :class:`~acognito.errors.CognitoServiceError` subclass.
    """

    def __init__(
        self,
        idp: Caller,
        *,
        user_pool_id: str,
        client_id: str,
        client_secret: str | None = None,
        device: DeviceCredentials | None = None,
        client_metadata: Mapping[str, str] | None = None,
        custom_answer: CustomAnswer | None = None,
        admin: bool = False,
    ) -> None:
        self._idp = idp
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self._client_secret = client_secret
        self.device = device
        self.client_metadata = dict(client_metadata) if client_metadata else None
        self.custom_answer = custom_answer
        self.admin = admin
        self.pool_username: str | None = None
        self._password: str | None = None
        self._small_a: int | None = None

    # ------------------------------------------------------------------ builders

    def auth_parameters(self, username: str, **extra: str) -> dict[str, str]:
        """InitiateAuth's AuthParameters: USERNAME, SECRET_HASH (with a client secret),
        DEVICE_KEY (with a remembered device) and ``extra``."""
        return {"USERNAME": username, **self._hash(username), **self._device_param(), **extra}

    def challenge_responses(self, username: str, responses: Mapping[str, str]) -> dict[str, str]:
        """ChallengeResponses: USERNAME, SECRET_HASH and DEVICE_KEY, then ``responses``
        (whose own USERNAME, when given, names the user)."""
        name = responses.get("USERNAME") or username
        return {"USERNAME": name, **self._hash(name), **self._device_param(), **responses}

    def _hash(self, username: str) -> dict[str, str]:
        if self._client_secret is None:
            return {}
        return {"SECRET_HASH": secret_hash(username, self.client_id, self._client_secret)}

    def _device_param(self) -> dict[str, str]:
        return {"DEVICE_KEY": self.device.device_key} if self.device else {}

    async def _srp_a(self) -> str:
        self._small_a = srp.generate_small_a()
        big_a = await run_cpu(srp.calculate_a, self._small_a)
        return _hex(big_a)

    # ------------------------------------------------------------------ the wire

    def _common(self, call: dict[str, Any], session: str | None) -> dict[str, Any]:
        if session:
            call["Session"] = session
        if self.client_metadata:
            call["ClientMetadata"] = self.client_metadata
        if self.admin:
            call["UserPoolId"] = self.user_pool_id
        return call

    async def _initiate(
        self, flow: str, params: dict[str, str], session: str | None = None
    ) -> dict[str, Any]:
        call = {"ClientId": self.client_id, "AuthFlow": flow, "AuthParameters": params}
        operation = "admin_initiate_auth" if self.admin else "initiate_auth"
        return await self._idp.call(operation, **self._common(call, session))

    async def respond(
        self, challenge: str, session: str | None, responses: Mapping[str, str]
    ) -> dict[str, Any]:
        """Answer one challenge; USERNAME, SECRET_HASH and DEVICE_KEY are added here."""
        username = responses.get("USERNAME") or self.pool_username
        if not username:
            raise ConfigurationError("a username is needed to answer the challenge")
        call = {
            "ClientId": self.client_id,
            "ChallengeName": challenge,
            "ChallengeResponses": self.challenge_responses(username, responses),
        }
        operation = "admin_respond_to_auth_challenge" if self.admin else "respond_to_auth_challenge"
        return await self._idp.call(operation, **self._common(call, session))

    # ------------------------------------------------------------------ starts

    async def start_srp(self, username: str, password: str) -> Outcome:
        """USER_SRP_AUTH: the password never leaves this process."""
        self._password = password
        params = self.auth_parameters(username, SRP_A=await self._srp_a())
        return await self._drive(await self._initiate("USER_SRP_AUTH", params), username)

    async def start_password(self, username: str, password: str) -> Outcome:
        """USER_PASSWORD_AUTH (or ADMIN_USER_PASSWORD_AUTH when ``admin``): the password is
        sent to Cognito over TLS."""
        self._password = password
        params = self.auth_parameters(username, PASSWORD=password)
        flow = "ADMIN_USER_PASSWORD_AUTH" if self.admin else "USER_PASSWORD_AUTH"
        return await self._drive(await self._initiate(flow, params), username)

    async def start_custom(self, username: str, password: str | None = None) -> Outcome:
        """CUSTOM_AUTH, with an SRP password check first when ``password`` is given."""
        params = self.auth_parameters(username)
        if password is not None:
            self._password = password
            params.update(CHALLENGE_NAME="SRP_A", SRP_A=await self._srp_a())
        return await self._drive(await self._initiate("CUSTOM_AUTH", params), username)

    async def start_user_auth(
        self, username: str, password: str, *, preferred: str | None = "PASSWORD_SRP"
    ) -> Outcome:
        """USER_AUTH (choice-based sign-in) with a password: PASSWORD_SRP or PASSWORD.

        With ``preferred=None`` Cognito answers SELECT_CHALLENGE with the challenges
        the user may choose; PASSWORD_SRP is picked when offered, then PASSWORD.
        """
        if preferred not in ("PASSWORD_SRP", "PASSWORD", None):
            raise ConfigurationError("preferred must be 'PASSWORD_SRP', 'PASSWORD' or None")
        self._password = password
        params = self.auth_parameters(username)
        if preferred is not None:
            params["PREFERRED_CHALLENGE"] = preferred
        if preferred == "PASSWORD_SRP":
            params["SRP_A"] = await self._srp_a()
        elif preferred == "PASSWORD":
            params["PASSWORD"] = password
        return await self._drive(await self._initiate("USER_AUTH", params), username)

    async def start_user_auth_factor(self, username: str, preferred: str | None = None) -> Outcome:
        """USER_AUTH without a password: a passwordless first factor (EMAIL_OTP, SMS_OTP,
        WEB_AUTHN) when ``preferred``, else Cognito's SELECT_CHALLENGE comes back as it
        is, with the offered factors in ``parameters["AvailableChallenges"]``."""
        params = self.auth_parameters(username)
        if preferred is not None:
            params["PREFERRED_CHALLENGE"] = preferred
        return await self._drive(await self._initiate("USER_AUTH", params), username)

    async def start_user_auth_session(self, username: str, session: str) -> Outcome:
        """USER_AUTH with the session ConfirmSignUp returned: the sign-up code already
        proved the user, so no password or code is sent again (sign-in after sign-up)."""
        params = self.auth_parameters(username)
        return await self._drive(await self._initiate("USER_AUTH", params, session), username)

    async def select_password_factor(
        self, session: str | None, password: str, *, username: str, srp: bool = True
    ) -> Outcome:
        """Answer a pending SELECT_CHALLENGE with the user's password (PASSWORD_SRP when
        ``srp``, else PASSWORD), then go on."""
        self._password = password
        self.pool_username = username
        if srp:
            answer = {"ANSWER": "PASSWORD_SRP", "SRP_A": await self._srp_a()}
        else:
            answer = {"ANSWER": "PASSWORD", "PASSWORD": password}
        return await self._drive(await self.respond("SELECT_CHALLENGE", session, answer), username)

    async def continue_with(
        self, challenge: str, session: str | None, responses: Mapping[str, str], *, username: str
    ) -> Outcome:
        """Answer a challenge the user answered (an MFA code, a new password), then go on."""
        self.pool_username = username
        return await self._drive(await self.respond(challenge, session, responses), username)

    # ------------------------------------------------------------------ MFA set-up

    async def associate_software_token(self, session: str | None) -> tuple[str, str | None]:
        """AssociateSoftwareToken with an MFA_SETUP challenge's session (there is no
        access token yet): the new TOTP secret, and the session to go on with."""
        response = await self._idp.call("associate_software_token", Session=session)
        secret = response.get("SecretCode")
        if not isinstance(secret, str) or not secret:
            raise UnsupportedChallengeError("AssociateSoftwareToken returned no secret")
        return secret, response.get("Session") or session

    async def verify_software_token(
        self, session: str | None, code: str, *, username: str, device_name: str | None = None
    ) -> Outcome:
        """VerifySoftwareToken with the set-up session, then answer MFA_SETUP and go on."""
        params: dict[str, Any] = {"Session": session, "UserCode": code}
        if device_name:
            params["FriendlyDeviceName"] = device_name
        response = await self._idp.call("verify_software_token", **params)
        if response.get("Status") != "SUCCESS":
            raise EnableSoftwareTokenMFAError("the TOTP code did not verify")
        next_session = response.get("Session") or session
        return await self.continue_with("MFA_SETUP", next_session, {}, username=username)

    # ------------------------------------------------------------------ refresh

    async def refresh(
        self, refresh_token: str, pool_username: str | None, *, rotate: bool = False
    ) -> dict[str, Any]:
        """Fresh tokens from a refresh token: InitiateAuth REFRESH_TOKEN_AUTH, or
        GetTokensFromRefreshToken when ``rotate`` (clients with refresh-token rotation).

        REFRESH_TOKEN_AUTH with a client secret needs SECRET_HASH over the pool's own
        user name, which an e-mail or phone alias is not. When that name is unknown
        (``pool_username`` is None: a session restored from a refresh token alone),
        GetTokensFromRefreshToken is used instead: it takes the client secret itself
        and works with rotation off too.
        """
        if rotate or (self._client_secret is not None and not pool_username):
            call: dict[str, Any] = {"RefreshToken": refresh_token, "ClientId": self.client_id}
            if self._client_secret is not None:
                call["ClientSecret"] = self._client_secret
            if self.device:
                call["DeviceKey"] = self.device.device_key
            if self.client_metadata:
                call["ClientMetadata"] = self.client_metadata
            return await self._idp.call("get_tokens_from_refresh_token", **call)
        params = {"REFRESH_TOKEN": refresh_token, **self._device_param()}
        if self._client_secret is not None and pool_username:
            params.update(self._hash(pool_username))
        return await self._initiate("REFRESH_TOKEN_AUTH", params)

    # ------------------------------------------------------------------ the loop

    async def _drive(self, response: dict[str, Any], typed_username: str) -> Outcome:
        for _ in range(MAX_STEPS):
            if "AuthenticationResult" in response:
                return response
            name = response.get("ChallengeName")
            if not name:
                raise UnsupportedChallengeError(
                    "Cognito answered with neither tokens nor a challenge"
                )
            params: dict[str, str] = dict(response.get("ChallengeParameters") or {})
            session = response.get("Session")
            # Cognito sends the pool's user name as both; moto puts the sub in
            # USER_ID_FOR_SRP, so USERNAME is the name to answer with.
            self.pool_username = (
                params.get("USERNAME")
                or params.get("USER_ID_FOR_SRP")
                or self.pool_username
                or typed_username
            )
            if name == "SELECT_CHALLENGE":
                # The choices come in the response itself, not in ChallengeParameters.
                offered = [str(c) for c in response.get("AvailableChallenges") or []]
                params["AvailableChallenges"] = ",".join(offered)
                if self._password is None or not {"PASSWORD_SRP", "PASSWORD"} & set(offered):
                    return self._user_challenge(name, session, params)
                response = await self._select_password(offered, session)
            elif name == "PASSWORD_VERIFIER":
                response = await self._password_verifier(params, session)
            elif name == "DEVICE_SRP_AUTH":
                response = await self._device_srp(session)
            elif name == "DEVICE_PASSWORD_VERIFIER":
                response = await self._device_password_verifier(params, session)
            elif name == "CUSTOM_CHALLENGE" and self.custom_answer is not None:
                answer = self.custom_answer(params)
                if inspect.isawaitable(answer):
                    answer = await answer
                if not isinstance(answer, str) or not answer:
                    raise ConfigurationError("the custom challenge callback must return a string")
                response = await self.respond(name, session, {"ANSWER": answer})
            else:
                return self._user_challenge(name, session, params)
        raise UnsupportedChallengeError(f"sign-in did not finish in {MAX_STEPS} steps")

    def _user_challenge(self, name: str, session: str | None, params: dict[str, str]) -> Challenge:
        return Challenge(name, session, params, self.pool_username, self.admin)

    async def _password_verifier(
        self, params: dict[str, str], session: str | None
    ) -> dict[str, Any]:
        if self._password is None or self._small_a is None:
            raise UnsupportedChallengeError(
                challenge_name="PASSWORD_VERIFIER",
                session=None,
                parameters={},
                username=self.pool_username,
            )
        answer = await password_verifier_responses(
            pool_id=self.user_pool_id,
            password=self._password,
            small_a=self._small_a,
            parameters=params,
        )
        self.pool_username = answer["USERNAME"]
        return await self.respond("PASSWORD_VERIFIER", session, answer)

    async def _select_password(self, offered: list[str], session: str | None) -> dict[str, Any]:
        """Answer SELECT_CHALLENGE with a password factor: SRP when offered, the plain
        password only when it is offered and SRP is not."""
        if "PASSWORD_SRP" in offered:
            srp_a = await self._srp_a()
            answer = {"ANSWER": "PASSWORD_SRP", "SRP_A": srp_a}
        else:
            answer = {"ANSWER": "PASSWORD", "PASSWORD": self._password or ""}
        return await self.respond("SELECT_CHALLENGE", session, answer)

    async def _device_srp(self, session: str | None) -> dict[str, Any]:
        if self.device is None:
            raise UnsupportedChallengeError(
                "Cognito asked for device SRP but no remembered device is configured",
                challenge_name="DEVICE_SRP_AUTH",
                session=session,
                username=self.pool_username,
            )
        srp_a = await self._srp_a()
        return await self.respond("DEVICE_SRP_AUTH", session, {"SRP_A": srp_a})

    async def _device_password_verifier(
        self, params: dict[str, str], session: str | None
    ) -> dict[str, Any]:
        if self.device is None or self._small_a is None:
            raise UnsupportedChallengeError(
                challenge_name="DEVICE_PASSWORD_VERIFIER",
                session=session,
                username=self.pool_username,
            )
        try:
            srp_b, salt, block = params["SRP_B"], params["SALT"], params["SECRET_BLOCK"]
        except KeyError as exc:
            raise SRPError(f"DEVICE_PASSWORD_VERIFIER lacks {exc.args[0]}") from None
        timestamp = _now_timestamp()
        device = self.device
        signature = await run_cpu(
            _device_signature, device, self._small_a, srp_b, salt, block, timestamp
        )
        return await self.respond(
            "DEVICE_PASSWORD_VERIFIER",
            session,
            {
                "PASSWORD_CLAIM_SECRET_BLOCK": block,
                "PASSWORD_CLAIM_SIGNATURE": signature,
                "TIMESTAMP": timestamp,
            },
        )


def _password_signature(
    pool_id: str,
    user_id: str,
    password: str,
    small_a: int,
    srp_b: str,
    salt: str,
    block: str,
    timestamp: str,
) -> str:
    return srp.password_claim_signature(
        pool_id=pool_id,
        user_id_for_srp=user_id,
        password=password,
        small_a=small_a,
        srp_b=srp_b,
        salt=salt,
        secret_block=block,
        timestamp=timestamp,
    )


def _device_signature(
    device: DeviceCredentials, small_a: int, srp_b: str, salt: str, block: str, timestamp: str
) -> str:
    return srp.device_claim_signature(
        device_group_key=device.device_group_key,
        device_key=device.device_key,
        device_password=device.device_password,
        small_a=small_a,
        srp_b=srp_b,
        salt=salt,
        secret_block=block,
        timestamp=timestamp,
    )
