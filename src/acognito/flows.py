"""Sign-in as a state machine over InitiateAuth / RespondToAuthChallenge.

A :class:`SignIn` starts a flow and answers every challenge it can answer by itself
(SRP's PASSWORD_VERIFIER, remembered-device SRP, custom challenges through a callback)
until Cognito returns tokens. A challenge only the user can answer (an MFA code, a
new password) ends the run with the matching :class:`~acognito.errors.ChallengeRequired`
subclass, which carries what is needed to continue, possibly on another instance.

SECRET_HASH is computed over what the user typed on the first step only; every later
step uses the pool's own user name (``USER_ID_FOR_SRP`` / ``USERNAME`` from the
challenge), which is what Cognito checks it against.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from . import srp
from ._idp import IdpClient
from ._secret import secret_hash
from ._threads import run_cpu
from .devices import DeviceCredentials
from .errors import (
    ChallengeRequired,
    ConfigurationError,
    CustomChallengeException,
    EmailOTPChallengeException,
    ForceChangePasswordException,
    MFASetupChallengeException,
    SelectMFATypeChallengeException,
    SMSMFAChallengeException,
    SoftwareTokenMFAChallengeException,
    SRPError,
    UnsupportedChallengeError,
)

__all__ = ["CHALLENGE_EXCEPTIONS", "CustomAnswer", "DeviceCredentials", "SignIn"]

#: A CUSTOM_CHALLENGE answerer: gets the challenge parameters, returns the answer.
CustomAnswer = Callable[[Mapping[str, str]], str | Awaitable[str]]

CHALLENGE_EXCEPTIONS: Mapping[str, type[ChallengeRequired]] = {
    "SMS_MFA": SMSMFAChallengeException,
    "SOFTWARE_TOKEN_MFA": SoftwareTokenMFAChallengeException,
    "EMAIL_OTP": EmailOTPChallengeException,
    "SELECT_MFA_TYPE": SelectMFATypeChallengeException,
    "MFA_SETUP": MFASetupChallengeException,
    "NEW_PASSWORD_REQUIRED": ForceChangePasswordException,
    "CUSTOM_CHALLENGE": CustomChallengeException,
}

#: How many challenge round trips one sign-in may take before we call it a loop.
MAX_STEPS = 12


def _now_timestamp() -> str:
    return srp.cognito_timestamp(datetime.now(timezone.utc))


def _hex(value: int) -> str:
    return format(value, "x")


class SignIn:
    """One sign-in attempt. Create it, call one ``start_*`` coroutine, read the result.

    The result of a finished sign-in is Cognito's response dict with an
    ``AuthenticationResult`` (tokens, and ``NewDeviceMetadata`` when the pool tracks
    devices). ``pool_username`` is learned on the way.
    """

    def __init__(
        self,
        idp: IdpClient,
        *,
        user_pool_id: str,
        client_id: str,
        client_secret: str | None = None,
        device: DeviceCredentials | None = None,
        client_metadata: Mapping[str, str] | None = None,
        custom_answer: CustomAnswer | None = None,
        admin: bool = False,
    ) -> None:
        self.idp = idp
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

    # ------------------------------------------------------------------ helpers

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

    async def _initiate(
        self, flow: str, params: dict[str, str], session: str | None = None
    ) -> dict[str, Any]:
        call: dict[str, Any] = {
            "ClientId": self.client_id,
            "AuthFlow": flow,
            "AuthParameters": params,
        }
        if session is not None:
            call["Session"] = session
        if self.client_metadata:
            call["ClientMetadata"] = self.client_metadata
        if self.admin:
            return await self.idp.call("admin_initiate_auth", UserPoolId=self.user_pool_id, **call)
        return await self.idp.call("initiate_auth", **call)

    async def respond(
        self, challenge: str, session: str | None, responses: dict[str, str]
    ) -> dict[str, Any]:
        """Answer one challenge; USERNAME, SECRET_HASH and DEVICE_KEY are added here."""
        username = responses.get("USERNAME") or self.pool_username
        if not username:
            raise ConfigurationError("a username is needed to answer the challenge")
        answer = {"USERNAME": username, **self._hash(username), **self._device_param(), **responses}
        call: dict[str, Any] = {
            "ClientId": self.client_id,
            "ChallengeName": challenge,
            "ChallengeResponses": answer,
        }
        if session:
            call["Session"] = session
        if self.client_metadata:
            call["ClientMetadata"] = self.client_metadata
        if self.admin:
            return await self.idp.call(
                "admin_respond_to_auth_challenge", UserPoolId=self.user_pool_id, **call
            )
        return await self.idp.call("respond_to_auth_challenge", **call)

    # ------------------------------------------------------------------ starts

    async def start_srp(self, username: str, password: str) -> dict[str, Any]:
        """USER_SRP_AUTH: the password never leaves this process."""
        self._password = password
        params = {"USERNAME": username, "SRP_A": await self._srp_a(), **self._hash(username)}
        params.update(self._device_param())
        return await self._drive(await self._initiate("USER_SRP_AUTH", params), username)

    async def start_password(self, username: str, password: str) -> dict[str, Any]:
        """USER_PASSWORD_AUTH (or ADMIN_USER_PASSWORD_AUTH when ``admin``): the password is
        sent to Cognito over TLS."""
        self._password = password
        params = {"USERNAME": username, "PASSWORD": password, **self._hash(username)}
        params.update(self._device_param())
        flow = "ADMIN_USER_PASSWORD_AUTH" if self.admin else "USER_PASSWORD_AUTH"
        return await self._drive(await self._initiate(flow, params), username)

    async def start_custom(self, username: str, password: str | None = None) -> dict[str, Any]:
        """CUSTOM_AUTH, with an SRP password check first when ``password`` is given."""
        params = {"USERNAME": username, **self._hash(username), **self._device_param()}
        if password is not None:
            self._password = password
            params.update(CHALLENGE_NAME="SRP_A", SRP_A=await self._srp_a())
        return await self._drive(await self._initiate("CUSTOM_AUTH", params), username)

    async def start_user_auth(
        self, username: str, password: str, *, preferred: str | None = "PASSWORD_SRP"
    ) -> dict[str, Any]:
        """USER_AUTH (choice-based sign-in) with a password: PASSWORD_SRP or PASSWORD.

        With ``preferred=None`` Cognito answers SELECT_CHALLENGE with the challenges
        the user may choose; PASSWORD_SRP is picked when offered, then PASSWORD.
        """
        if preferred not in ("PASSWORD_SRP", "PASSWORD", None):
            raise ConfigurationError("preferred must be 'PASSWORD_SRP', 'PASSWORD' or None")
        self._password = password
        params = {"USERNAME": username, **self._hash(username), **self._device_param()}
        if preferred is not None:
            params["PREFERRED_CHALLENGE"] = preferred
        if preferred == "PASSWORD_SRP":
            params["SRP_A"] = await self._srp_a()
        elif preferred == "PASSWORD":
            params["PASSWORD"] = password
        return await self._drive(await self._initiate("USER_AUTH", params), username)

    async def start_user_auth_factor(
        self, username: str, preferred: str | None = None
    ) -> dict[str, Any]:
        """USER_AUTH without a password: a passwordless first factor (EMAIL_OTP, SMS_OTP,
        WEB_AUTHN) when ``preferred``, else Cognito's SELECT_CHALLENGE is raised as it is,
        with the offered factors in ``parameters["AvailableChallenges"]``."""
        params = {"USERNAME": username, **self._hash(username), **self._device_param()}
        if preferred is not None:
            params["PREFERRED_CHALLENGE"] = preferred
        response = await self._initiate("USER_AUTH", params)
        if response.get("ChallengeName") == "SELECT_CHALLENGE":
            challenge_params = dict(response.get("ChallengeParameters") or {})
            self.pool_username = challenge_params.get("USERNAME") or username
            offered = response.get("AvailableChallenges") or []
            choices = {**challenge_params, "AvailableChallenges": ",".join(map(str, offered))}
            raise self._user_challenge("SELECT_CHALLENGE", response.get("Session"), choices)
        return await self._drive(response, username)

    async def start_user_auth_session(self, username: str, session: str) -> dict[str, Any]:
        """USER_AUTH with the session ConfirmSignUp returned: the sign-up code already
        proved the user, so no password or code is sent again (sign-in after sign-up)."""
        params = {"USERNAME": username, **self._hash(username), **self._device_param()}
        return await self._drive(await self._initiate("USER_AUTH", params, session), username)

    async def select_password_factor(
        self, session: str | None, password: str, *, username: str, srp: bool = True
    ) -> dict[str, Any]:
        """Answer a pending SELECT_CHALLENGE with the user's password (PASSWORD_SRP when
        ``srp``, else PASSWORD), then go on."""
        self._password = password
        self.pool_username = username
        if srp:
            answer = {"ANSWER": "PASSWORD_SRP", "SRP_A": await self._srp_a()}
        else:
            answer = {"ANSWER": "PASSWORD", "PASSWORD": password}
        return await self._drive(await self.respond("SELECT_CHALLENGE", session, answer), username)

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
            return await self.idp.call("get_tokens_from_refresh_token", **call)
        params = {"REFRESH_TOKEN": refresh_token, **self._device_param()}
        if self._client_secret is not None and pool_username:
            params.update(self._hash(pool_username))
        return await self._initiate("REFRESH_TOKEN_AUTH", params)

    # ------------------------------------------------------------------ the loop

    async def continue_with(
        self, challenge: str, session: str | None, responses: dict[str, str], *, username: str
    ) -> dict[str, Any]:
        """Answer a challenge the user answered (an MFA code, a new password), then go on."""
        self.pool_username = username
        return await self._drive(await self.respond(challenge, session, responses), username)

    async def _drive(self, response: dict[str, Any], typed_username: str) -> dict[str, Any]:
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
            if name == "PASSWORD_VERIFIER":
                response = await self._password_verifier(params, session)
            elif name == "DEVICE_SRP_AUTH":
                response = await self._device_srp(session)
            elif name == "DEVICE_PASSWORD_VERIFIER":
                response = await self._device_password_verifier(params, session)
            elif name == "SELECT_CHALLENGE" and self._password is not None:
                # The choices come in the response itself, not in ChallengeParameters.
                offered = response.get("AvailableChallenges") or []
                response = await self._select_password(offered, params, session)
            elif name == "CUSTOM_CHALLENGE" and self.custom_answer is not None:
                answer = self.custom_answer(params)
                if inspect.isawaitable(answer):
                    answer = await answer
                if not isinstance(answer, str) or not answer:
                    raise ConfigurationError("the custom challenge callback must return a string")
                response = await self.respond(name, session, {"ANSWER": answer})
            else:
                raise self._user_challenge(name, session, params)
        raise UnsupportedChallengeError(f"sign-in did not finish in {MAX_STEPS} steps")

    def _user_challenge(
        self, name: str, session: str | None, params: dict[str, str]
    ) -> ChallengeRequired:
        cls = CHALLENGE_EXCEPTIONS.get(name, UnsupportedChallengeError)
        return cls(
            challenge_name=name,
            session=session,
            parameters=params,
            username=self.pool_username,
            admin=self.admin,
        )

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
        try:
            user_id = params["USER_ID_FOR_SRP"]
            srp_b, salt, block = params["SRP_B"], params["SALT"], params["SECRET_BLOCK"]
        except KeyError as exc:
            raise SRPError(f"PASSWORD_VERIFIER lacks {exc.args[0]}") from None
        timestamp = _now_timestamp()
        signature = await run_cpu(
            _password_signature,
            self.user_pool_id,
            user_id,
            self._password,
            self._small_a,
            srp_b,
            salt,
            block,
            timestamp,
        )
        # The proof is over USER_ID_FOR_SRP (what the verifier was made with); the
        # answer names the user by the challenge's USERNAME.
        username = params.get("USERNAME") or user_id
        self.pool_username = username
        return await self.respond(
            "PASSWORD_VERIFIER",
            session,
            {
                "USERNAME": username,
                "PASSWORD_CLAIM_SECRET_BLOCK": block,
                "PASSWORD_CLAIM_SIGNATURE": signature,
                "TIMESTAMP": timestamp,
            },
        )

    async def _select_password(
        self, offered: list[str], params: dict[str, str], session: str | None
    ) -> dict[str, Any]:
        """Answer SELECT_CHALLENGE with a password factor: SRP when offered, the plain
        password only when it is offered and SRP is not; anything else is the user's."""
        if "PASSWORD_SRP" in offered:
            srp_a = await self._srp_a()
            return await self.respond(
                "SELECT_CHALLENGE", session, {"ANSWER": "PASSWORD_SRP", "SRP_A": srp_a}
            )
        if "PASSWORD" in offered and self._password is not None:
            return await self.respond(
                "SELECT_CHALLENGE", session, {"ANSWER": "PASSWORD", "PASSWORD": self._password}
            )
        choices = {**params, "AvailableChallenges": ",".join(str(c) for c in offered)}
        raise self._user_challenge("SELECT_CHALLENGE", session, choices)

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
