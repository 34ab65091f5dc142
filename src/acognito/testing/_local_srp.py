"""SRP on the local Cognito: PASSWORD_VERIFIER and the device's proof, checked for real.

moto answers USER_SRP_AUTH with random numbers and never checks the proof; here the
proof is checked against the user's password (RFC 5054 server side, _srp_server), and a
remembered device proves its own secret (DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER).
Each step is single use and lives Cognito's 3 minutes; its state hides under the
SECRET_BLOCK Cognito hands out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool, CognitoIdpUserPoolClient

from .._ids import pool_name
from ._local_password import NO_DEVICE, PasswordSteps
from ._local_state import (
    Caller,
    Fault,
    LocalState,
    SrpState,
    canonical_timestamp,
    invalid_parameter,
    may_sign_in,
    not_authorized,
    required,
)
from ._local_tokens import Tokens
from ._srp_server import N, SrpServer

__all__ = ["Srp"]

#: What follows a checked proof instead of the usual steps (CUSTOM_AUTH's define).
Then = Callable[[Caller], dict[str, Any]]


def _srp_a(value: Any) -> str:
    text = str(value or "")
    try:
        a = int(text, 16)
    except ValueError:
        raise invalid_parameter("SRP_A is not a hexadecimal number") from None
    if a % N == 0:
        raise invalid_parameter("SRP_A is not a valid SRP value")
    return text


class Srp:
    """The SRP steps of a sign-in, over the shared state."""

    def __init__(self, state: LocalState, steps: PasswordSteps, tokens: Tokens) -> None:
        self.state = state
        self.steps = steps
        self.tokens = tokens

    def challenge(
        self, caller: Caller, ap: Mapping[str, Any], then: Then | None = None
    ) -> dict[str, Any]:
        """PASSWORD_VERIFIER: B and salt from the user's verifier, state under SECRET_BLOCK."""
        pool, user = caller.pool, caller.user
        a = _srp_a(required(ap, "SRP_A"))
        salt_hex, verifier = self.state.verifier(pool, user)
        server = SrpServer(verifier=verifier, salt_hex=salt_hex)
        block = self.state.new_block()
        self.state.prune()
        with self.state.lock:
            self.state.srp_states[block] = SrpState(
                pool.id,
                caller.client.id,
                user.username,
                server,
                a,
                block,
                self.state.now() + self.state.SESSION_SECONDS,
                caller.device_key,
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

    def answer_verifier(
        self,
        backend: CognitoIdpBackend,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        metadata: dict[str, str],
        name: str,
        r: Mapping[str, Any],
    ) -> dict[str, Any]:
        """PASSWORD_VERIFIER or DEVICE_PASSWORD_VERIFIER: the SECRET_BLOCK names the step."""
        username = str(required(r, "USERNAME"))
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
                raise Fault("ResourceNotFoundException", NO_DEVICE)
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
        may_sign_in(user)
        caller = Caller(backend, pool, client, user, state.device_key, metadata)
        if device is not None:
            device.last_authenticated = self.state.now()
            # A remembered device stands in for MFA.
            caller.device_key = device.device_key
            return self.tokens.sign_in(caller, "AuthenticateDevice")
        if state.then is not None:
            return state.then(caller)  # type: ignore[no-any-return]
        caller.device_key = str(r.get("DEVICE_KEY") or "") or state.device_key
        try:
            return self.steps.after_password(caller)
        except Fault as fault:
            if fault.message == NO_DEVICE:
                # AWS's JS client answers "Device does not exist." by sending the same
                # proof again without the device: the step stays answerable once more.
                with self.state.lock:
                    self.state.srp_states[block] = state
            raise

    def answer_device(
        self,
        pool: CognitoIdpUserPool,
        client: CognitoIdpUserPoolClient,
        session: str,
        r: Mapping[str, Any],
    ) -> dict[str, Any]:
        """DEVICE_SRP_AUTH: the device's SRP_A, answered with DEVICE_PASSWORD_VERIFIER."""
        username = str(required(r, "USERNAME"))
        device_key = str(required(r, "DEVICE_KEY"))
        step = self._device_step(client, username, device_key, session)
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
            raise Fault("ResourceNotFoundException", NO_DEVICE)
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

    def _device_step(
        self, client: CognitoIdpUserPoolClient, username: str, device_key: str, session: str
    ) -> Any:
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
                        return self.state.device_steps.pop(key)
        return step
