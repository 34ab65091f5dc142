"""Sign-in on the local Cognito: InitiateAuth and RespondToAuthChallenge, checked for real.

moto answers USER_SRP_AUTH with random numbers and never checks the proof; here the
proof is checked against the user's password (RFC 5054 server side, _srp_server), the
SECRET_HASH of confidential clients is checked, remembered devices answer
DEVICE_SRP_AUTH with a real device proof, and every token is minted with moto's pool
key. MFA and new-password steps stay moto's (its sessions are reused).
"""

from __future__ import annotations

import json
import random
import string
import uuid
from collections.abc import Mapping
from typing import Any

from moto.cognitoidp.models import (
    CognitoIdpBackend,
    CognitoIdpUser,
    CognitoIdpUserPool,
    CognitoIdpUserPoolClient,
)
from moto.core.exceptions import JsonRESTError

from .._ids import pool_name
from ._local_hooks import LaterSteps
from ._local_state import (
    DeviceStep,
    Fault,
    SrpState,
    canonical_timestamp,
    invalid_parameter,
    not_authorized,
    pool_user,
    required,
    same,
    unsupported,
)
from ._srp_server import N, SrpServer

__all__ = ["AuthOps"]

_FLOW_PERMISSION = {
    "USER_SRP_AUTH": "ALLOW_USER_SRP_AUTH",
    "USER_PASSWORD_AUTH": "ALLOW_USER_PASSWORD_AUTH",
    "REFRESH_TOKEN_AUTH": "ALLOW_REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN": "ALLOW_REFRESH_TOKEN_AUTH",
    "CUSTOM_AUTH": "ALLOW_CUSTOM_AUTH",
    "USER_AUTH": "ALLOW_USER_AUTH",
}
_NO_DEVICE = "Device does not exist."
_GROUP_ALPHABET = string.ascii_letters + string.digits


def _srp_a(value: Any) -> str:
    text = str(value or "")
    try:
        a = int(text, 16)
    except ValueError:
        raise invalid_parameter("SRP_A is not a hexadecimal number") from None
    if a % N == 0:
        raise invalid_parameter("SRP_A is not a valid SRP value")
    return text


def moto_call(call: Any, *args: Any) -> Any:
    """Run a moto backend method, its errors turned into our faults."""
    try:
        return call(*args)
    except JsonRESTError as exc:
        raise Fault(exc.error_type, exc.message) from None


class AuthOps(LaterSteps):
    """The sign-in operations over one :class:`LocalState`."""

    # ------------------------------------------------------------ InitiateAuth

    def op_InitiateAuth(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool, client = self.state.client(params.get("ClientId"))
        flow = str(required(params, "AuthFlow"))
        ap: Mapping[str, Any] = params.get("AuthParameters") or {}
        permission = _FLOW_PERMISSION.get(flow)
        if permission is None:
            raise invalid_parameter("Initiate Auth method not supported.")
        allowed = client.extended_config.get("ExplicitAuthFlows") or []
        # Checked with the ALLOW_ names only (the legacy names mean other things).
        legacy = any(not str(f).startswith("ALLOW_") for f in allowed)
        if allowed and not legacy and permission not in allowed:
            raise invalid_parameter(f"{flow} flow not enabled for this client")
        if flow == "USER_AUTH" and params.get("Session"):
            return self.after_sign_up(pool, client, ap, params["Session"])
        if flow in ("CUSTOM_AUTH", "USER_AUTH"):
            return self.initiate_other(backend, pool, client, flow, ap)
        if flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
            rotation = client.extended_config.get("RefreshTokenRotation") or {}
            if rotation.get("Feature") == "ENABLED":
                # Rotation and REFRESH_TOKEN_AUTH do not mix (AWS developer guide).
                raise invalid_parameter(
                    f"{flow} is not supported for a client with refresh token rotation "
                    "enabled; use GetTokensFromRefreshToken"
                )
            return self._refresh(backend, pool, client, ap)
        typed = str(required(ap, "USERNAME"))
        self.state.check_secret_hash(client, typed, ap.get("SECRET_HASH"))
        user = pool_user(pool, typed)
        if user is None:
            raise Fault("UserNotFoundException", "User does not exist.")
        device_key = str(ap.get("DEVICE_KEY") or "") or None
        self._may_sign_in(user)  # before the password, as Cognito does
        if flow == "USER_PASSWORD_AUTH":
            if not user.password or not same(user.password, str(ap.get("PASSWORD") or "")):
                raise not_authorized()
            return self.after_password(backend, pool, client, user, device_key)
        return self.srp_challenge(pool, client, user, ap, device_key)

    def srp_challenge(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        ap: Mapping[str, Any],
        device_key: str | None,
        then: str | None = None,
    ) -> dict[str, Any]:
        """PASSWORD_VERIFIER: B and salt from the user's verifier, state under SECRET_BLOCK."""
        a = _srp_a(required(ap, "SRP_A"))
        salt_hex, verifier = self.state.verifier(pool, user)
        server = SrpServer(verifier=verifier, salt_hex=salt_hex)
        block = self.state.new_block()
        self.state.prune()
        with self.state.lock:
            self.state.srp_states[block] = SrpState(
                pool.id,
                client.id,
                user.username,
                server,
                a,
                block,
                self.state.now() + self.state.SESSION_SECONDS,
                device_key,
                then=then,
            )
        # Cognito answers this step without a Session: the SECRET_BLOCK carries it.
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

    @staticmethod
    def _may_sign_in(user: CognitoIdpUser) -> None:
        if not user.enabled:
            raise not_authorized("User is disabled.")
        if user.status == "UNCONFIRMED":
            raise Fault("UserNotConfirmedException", "User is not confirmed.")
        if user.status == "RESET_REQUIRED":
            raise Fault("PasswordResetRequiredException", "Password reset required for the user")

    # ------------------------------------------------------------ after the password

    def after_password(
        self,
        backend: CognitoIdpBackend,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        device_key: str | None,
    ) -> dict[str, Any]:
        """The step after a proven password: the device's proof, or moto's MFA/tokens."""
        if device_key is not None:
            device = self.state.devices_of(pool.id).get(device_key)
            if device is None or device.username != user.username:
                raise Fault("ResourceNotFoundException", _NO_DEVICE)
            # Only a confirmed, remembered device is asked for its proof.
            if device.confirmed and device.remembered and device.verifier is not None:
                session = uuid.uuid4().hex + uuid.uuid4().hex
                with self.state.lock:
                    self.state.device_steps[session] = DeviceStep(
                        pool.id,
                        client.id,
                        user.username,
                        device_key,
                        self.state.now() + self.state.SESSION_SECONDS,
                    )
                return {
                    "ChallengeName": "DEVICE_SRP_AUTH",
                    "Session": session,
                    "ChallengeParameters": {
                        "USERNAME": user.username,
                        "USER_ID_FOR_SRP": user.username,
                    },
                }
        if user.status != "FORCE_CHANGE_PASSWORD":
            ours = self.own_mfa_step(pool, client, user, device_key)
            if ours is not None:
                return ours
        if not self._needs_a_step(pool, user):
            return self.finish(pool, client, user, _TOKENS, device_key)  # no tokens minted twice
        # moto's own PASSWORD_VERIFIER step decides new password, MFA set-up, MFA or tokens.
        session = str(uuid.uuid4())
        backend.sessions[session] = (user.username, pool)
        answers = {
            "USERNAME": user.username,
            "PASSWORD_CLAIM_SIGNATURE": "checked",
            "PASSWORD_CLAIM_SECRET_BLOCK": session,
            "TIMESTAMP": "checked",
        }
        result = moto_call(
            backend.respond_to_auth_challenge, session, client.id, "PASSWORD_VERIFIER", answers
        )
        if "ChallengeName" in result and not result.get("ChallengeParameters"):
            result["ChallengeParameters"] = {"USERNAME": user.username}
        return self.finish(pool, client, user, result, device_key)

    @staticmethod
    def _needs_a_step(pool: CognitoIdpUserPool, user: CognitoIdpUser) -> bool:
        """Whether moto's PASSWORD_VERIFIER step would ask for anything (else: tokens)."""
        totp_ready = pool.token_mfa_config == {"Enabled": True} and user.token_verified
        return bool(
            user.status == "FORCE_CHANGE_PASSWORD"
            or pool.mfa_config == "ON"
            or user.software_token_mfa_enabled
            or totp_ready
            or user.sms_mfa_enabled
        )

    def finish(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        user: CognitoIdpUser,
        result: dict[str, Any],
        device_key: str | None,
    ) -> dict[str, Any]:
        """Re-issue moto's tokens as ours (device key, refresh record, new device)."""
        auth = result.get("AuthenticationResult") if isinstance(result, dict) else None
        name = result.get("ChallengeName")
        if name in ("SMS_MFA", "SOFTWARE_TOKEN_MFA"):
            # moto takes any SMS code and keeps sessions forever: ours are Cognito's.
            pool.backend.sessions.pop(str(result.get("Session") or ""), None)
            return self.mfa_step(pool, client, user, device_key, str(name))
        if name == "NEW_PASSWORD_REQUIRED":
            attrs = {k: v for k, v in user.attribute_lookup.items() if k != "sub"}
            result["ChallengeParameters"] = {
                "USERNAME": user.username,
                "USER_ID_FOR_SRP": user.username,
                "requiredAttributes": "[]",
                "userAttributes": json.dumps(attrs),
            }
        if name == "MFA_SETUP":
            params = result.setdefault("ChallengeParameters", {})
            can = params.get("MFAS_CAN_SETUP", [])
            can = json.loads(can) if isinstance(can, str) else list(can)
            if not user.attribute_lookup.get("phone_number"):
                can = [m for m in can if m != "SMS_MFA"]  # no phone to set SMS up with
            can += [m for m in self.mfa_setup_extra(pool) if m not in can]
            params["MFAS_CAN_SETUP"] = json.dumps(can)
            params.setdefault("USERNAME", user.username)
        if not auth:
            return result
        old = auth.get("RefreshToken")
        origin_jti = str(uuid.uuid4())
        if old:
            pool.refresh_tokens.pop(old, None)
        pool.access_tokens.pop(auth.get("AccessToken", ""), None)
        pool.id_tokens.pop(auth.get("IdToken", ""), None)
        new_device = None
        tracking = pool.extended_config.get("DeviceConfiguration")
        if tracking and device_key is None:
            new_device = self._new_device(pool, user)
            device_key = new_device
        fresh = self.state.mint(pool, client.id, user, origin_jti, device_key)
        fresh["RefreshToken"] = self.state.new_refresh(
            pool, client, user.username, origin_jti, device_key
        )
        if new_device is not None:
            fresh["NewDeviceMetadata"] = {
                "DeviceKey": new_device,
                "DeviceGroupKey": self.state.devices_of(pool.id)[new_device].group_key,
            }
        return {"ChallengeParameters": {}, "AuthenticationResult": fresh}

    def _new_device(self, pool: CognitoIdpUserPool, user: CognitoIdpUser) -> str:
        from ._local_state import Device

        now = self.state.now()
        key = f"{pool.region}_{uuid.uuid4()}"
        group = "-" + "".join(random.choice(_GROUP_ALPHABET) for _ in range(9))  # noqa: S311
        with self.state.lock:
            self.state.devices_of(pool.id)[key] = Device(
                key, group, user.username, now, last_modified=now
            )
        return key

    # ------------------------------------------------------------ RespondToAuthChallenge

    def op_RespondToAuthChallenge(self, params: Mapping[str, Any]) -> dict[str, Any]:
        backend, pool, client = self.state.client(params.get("ClientId"))
        name = str(required(params, "ChallengeName"))
        r: Mapping[str, Any] = params.get("ChallengeResponses") or {}
        username = str(required(r, "USERNAME"))
        if name in ("PASSWORD_VERIFIER", "DEVICE_PASSWORD_VERIFIER"):
            return self._verifier_answer(backend, pool, client, name, username, r)
        if name == "DEVICE_SRP_AUTH":
            return self._device_srp(pool, client, username, params, r)
        ours = self.respond_other(backend, pool, client, name, params)
        if ours is not None:
            return ours
        session = str(params.get("Session") or "")
        known = backend.sessions.get(session)
        if known is None:
            raise not_authorized("Invalid session for the user.")
        user = pool_user(pool, username) or pool_user(pool, known[0])
        if user is None:
            raise Fault("UserNotFoundException", "User does not exist.")
        self.state.check_secret_hash(client, username, r.get("SECRET_HASH"))
        if name == "MFA_SETUP" and r.get("EMAIL"):
            return self.email_setup(backend, pool, client, user, session, str(r["EMAIL"]))
        if name == "NEW_PASSWORD_REQUIRED":
            # moto drops the attributes a new-password answer sets; Cognito keeps them.
            prefix = "userAttributes."
            changes = [
                {"Name": key[len(prefix) :], "Value": str(value)}
                for key, value in r.items()
                if key.startswith(prefix)
            ]
            if changes and r.get("NEW_PASSWORD"):
                user.update_attributes(changes)
        result = moto_call(backend.respond_to_auth_challenge, session, client.id, name, dict(r))
        if not result:
            raise unsupported(f"The {name} challenge")
        if name == "MFA_SETUP" and result.get("AuthenticationResult") and user.token_verified:
            # Cognito turns the MFA just set up on (moto only marks the token verified).
            user.software_token_mfa_enabled = True
            user.preferred_mfa_setting = user.preferred_mfa_setting or "SOFTWARE_TOKEN_MFA"
        return self.finish(pool, client, user, result, None)

    def _verifier_answer(
        self,
        backend: CognitoIdpBackend,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        name: str,
        username: str,
        r: Mapping[str, Any],
    ) -> dict[str, Any]:
        block = str(r.get("PASSWORD_CLAIM_SECRET_BLOCK") or "")
        with self.state.lock:
            state = self.state.srp_states.pop(block, None)
        if (
            state is None
            or state.client_id != client.id
            or state.pool_id != pool.id
            or state.for_device != (name == "DEVICE_PASSWORD_VERIFIER")
            or self.state.now() >= state.expires_at
        ):
            raise not_authorized("Invalid session for the user.")
        user = pool.users.get(state.username)
        if user is None:
            raise Fault("UserNotFoundException", "User does not exist.")
        if username != user.username:
            raise not_authorized("USERNAME must be the USERNAME the challenge returned.")
        self.state.check_secret_hash(client, username, r.get("SECRET_HASH"))
        timestamp = canonical_timestamp(str(r.get("TIMESTAMP") or ""))
        device = None
        if state.for_device:
            device = self.state.devices_of(pool.id).get(state.device_key or "")
            if device is None or device.username != user.username:
                raise Fault("ResourceNotFoundException", _NO_DEVICE)
            if r.get("DEVICE_KEY") != device.device_key:
                raise not_authorized()
            first, second = device.group_key, device.device_key
        else:
            first, second = pool_name(pool.id), user.username
        ok = state.srp.verify_claim(
            srp_a=state.srp_a,
            first=first,
            second=second,
            secret_block=state.secret_block,
            timestamp=timestamp,
            signature=str(r.get("PASSWORD_CLAIM_SIGNATURE") or ""),
        )
        if not ok:
            raise not_authorized()
        self._may_sign_in(user)
        if device is not None:
            device.last_authenticated = self.state.now()
            # A remembered device stands in for MFA.
            return self.finish(pool, client, user, _TOKENS, device.device_key)
        if state.then == "custom":
            return self.custom_challenge(pool, client, user, state.device_key)
        device_key = str(r.get("DEVICE_KEY") or "") or state.device_key
        try:
            return self.after_password(backend, pool, client, user, device_key)
        except Fault as fault:
            if fault.message == _NO_DEVICE:
                # AWS's JS client answers "Device does not exist." by sending the same
                # proof again without the device: the step stays answerable once more.
                with self.state.lock:
                    self.state.srp_states[block] = state
            raise

    def _device_srp(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        username: str,
        params: Mapping[str, Any],
        r: Mapping[str, Any],
    ) -> dict[str, Any]:
        device_key = str(required(r, "DEVICE_KEY"))
        session = str(params.get("Session") or "")
        with self.state.lock:
            step = self.state.device_steps.pop(session, None)
            if step is None and not session:
                # pycognito answers without the Session: find the step by its user and device.
                for key, candidate in list(self.state.device_steps.items()):
                    if (candidate.client_id, candidate.username, candidate.device_key) == (
                        client.id,
                        username,
                        device_key,
                    ):
                        step = self.state.device_steps.pop(key)
                        break
        if (
            step is None
            or step.client_id != client.id
            or step.username != username
            or self.state.now() >= step.expires_at
        ):
            raise not_authorized("Invalid session for the user.")
        self.state.check_secret_hash(client, username, r.get("SECRET_HASH"))
        device = self.state.devices_of(pool.id).get(device_key)
        if device is None or device.username != username or device.verifier is None:
            raise Fault("ResourceNotFoundException", _NO_DEVICE)
        a = _srp_a(required(r, "SRP_A"))
        server = SrpServer(verifier=device.verifier, salt_hex=device.salt_hex or "")
        block = self.state.new_block()
        with self.state.lock:
            self.state.srp_states[block] = SrpState(
                pool.id,
                client.id,
                username,
                server,
                a,
                block,
                self.state.now() + self.state.SESSION_SECONDS,
                device_key,
                for_device=True,
            )
        return {
            "ChallengeName": "DEVICE_PASSWORD_VERIFIER",
            "ChallengeParameters": {
                "SRP_B": server.srp_b,
                "SALT": server.salt,
                "SECRET_BLOCK": block,
                "USERNAME": username,
                "DEVICE_KEY": device_key,
            },
        }


#: A stand-in for moto's answer when we decided on tokens ourselves.
_TOKENS: dict[str, Any] = {"AuthenticationResult": {"AccessToken": ""}}
