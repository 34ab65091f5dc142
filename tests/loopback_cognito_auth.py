"""Sign-in, refresh and sign-out operations of the loopback Cognito test server.

InitiateAuth and RespondToAuthChallenge as a state machine (password, SRP, custom,
device SRP, new password, MFA, choice-based USER_AUTH), refresh with and without
rotation, RevokeToken and GlobalSignOut. SRP proofs are checked with tests/srp_server.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

import srp_server
from loopback_cognito_core import CoreBackend, new_totp_secret, required
from loopback_cognito_model import (
    SMS_MFA,
    ChallengeState,
    Client,
    Device,
    Fault,
    Grant,
    Pool,
    RefreshRecord,
    User,
    canonical_timestamp,
    check_password_policy,
    invalid_parameter,
    new_uuid,
    not_authorized,
    random_id,
)

_FLOW_PERMISSION = {
    "USER_SRP_AUTH": "ALLOW_USER_SRP_AUTH",
    "USER_PASSWORD_AUTH": "ALLOW_USER_PASSWORD_AUTH",
    "CUSTOM_AUTH": "ALLOW_CUSTOM_AUTH",
    "USER_AUTH": "ALLOW_USER_AUTH",
    "REFRESH_TOKEN_AUTH": "ALLOW_REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN": "ALLOW_REFRESH_TOKEN_AUTH",
}
_SRP_STEPS = ("PASSWORD_VERIFIER", "DEVICE_PASSWORD_VERIFIER")
_INVALID_REFRESH = "Invalid Refresh Token."


def _srp_a(value: Any) -> str:
    try:
        a = int(str(value), 16)
    except ValueError:
        raise invalid_parameter("SRP_A is not a hexadecimal number") from None
    if a % srp_server.N == 0:
        raise invalid_parameter("SRP_A is not a valid SRP value")
    return str(value)


class AuthOps(CoreBackend):
    """InitiateAuth, RespondToAuthChallenge and the token lifecycle."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions: dict[str, ChallengeState] = {}
        self.srp_states: dict[str, ChallengeState] = {}
        self.device_pending: dict[tuple[str, str, str], str] = {}

    # ------------------------------------------------------------ InitiateAuth

    def op_InitiateAuth(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, client = self._client(params)
        flow = required(params, "AuthFlow")
        ap: Mapping[str, Any] = params.get("AuthParameters") or {}
        permission = _FLOW_PERMISSION.get(flow)
        if permission is None:
            raise invalid_parameter("Initiate Auth method not supported.")
        if permission not in client.explicit_auth_flows:
            raise invalid_parameter(f"{flow} flow not enabled for this client")
        if flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
            return self._refresh_by_initiate(pool, client, ap)

        typed = required(ap, "USERNAME")
        self._check_secret_hash(client, typed, ap.get("SECRET_HASH"))
        user = self._user_or_fault(pool, typed)
        self._may_sign_in(user)
        device_key = ap.get("DEVICE_KEY") or None

        if flow == "USER_PASSWORD_AUTH":
            self._check_password(user, ap.get("PASSWORD"))
            return self._after_password(pool, client, user, flow, device_key)
        if flow == "USER_SRP_AUTH":
            return self._password_verifier(
                pool, client, user, flow, device_key, required(ap, "SRP_A")
            )
        if flow == "CUSTOM_AUTH":
            if pool.custom_answer is None:
                raise invalid_parameter(
                    "Custom auth lambda trigger is not configured for the user pool."
                )
            if ap.get("CHALLENGE_NAME") == "SRP_A" or ap.get("SRP_A"):
                return self._password_verifier(
                    pool, client, user, flow, device_key, required(ap, "SRP_A"), then="custom"
                )
            return self._custom_challenge(pool, client, user, device_key)
        # USER_AUTH: choice-based sign-in (password and password SRP factors).
        preferred = ap.get("PREFERRED_CHALLENGE")
        if preferred == "PASSWORD" and ap.get("PASSWORD"):
            self._check_password(user, ap.get("PASSWORD"))
            return self._after_password(pool, client, user, flow, device_key)
        if preferred == "PASSWORD_SRP" and ap.get("SRP_A"):
            return self._password_verifier(pool, client, user, flow, device_key, ap["SRP_A"])
        if preferred not in (None, "", "PASSWORD", "PASSWORD_SRP"):
            raise invalid_parameter(f"{preferred} is not an available challenge for this user")
        session = self._open(
            pool, client, user, ("SELECT_CHALLENGE", "PASSWORD", "PASSWORD_SRP"), flow, device_key
        )
        return {
            "ChallengeName": "SELECT_CHALLENGE",
            "Session": session,
            "ChallengeParameters": {},
            "AvailableChallenges": ["PASSWORD", "PASSWORD_SRP"],
        }

    def _may_sign_in(self, user: User) -> None:
        # Cognito answers an unconfirmed user with UserNotConfirmedException before it
        # checks the password (amazon-cognito-identity-js#288).
        if not user.enabled:
            raise not_authorized("User is disabled.")
        if user.status == "UNCONFIRMED":
            raise Fault("UserNotConfirmedException", "User is not confirmed.")
        if user.status == "RESET_REQUIRED":
            raise Fault("PasswordResetRequiredException", "Password reset required for the user")

    def _check_password(self, user: User, password: Any) -> None:
        if not password or not user.check_password(str(password)):
            raise not_authorized()

    # ------------------------------------------------------------ challenge states

    def _prune(self) -> None:
        now = self.clock()
        for table in (self.sessions, self.srp_states):
            for key in [k for k, s in table.items() if now >= s.expires_at]:
                del table[key]

    def _state(
        self,
        pool: Pool,
        client: Client,
        user: User,
        expected: tuple[str, ...],
        flow: str,
        device_key: str | None,
        **extra: Any,
    ) -> ChallengeState:
        return ChallengeState(
            pool_id=pool.pool_id,
            client_id=client.client_id,
            username=user.username,
            expected=expected,
            expires_at=self.clock() + client.auth_session_validity,
            flow=flow,
            device_key=device_key,
            **extra,
        )

    def _open(
        self,
        pool: Pool,
        client: Client,
        user: User,
        expected: tuple[str, ...],
        flow: str,
        device_key: str | None,
        **extra: Any,
    ) -> str:
        """Start a Session-bound challenge; return its Session string."""
        self._prune()
        session = secrets.token_urlsafe(96)
        self.sessions[session] = self._state(
            pool, client, user, expected, flow, device_key, **extra
        )
        return session

    def _reopen(self, state: ChallengeState, **changes: Any) -> str:
        """Hand a consumed state on under a fresh Session (sessions are single-use)."""
        fresh = ChallengeState(**{**state.__dict__, "used": False, **changes})
        session = secrets.token_urlsafe(96)
        self.sessions[session] = fresh
        return session

    def _consume(self, state: ChallengeState | None, client: Client) -> ChallengeState:
        if state is None or state.client_id != client.client_id:
            raise not_authorized("Invalid session for the user.")
        if state.used:
            raise not_authorized("Invalid session for the user, session can only be used once.")
        state.used = True
        if self.clock() >= state.expires_at:
            raise not_authorized("Invalid session for the user, session is expired.")
        return state

    def _challenge(
        self,
        pool: Pool,
        client: Client,
        user: User,
        name: str,
        flow: str,
        device_key: str | None,
        parameters: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        session = self._open(pool, client, user, (name,), flow, device_key, **extra)
        challenge_parameters = {"USERNAME": user.username, "USER_ID_FOR_SRP": user.username}
        challenge_parameters.update(parameters or {})
        return {
            "ChallengeName": name,
            "Session": session,
            "ChallengeParameters": challenge_parameters,
        }

    def _password_verifier(
        self,
        pool: Pool,
        client: Client,
        user: User,
        flow: str,
        device_key: str | None,
        srp_a: Any,
        *,
        then: str | None = None,
    ) -> dict[str, Any]:
        """The PASSWORD_VERIFIER challenge: B and salt from the user's verifier.

        AWS returns no Session here (measured, ministackorg/ministack#1758): the
        SECRET_BLOCK is what the answer carries back, so the state is kept under it.
        """
        a = _srp_a(srp_a)
        self._prune()
        server = srp_server.SrpServer(verifier=user.srp_verifier, salt_hex=user.srp_salt_hex)
        block = base64.b64encode(secrets.token_bytes(96)).decode("ascii")
        self.srp_states[block] = self._state(
            pool,
            client,
            user,
            ("PASSWORD_VERIFIER",),
            flow,
            device_key,
            srp=server,
            srp_a=a,
            secret_block=block,
            after_password=then,
        )
        return {
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeParameters": {
                "SALT": server.salt,
                "SRP_B": server.srp_b,
                "SECRET_BLOCK": block,
                "USER_ID_FOR_SRP": user.username,
                "USERNAME": user.username,
            },
        }

    def _custom_challenge(
        self, pool: Pool, client: Client, user: User, device_key: str | None
    ) -> dict[str, Any]:
        return self._challenge(
            pool,
            client,
            user,
            "CUSTOM_CHALLENGE",
            "CUSTOM_AUTH",
            device_key,
            pool.custom_parameters,
        )

    # ------------------------------------------------------------ after the password

    def _after_password(
        self, pool: Pool, client: Client, user: User, flow: str, device_key: str | None
    ) -> dict[str, Any]:
        if user.status == "FORCE_CHANGE_PASSWORD":
            attrs = {k: v for k, v in user.attributes.items()}
            return self._challenge(
                pool,
                client,
                user,
                "NEW_PASSWORD_REQUIRED",
                flow,
                device_key,
                {"requiredAttributes": "[]", "userAttributes": json.dumps(attrs)},
            )
        return self._after_new_password(pool, client, user, flow, device_key)

    def _after_new_password(
        self, pool: Pool, client: Client, user: User, flow: str, device_key: str | None
    ) -> dict[str, Any]:
        if device_key is not None:
            device = pool.devices.get(device_key)
            if device is None or device.username != user.username:
                # AWS: 400 ResourceNotFoundException "Device does not exist." for a
                # forgotten or unknown device key (amazon-cognito-identity-js#200,
                # aws-amplify/amplify-js#12188, aws-amplify/amplify-android#2605).
                raise Fault("ResourceNotFoundException", "Device does not exist.")
            if device.confirmed and device.remembered and device.verifier is not None:
                session = self._open(pool, client, user, ("DEVICE_SRP_AUTH",), flow, device_key)
                self.device_pending[(client.client_id, user.username, device_key)] = session
                return {
                    "ChallengeName": "DEVICE_SRP_AUTH",
                    "Session": session,
                    "ChallengeParameters": {
                        "USERNAME": user.username,
                        "USER_ID_FOR_SRP": user.username,
                    },
                }
        return self._mfa_or_tokens(pool, client, user, flow, device_key)

    def _mfa_or_tokens(
        self, pool: Pool, client: Client, user: User, flow: str, device_key: str | None
    ) -> dict[str, Any]:
        if pool.mfa == "OFF" or flow == "CUSTOM_AUTH":
            return self._tokens(pool, client, user, device_key)
        phone = user.attributes.get("phone_number")
        methods = []
        if user.totp_enabled and user.totp_secret:
            methods.append("SOFTWARE_TOKEN_MFA")
        if user.sms_mfa_enabled and phone:
            methods.append("SMS_MFA")
        if len(methods) > 1:
            if user.totp_preferred:
                methods = ["SOFTWARE_TOKEN_MFA"]
            elif user.sms_mfa_preferred:
                methods = ["SMS_MFA"]
            else:
                return self._challenge(
                    pool,
                    client,
                    user,
                    "SELECT_MFA_TYPE",
                    flow,
                    device_key,
                    {"MFAS_CAN_CHOOSE": json.dumps(methods)},
                )
        if not methods and pool.mfa == "ON":
            if phone:
                methods = ["SMS_MFA"]
            else:
                return self._challenge(
                    pool,
                    client,
                    user,
                    "MFA_SETUP",
                    flow,
                    device_key,
                    {"MFAS_CAN_SETUP": json.dumps(["SOFTWARE_TOKEN_MFA"])},
                )
        if not methods:
            return self._tokens(pool, client, user, device_key)
        return self._mfa_challenge(pool, client, user, methods[0], flow, device_key)

    def _mfa_challenge(
        self, pool: Pool, client: Client, user: User, method: str, flow: str, device_key: str | None
    ) -> dict[str, Any]:
        if method == "SOFTWARE_TOKEN_MFA":
            return self._challenge(pool, client, user, method, flow, device_key)
        delivery = self._send_code(pool, user, SMS_MFA, "phone_number")
        code = user.codes.pop(SMS_MFA).code  # kept on the challenge, not the user
        return self._challenge(
            pool,
            client,
            user,
            method,
            flow,
            device_key,
            {
                "CODE_DELIVERY_DELIVERY_MEDIUM": "SMS",
                "CODE_DELIVERY_DESTINATION": delivery["Destination"],
            },
            code=code,
        )

    def _tokens(
        self, pool: Pool, client: Client, user: User, device_key: str | None
    ) -> dict[str, Any]:
        """A finished sign-in: a new grant, tokens, and a new device if tracking is on."""
        now = self.clock()
        new_device = None
        if pool.device_tracking and device_key is None:
            new_device = Device(
                device_key=f"{pool.region}_{new_uuid()}",
                group_key="-"
                + random_id(9, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
                username=user.username,
                created=now,
                last_modified=now,
            )
            pool.devices[new_device.device_key] = new_device
            device_key = new_device.device_key
        grant = Grant(
            origin_jti=new_uuid(),
            pool_id=pool.pool_id,
            client_id=client.client_id,
            username=user.username,
            device_key=device_key,
            auth_time=int(now),
        )
        pool.grants[grant.origin_jti] = grant
        result = self._mint(pool, client, user, grant)
        result["RefreshToken"] = self._new_refresh(grant, client)
        if new_device is not None:
            result["NewDeviceMetadata"] = {
                "DeviceKey": new_device.device_key,
                "DeviceGroupKey": new_device.group_key,
            }
        return {"ChallengeParameters": {}, "AuthenticationResult": result}

    # ------------------------------------------------------------ RespondToAuthChallenge

    def op_RespondToAuthChallenge(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, client = self._client(params)
        name = required(params, "ChallengeName")
        responses: Mapping[str, Any] = params.get("ChallengeResponses") or {}
        username = required(responses, "USERNAME")
        session = params.get("Session")
        if name in _SRP_STEPS:
            block = responses.get("PASSWORD_CLAIM_SECRET_BLOCK")
            state = self.srp_states.get(block) if block else None
            if state is None:
                raise not_authorized()
        elif name == "DEVICE_SRP_AUTH" and not session:
            # pycognito answers DEVICE_SRP_AUTH without the Session; the step is then
            # bound to the password proof that asked for it (same client, user, device).
            key = (client.client_id, username, str(responses.get("DEVICE_KEY")))
            state = self.sessions.get(self.device_pending.pop(key, ""))
        else:
            state = self.sessions.get(session) if session else None
        state = self._consume(state, client)
        if name not in state.expected:
            raise invalid_parameter(f"The session expects {state.expected[0]}, not {name}")
        user = pool.users.get(state.username)
        if user is None:
            raise Fault("UserNotFoundException", "User does not exist.")
        if username != user.username:
            raise not_authorized(
                "USERNAME must be the user name the challenge returned (USERNAME / USER_ID_FOR_SRP)"
            )
        self._check_secret_hash(client, username, responses.get("SECRET_HASH"))
        handler = getattr(self, f"_answer_{name}", None)
        if handler is None:
            raise invalid_parameter(f"The loopback Cognito test server does not answer {name}")
        response: dict[str, Any] = handler(pool, client, user, state, responses)
        return response

    def _verify_claim(
        self, state: ChallengeState, responses: Mapping[str, Any], first: str, second: str
    ) -> None:
        timestamp = canonical_timestamp(str(responses.get("TIMESTAMP") or ""))
        try:
            ok = state.srp.verify_claim(
                srp_a=state.srp_a,
                first=first,
                second=second,
                secret_block=state.secret_block,
                timestamp=timestamp,
                signature=str(responses.get("PASSWORD_CLAIM_SIGNATURE") or ""),
            )
        except ValueError:
            ok = False
        if not ok:
            raise not_authorized()

    def _answer_PASSWORD_VERIFIER(
        self, pool: Pool, client: Client, user: User, state: ChallengeState, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._verify_claim(state, r, pool.pool_name, user.username)
        self._may_sign_in(user)
        device_key = r.get("DEVICE_KEY") or state.device_key
        if state.after_password == "custom":
            return self._custom_challenge(pool, client, user, device_key)
        return self._after_password(pool, client, user, state.flow, device_key)

    def _answer_DEVICE_SRP_AUTH(
        self, pool: Pool, client: Client, user: User, state: ChallengeState, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        device_key = str(required(r, "DEVICE_KEY"))
        device = pool.devices.get(device_key)
        if device is None or device.username != user.username or device.verifier is None:
            raise Fault("ResourceNotFoundException", "Device does not exist.")
        a = _srp_a(required(r, "SRP_A"))
        self._prune()
        server = srp_server.SrpServer(verifier=device.verifier, salt_hex=device.salt_hex or "")
        block = base64.b64encode(secrets.token_bytes(96)).decode("ascii")
        self.srp_states[block] = self._state(
            pool,
            client,
            user,
            ("DEVICE_PASSWORD_VERIFIER",),
            state.flow,
            device_key,
            srp=server,
            srp_a=a,
            secret_block=block,
            srp_device_key=device_key,
        )
        return {
            "ChallengeName": "DEVICE_PASSWORD_VERIFIER",
            "ChallengeParameters": {
                "SRP_B": server.srp_b,
                "SALT": server.salt,
                "SECRET_BLOCK": block,
                "USERNAME": user.username,
                "DEVICE_KEY": device_key,
            },
        }

    def _answer_DEVICE_PASSWORD_VERIFIER(
        self, pool: Pool, client: Client, user: User, state: ChallengeState, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        device_key = state.srp_device_key or ""
        if r.get("DEVICE_KEY") != device_key:
            raise not_authorized()
        device = pool.devices.get(device_key)
        if device is None or device.username != user.username:
            raise Fault("ResourceNotFoundException", "Device does not exist.")
        self._verify_claim(state, r, device.group_key, device.device_key)
        self._may_sign_in(user)
        device.last_authenticated = self.clock()
        # A remembered device stands in for MFA.
        return self._tokens(pool, client, user, device_key)

    def _answer_NEW_PASSWORD_REQUIRED(
        self, pool: Pool, client: Client, user: User, state: ChallengeState, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        new_password = str(required(r, "NEW_PASSWORD"))
        check_password_policy(new_password)
        for key, value in r.items():
            if key.startswith("userAttributes."):
                user.attributes[key.split(".", 1)[1]] = str(value)
        self._set_password(pool, user, new_password)
        user.status = "CONFIRMED"
        return self._after_new_password(pool, client, user, state.flow, state.device_key)

    def _answer_SMS_MFA(
        self, pool: Pool, client: Client, user: User, state: ChallengeState, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        code = str(r.get("SMS_MFA_CODE") or "")
        if not state.code or not hmac.compare_digest(state.code.encode(), code.encode()):
            raise Fault("CodeMismatchException", "Invalid code received for user")
        return self._tokens(pool, client, user, state.device_key)

    def _answer_SOFTWARE_TOKEN_MFA(
        self, pool: Pool, client: Client, user: User, state: ChallengeState, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        if not user.totp_secret or not self._totp_ok(
            user.totp_secret, r.get("SOFTWARE_TOKEN_MFA_CODE")
        ):
            raise Fault("CodeMismatchException", "Invalid code received for user")
        return self._tokens(pool, client, user, state.device_key)

    def _answer_SELECT_MFA_TYPE(
        self, pool: Pool, client: Client, user: User, state: ChallengeState, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        answer = r.get("ANSWER")
        if answer not in ("SMS_MFA", "SOFTWARE_TOKEN_MFA"):
            raise invalid_parameter("ANSWER must be SMS_MFA or SOFTWARE_TOKEN_MFA")
        return self._mfa_challenge(pool, client, user, str(answer), state.flow, state.device_key)

    def _answer_MFA_SETUP(
        self, pool: Pool, client: Client, user: User, state: ChallengeState, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        if not state.setup_verified or not state.setup_secret:
            raise Fault(
                "SoftwareTokenMFANotFoundException",
                "Software token MFA is not verified "
                "(call AssociateSoftwareToken and VerifySoftwareToken first)",
            )
        user.totp_secret = state.setup_secret
        user.totp_enabled = True
        user.totp_preferred = True
        user.sms_mfa_preferred = False
        return self._tokens(pool, client, user, state.device_key)

    def _answer_CUSTOM_CHALLENGE(
        self, pool: Pool, client: Client, user: User, state: ChallengeState, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        answer = str(r.get("ANSWER") or "")
        expected = pool.custom_answer or ""
        if not expected or not hmac.compare_digest(expected.encode(), answer.encode()):
            raise not_authorized()
        return self._tokens(pool, client, user, state.device_key)

    def _answer_SELECT_CHALLENGE(
        self, pool: Pool, client: Client, user: User, state: ChallengeState, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._select(pool, client, user, state, r, str(r.get("ANSWER") or ""))

    def _answer_PASSWORD(
        self, pool: Pool, client: Client, user: User, state: ChallengeState, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._select(pool, client, user, state, r, "PASSWORD")

    def _answer_PASSWORD_SRP(
        self, pool: Pool, client: Client, user: User, state: ChallengeState, r: Mapping[str, Any]
    ) -> dict[str, Any]:
        return self._select(pool, client, user, state, r, "PASSWORD_SRP")

    def _select(
        self,
        pool: Pool,
        client: Client,
        user: User,
        state: ChallengeState,
        r: Mapping[str, Any],
        answer: str,
    ) -> dict[str, Any]:
        if answer == "PASSWORD":
            self._check_password(user, r.get("PASSWORD"))
            return self._after_password(pool, client, user, state.flow, state.device_key)
        if answer == "PASSWORD_SRP":
            return self._password_verifier(
                pool, client, user, state.flow, state.device_key, required(r, "SRP_A")
            )
        raise invalid_parameter(f"{answer or 'ANSWER'} is not an available challenge for this user")

    # ------------------------------------------------------------ TOTP set-up in a sign-in

    def _setup_session(self, session: str) -> tuple[ChallengeState, Client]:
        state = self.sessions.get(session)
        client = self.clients.get(state.client_id if state else "")
        if state is None or client is None or "MFA_SETUP" not in state.expected:
            raise not_authorized("Invalid session for the user.")
        return self._consume(state, client), client

    # ------------------------------------------------------------ refresh

    def _refresh_record(self, pool: Pool, client: Client, token: str) -> RefreshRecord:
        rec = self.refresh_tokens.get(token)
        if (
            rec is None
            or rec.grant.pool_id != pool.pool_id
            or rec.grant.client_id != client.client_id
        ):
            raise not_authorized(_INVALID_REFRESH)
        return rec

    def _refresh_checks(self, pool: Pool, rec: RefreshRecord, device_key: str | None) -> User:
        grant = rec.grant
        if grant.revoked:
            raise not_authorized("Refresh Token has been revoked")
        if self.clock() >= rec.expires_at:
            raise not_authorized("Refresh Token has expired")
        if grant.device_key:
            # With device tracking, the refresh must name the confirmed device the
            # token was issued to (AWS knowledge center: "Invalid Refresh Token" error).
            device = pool.devices.get(grant.device_key)
            if device_key != grant.device_key or device is None or not device.confirmed:
                raise not_authorized(_INVALID_REFRESH)
        user = pool.users.get(grant.username)
        if user is None:
            raise not_authorized(_INVALID_REFRESH)
        if not user.enabled:
            raise not_authorized("User is disabled.")
        return user

    def _refresh_by_initiate(
        self, pool: Pool, client: Client, ap: Mapping[str, Any]
    ) -> dict[str, Any]:
        rec = self._refresh_record(pool, client, str(required(ap, "REFRESH_TOKEN")))
        # The hash is over the pool's own user name (the sub in an email pool), not
        # what the user typed at sign-in: hashing the email fails here on AWS.
        self._check_secret_hash(client, rec.grant.username, ap.get("SECRET_HASH"), refresh=True)
        if rec.rotated_at is not None:
            raise not_authorized(_INVALID_REFRESH)
        user = self._refresh_checks(pool, rec, ap.get("DEVICE_KEY") or None)
        return {
            "ChallengeParameters": {},
            "AuthenticationResult": self._mint(pool, client, user, rec.grant),
        }

    def op_GetTokensFromRefreshToken(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, client = self._client(params)
        token = str(required(params, "RefreshToken"))
        if client.secret is not None:
            given = params.get("ClientSecret")
            if not given:
                raise not_authorized(
                    f"Client {client.client_id} is configured with secret "
                    "but ClientSecret was not received"
                )
            if not hmac.compare_digest(client.secret.encode(), str(given).encode()):
                raise not_authorized(f"Unable to verify secret for client {client.client_id}")
        rec = self._refresh_record(pool, client, token)
        now = self.clock()
        if rec.rotated_at is not None and now >= rec.rotated_at + client.retry_grace_seconds:
            raise Fault("RefreshTokenReuseException", "Refresh token has already been rotated.")
        user = self._refresh_checks(pool, rec, params.get("DeviceKey") or None)
        result = self._mint(pool, client, user, rec.grant)
        if client.refresh_token_rotation:
            if rec.rotated_at is None:
                rec.rotated_at = now
            # The replacement runs out when the token it replaced would have.
            result["RefreshToken"] = self._new_refresh(rec.grant, client, rec.expires_at)
        return {"AuthenticationResult": result}

    # ------------------------------------------------------------ revoke, sign out

    def op_RevokeToken(self, params: Mapping[str, Any]) -> dict[str, Any]:
        token = str(required(params, "Token"))
        client = self.clients.get(str(required(params, "ClientId")))
        bad_client = Fault("UnauthorizedException", "Invalid client or secret")
        if client is None:
            raise bad_client
        if client.secret is not None:
            given = str(params.get("ClientSecret") or "")
            if not hmac.compare_digest(client.secret.encode(), given.encode()):
                raise bad_client
        if not client.enable_token_revocation:
            raise Fault(
                "UnsupportedOperationException", "Token revocation is not enabled for this client."
            )
        rec = self.refresh_tokens.get(token)
        if rec is None:
            if token.count(".") == 2:
                raise Fault("UnsupportedTokenTypeException", "Only refresh tokens can be revoked.")
            # RFC 7009 section 2.2: an unknown token is no error for the revoker.
            return {}
        if rec.grant.client_id != client.client_id:
            raise Fault("UnauthorizedException", "The token was not issued to this client.")
        rec.grant.revoked = True
        return {}

    def op_GlobalSignOut(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool, user, _ = self._access(params)
        self._revoke_user(pool, user)
        return {}

    def op_AdminUserGlobalSignOut(self, params: Mapping[str, Any]) -> dict[str, Any]:
        pool = self._pool(str(required(params, "UserPoolId")))
        user = self._user_or_fault(pool, str(required(params, "Username")))
        self._revoke_user(pool, user)
        return {}

    # ------------------------------------------------------------ software token (TOTP)

    def op_AssociateSoftwareToken(self, params: Mapping[str, Any]) -> dict[str, Any]:
        secret = new_totp_secret()
        if params.get("AccessToken"):
            _, user, _ = self._access(params)
            user.totp_pending = secret
            return {"SecretCode": secret}
        session = params.get("Session")
        if not session:
            raise invalid_parameter("AccessToken or Session is required")
        state, _ = self._setup_session(str(session))
        return {
            "SecretCode": secret,
            "Session": self._reopen(state, setup_secret=secret, setup_verified=False),
        }

    def op_VerifySoftwareToken(self, params: Mapping[str, Any]) -> dict[str, Any]:
        code = required(params, "UserCode")
        mismatch = Fault("EnableSoftwareTokenMFAException", "Code mismatch")
        if params.get("AccessToken"):
            _, user, _ = self._access(params)
            if not user.totp_pending:
                raise Fault(
                    "SoftwareTokenMFANotFoundException", "Software token MFA is not associated"
                )
            if not self._totp_ok(user.totp_pending, code):
                raise mismatch
            user.totp_secret, user.totp_pending = user.totp_pending, None
            return {"Status": "SUCCESS"}
        session = params.get("Session")
        if not session:
            raise invalid_parameter("AccessToken or Session is required")
        state, _ = self._setup_session(str(session))
        if not state.setup_secret:
            raise Fault("SoftwareTokenMFANotFoundException", "Software token MFA is not associated")
        if not self._totp_ok(state.setup_secret, code):
            raise mismatch
        return {"Status": "SUCCESS", "Session": self._reopen(state, setup_verified=True)}
