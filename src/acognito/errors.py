"""The exception hierarchy.

Every error acognito raises is a :class:`CognitoError`. Messages never contain a
token, a password, a secret or a challenge session: they name what went wrong and,
for service errors, carry the error code and request id Cognito returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [  # noqa: RUF022 - grouped by family, not sorted
    # base and local errors
    "CognitoError",
    "ConfigurationError",
    "SessionClosedError",
    "CognitoConnectionError",
    "SRPError",
    "AuthenticatorError",
    "TokenRefreshError",
    # user-pool service errors
    "CognitoServiceError",
    "AccessDeniedError",
    "AliasExistsError",
    "CodeDeliveryFailureError",
    "CodeMismatchError",
    "ConcurrentModificationError",
    "DeviceKeyExistsError",
    "DuplicateProviderError",
    "EnableSoftwareTokenMFAError",
    "ExpiredCodeError",
    "FeatureUnavailableInTierError",
    "ForbiddenError",
    "GroupExistsError",
    "InternalError",
    "InvalidEmailRoleAccessPolicyError",
    "InvalidLambdaResponseError",
    "InvalidOAuthFlowError",
    "InvalidParameterError",
    "InvalidPasswordError",
    "InvalidSmsRoleAccessPolicyError",
    "InvalidSmsRoleTrustRelationshipError",
    "InvalidUserPoolConfigurationError",
    "LimitExceededError",
    "ManagedLoginBrandingExistsError",
    "MFAMethodNotFoundError",
    "NotAuthorizedError",
    "OperationNotEnabledError",
    "PasswordHistoryPolicyViolationError",
    "PasswordResetRequiredError",
    "PreconditionNotMetError",
    "RefreshTokenReuseError",
    "ResourceNotFoundError",
    "ScopeDoesNotExistError",
    "ServiceQuotaExceededError",
    "SoftwareTokenMFANotFoundError",
    "TermsExistsError",
    "TierChangeNotAllowedError",
    "TooManyFailedAttemptsError",
    "TooManyRequestsError",
    "UnauthorizedError",
    "UnexpectedLambdaError",
    "UnsupportedIdentityProviderError",
    "UnsupportedOperationError",
    "UnsupportedTokenTypeError",
    "UnsupportedUserStateError",
    "UserImportInProgressError",
    "UserLambdaValidationError",
    "UserNotConfirmedError",
    "UserNotFoundError",
    "UserPoolAddOnNotEnabledError",
    "UserPoolTaggingError",
    "UsernameExistsError",
    "WebAuthnChallengeNotFoundError",
    "WebAuthnClientMismatchError",
    "WebAuthnConfigurationMissingError",
    "WebAuthnCredentialNotSupportedError",
    "WebAuthnNotEnabledError",
    "WebAuthnOriginNotAllowedError",
    "WebAuthnRelyingPartyMismatchError",
    "SERVICE_ERRORS",
    "service_error",
    # sign-in challenges
    "ChallengeRequired",
    "ForceChangePasswordException",
    "MFAChallengeException",
    "SMSMFAChallengeException",
    "SoftwareTokenMFAChallengeException",
    "EmailOTPChallengeException",
    "SelectMFATypeChallengeException",
    "MFASetupChallengeException",
    "CustomChallengeException",
    "UnsupportedChallengeError",
    # token verification
    "TokenVerificationError",
    "TokenVerificationException",
    "JwtParseError",
    "JwtWithoutValidKidError",
    "JwtInvalidSignatureError",
    "JwtInvalidSignatureAlgorithmError",
    "JwtInvalidClaimError",
    "JwtExpiredError",
    "JwtNotBeforeError",
    "JwtInvalidIssuerError",
    "JwtInvalidAudienceError",
    "JwtInvalidClientIdError",
    "JwtInvalidTokenUseError",
    "JwtInvalidGroupError",
    "JwtInvalidScopeError",
    "JwtAtHashMismatchError",
    "JwtCustomCheckError",
    "JwkError",
    "KidNotFoundInJwksError",
    "JwkInvalidUseError",
    "JwkInvalidKtyError",
    "JwksFetchError",
    "JwksNotAvailableError",
    "JwksPenaltyBoxError",
    "JwksFetchPenaltyError",
    "AlbJwtInvalidSignerError",
    "OidcDiscoveryError",
    # OAuth2 domain
    "OAuthError",
    "InvalidRequestOAuthError",
    "InvalidClientOAuthError",
    "InvalidGrantOAuthError",
    "UnauthorizedClientOAuthError",
    "UnsupportedGrantTypeOAuthError",
    "InvalidScopeOAuthError",
    "InvalidTokenOAuthError",
    "AccessDeniedOAuthError",
    "UnsupportedTokenTypeOAuthError",
    "OAuthStateMismatchError",
    "OAUTH_ERRORS",
    "oauth_error",
    # pycognito compatibility
    "WarrantException",
]


def _restore(cls: type[BaseException], args: tuple[Any, ...]) -> BaseException:
    """Rebuild an exception for copy/pickle without calling ``__init__`` again."""
    return cls.__new__(cls, *args)


class CognitoError(Exception):
    """Base class of every exception acognito raises."""

    def __reduce__(self) -> tuple[Any, ...]:
        # The default re-runs __init__ with the formatted message, which classes that
        # format their own message (OAuthError) would format twice. Copy the state.
        return (_restore, (type(self), self.args), self.__dict__ or None)


class ConfigurationError(CognitoError, ValueError):
    """Bad input or configuration, detected before any network call."""


class SessionClosedError(CognitoError, RuntimeError):
    """An operation was attempted on an :class:`AsyncCognito` that is closed."""


class CognitoConnectionError(CognitoError):
    """Cognito (or the pool's OAuth2 domain, or a JWKS URI) could not be reached in time."""


class SRPError(CognitoError):
    """The SRP exchange cannot go on safely (RFC 5054 checks, malformed challenge values)."""


class AuthenticatorError(CognitoError):
    """A passkey authenticator (a security key through ``fido2``) refused or failed.

    ``reason`` names what happened, for code that reacts: ``no_device``, ``pin_required``,
    ``pin_invalid``, ``pin_blocked``, ``already_registered``, ``no_credentials``,
    ``denied``, ``timeout``, ``unsupported``, ``bad_options`` or ``other``. The message
    never holds the PIN.
    """

    def __init__(self, message: str, *, reason: str = "other") -> None:
        super().__init__(message)
        self.reason = reason


class TokenRefreshError(CognitoError):
    """Fresh tokens could not be obtained; the underlying error is ``__cause__``."""


# --------------------------------------------------------------------------- service


class CognitoServiceError(CognitoError):
    """An error answered by the Cognito user-pool API.

    ``code`` is the service's error code (``NotAuthorizedException``), ``message``
    its message, ``request_id`` the request id to quote to AWS support and
    ``operation`` the API operation (``InitiateAuth``).
    """

    code: str = "Unknown"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        request_id: str | None = None,
        operation: str | None = None,
        status_code: int | None = None,
    ) -> None:
        if code is not None:
            self.code = code
        self.message = message
        self.request_id = request_id
        self.operation = operation
        self.status_code = status_code
        super().__init__(message)

    @property
    def operation_name(self) -> str | None:
        """botocore's name for :attr:`operation` (``ClientError.operation_name``)."""
        return self.operation

    @property
    def response(self) -> dict[str, Any]:
        """The error in botocore ``ClientError.response`` shape, for boto3-style handlers.

        ``e.response["Error"]["Code"]`` works as with boto3; a fresh dict each time, so
        a handler that edits it cannot change the exception.
        """
        metadata: dict[str, Any] = {}
        if self.request_id is not None:
            metadata["RequestId"] = self.request_id
        if self.status_code is not None:
            metadata["HTTPStatusCode"] = self.status_code
        return {
            "Error": {"Code": self.code, "Message": self.message},
            "ResponseMetadata": metadata,
        }

    def __str__(self) -> str:
        where = f" in {self.operation}" if self.operation else ""
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{self.code}{where}: {self.message}{rid}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"request_id={self.request_id!r}, operation={self.operation!r})"
        )


class AccessDeniedError(CognitoServiceError):
    """The caller is not allowed to perform the operation."""

    code = "AccessDeniedException"


class AliasExistsError(CognitoServiceError):
    """An account with this email or phone number already exists as an alias."""

    code = "AliasExistsException"


class CodeDeliveryFailureError(CognitoServiceError):
    """The verification code could not be delivered."""

    code = "CodeDeliveryFailureException"


class CodeMismatchError(CognitoServiceError):
    """The code the user entered is not the one Cognito sent."""

    code = "CodeMismatchException"


class ConcurrentModificationError(CognitoServiceError):
    """Another request changed the same resource at the same time."""

    code = "ConcurrentModificationException"


class DeviceKeyExistsError(CognitoServiceError):
    """The device key is already in use."""

    code = "DeviceKeyExistsException"


class DuplicateProviderError(CognitoServiceError):
    """An identity provider with this name already exists."""

    code = "DuplicateProviderException"


class EnableSoftwareTokenMFAError(CognitoServiceError):
    """The TOTP code did not verify, so software-token MFA was not enabled."""

    code = "EnableSoftwareTokenMFAException"


class ExpiredCodeError(CognitoServiceError):
    """The code has expired."""

    code = "ExpiredCodeException"


class FeatureUnavailableInTierError(CognitoServiceError):
    """The feature needs a higher user-pool feature plan."""

    code = "FeatureUnavailableInTierException"


class ForbiddenError(CognitoServiceError):
    """AWS WAF blocked the request."""

    code = "ForbiddenException"


class GroupExistsError(CognitoServiceError):
    """A group with this name already exists."""

    code = "GroupExistsException"


class InternalError(CognitoServiceError):
    """Cognito failed internally; retrying later may help."""

    code = "InternalErrorException"


class InvalidEmailRoleAccessPolicyError(CognitoServiceError):
    """Cognito is not allowed to send email with the configured identity."""

    code = "InvalidEmailRoleAccessPolicyException"


class InvalidLambdaResponseError(CognitoServiceError):
    """A Lambda trigger returned an invalid response."""

    code = "InvalidLambdaResponseException"


class InvalidOAuthFlowError(CognitoServiceError):
    """The OAuth flow configured on the app client is invalid."""

    code = "InvalidOAuthFlowException"


class InvalidParameterError(CognitoServiceError):
    """A parameter of the request is invalid."""

    code = "InvalidParameterException"


class InvalidPasswordError(CognitoServiceError):
    """The password does not satisfy the pool's password policy."""

    code = "InvalidPasswordException"


class InvalidSmsRoleAccessPolicyError(CognitoServiceError):
    """The SMS role cannot publish SMS messages."""

    code = "InvalidSmsRoleAccessPolicyException"


class InvalidSmsRoleTrustRelationshipError(CognitoServiceError):
    """The SMS role's trust relationship is not valid."""

    code = "InvalidSmsRoleTrustRelationshipException"


class InvalidUserPoolConfigurationError(CognitoServiceError):
    """The user pool is not configured for this operation."""

    code = "InvalidUserPoolConfigurationException"


class LimitExceededError(CognitoServiceError):
    """A service limit was exceeded for the resource."""

    code = "LimitExceededException"


class ManagedLoginBrandingExistsError(CognitoServiceError):
    """A managed-login branding style already exists for the client."""

    code = "ManagedLoginBrandingExistsException"


class MFAMethodNotFoundError(CognitoServiceError):
    """No MFA method is set up for the user."""

    code = "MFAMethodNotFoundException"


class NotAuthorizedError(CognitoServiceError):
    """Wrong credentials, a revoked or expired token, or a disabled user."""

    code = "NotAuthorizedException"


class OperationNotEnabledError(CognitoServiceError):
    """The operation is not enabled for the pool or client."""

    code = "OperationNotEnabledException"


class PasswordHistoryPolicyViolationError(CognitoServiceError):
    """The new password was used recently."""

    code = "PasswordHistoryPolicyViolationException"


class PasswordResetRequiredError(CognitoServiceError):
    """The user must reset the password before signing in."""

    code = "PasswordResetRequiredException"


class PreconditionNotMetError(CognitoServiceError):
    """A precondition of the request is not met."""

    code = "PreconditionNotMetException"


class RefreshTokenReuseError(CognitoServiceError):
    """A rotated refresh token was used again."""

    code = "RefreshTokenReuseException"


class ResourceNotFoundError(CognitoServiceError):
    """The pool, client or other resource does not exist."""

    code = "ResourceNotFoundException"


class ScopeDoesNotExistError(CognitoServiceError):
    """A requested scope does not exist."""

    code = "ScopeDoesNotExistException"


class ServiceQuotaExceededError(CognitoServiceError):
    """A service quota was exceeded."""

    code = "ServiceQuotaExceededException"


class SoftwareTokenMFANotFoundError(CognitoServiceError):
    """Software-token MFA is not set up for the user."""

    code = "SoftwareTokenMFANotFoundException"


class TermsExistsError(CognitoServiceError):
    """Terms with this name already exist."""

    code = "TermsExistsException"


class TierChangeNotAllowedError(CognitoServiceError):
    """The feature-plan change is not allowed."""

    code = "TierChangeNotAllowedException"


class TooManyFailedAttemptsError(CognitoServiceError):
    """Too many failed attempts; wait before trying again."""

    code = "TooManyFailedAttemptsException"


class TooManyRequestsError(CognitoServiceError):
    """The request was throttled."""

    code = "TooManyRequestsException"


class UnauthorizedError(CognitoServiceError):
    """The request is not authorized."""

    code = "UnauthorizedException"


class UnexpectedLambdaError(CognitoServiceError):
    """A Lambda trigger failed unexpectedly."""

    code = "UnexpectedLambdaException"


class UnsupportedIdentityProviderError(CognitoServiceError):
    """The identity provider is not supported by the client."""

    code = "UnsupportedIdentityProviderException"


class UnsupportedOperationError(CognitoServiceError):
    """The operation is not supported (for example, revocation is disabled)."""

    code = "UnsupportedOperationException"


class UnsupportedTokenTypeError(CognitoServiceError):
    """The token given is not of a supported type."""

    code = "UnsupportedTokenTypeException"


class UnsupportedUserStateError(CognitoServiceError):
    """The user is in a state that does not allow the operation."""

    code = "UnsupportedUserStateException"


class UserImportInProgressError(CognitoServiceError):
    """A user import job is running."""

    code = "UserImportInProgressException"


class UserLambdaValidationError(CognitoServiceError):
    """A Lambda trigger rejected the request."""

    code = "UserLambdaValidationException"


class UserNotConfirmedError(CognitoServiceError):
    """The user has not confirmed the sign-up."""

    code = "UserNotConfirmedException"


class UserNotFoundError(CognitoServiceError):
    """No such user in the pool."""

    code = "UserNotFoundException"


class UserPoolAddOnNotEnabledError(CognitoServiceError):
    """The pool's advanced security features are not enabled."""

    code = "UserPoolAddOnNotEnabledException"


class UserPoolTaggingError(CognitoServiceError):
    """The pool's tags could not be set."""

    code = "UserPoolTaggingException"


class UsernameExistsError(CognitoServiceError):
    """A user with this name already exists."""

    code = "UsernameExistsException"


class WebAuthnChallengeNotFoundError(CognitoServiceError):
    """No pending WebAuthn challenge matches the request."""

    code = "WebAuthnChallengeNotFoundException"


class WebAuthnClientMismatchError(CognitoServiceError):
    """The WebAuthn credential belongs to another client."""

    code = "WebAuthnClientMismatchException"


class WebAuthnConfigurationMissingError(CognitoServiceError):
    """WebAuthn is not configured for the pool."""

    code = "WebAuthnConfigurationMissingException"


class WebAuthnCredentialNotSupportedError(CognitoServiceError):
    """The WebAuthn credential is not supported."""

    code = "WebAuthnCredentialNotSupportedException"


class WebAuthnNotEnabledError(CognitoServiceError):
    """WebAuthn is not enabled for the pool."""

    code = "WebAuthnNotEnabledException"


class WebAuthnOriginNotAllowedError(CognitoServiceError):
    """The WebAuthn origin is not allowed."""

    code = "WebAuthnOriginNotAllowedException"


class WebAuthnRelyingPartyMismatchError(CognitoServiceError):
    """The WebAuthn relying party does not match."""

    code = "WebAuthnRelyingPartyMismatchException"


#: Cognito error code -> exception class, for every code the user-pool API documents.
SERVICE_ERRORS: Mapping[str, type[CognitoServiceError]] = {
    **{cls.code: cls for cls in CognitoServiceError.__subclasses__()},
    # Cognito answers some internal failures with this other spelling.
    "InternalServerException": InternalError,
}


def service_error(
    code: str,
    message: str,
    *,
    request_id: str | None = None,
    operation: str | None = None,
    status_code: int | None = None,
) -> CognitoServiceError:
    """Build the exception for a Cognito error code (an unknown code gives the base class)."""
    cls = SERVICE_ERRORS.get(code, CognitoServiceError)
    return cls(
        message,
        code=code,
        request_id=request_id,
        operation=operation,
        status_code=status_code,
    )


# --------------------------------------------------------------------------- challenges


class ChallengeRequired(CognitoError):
    """Sign-in needs another step before tokens are issued.

    Raised by ``authenticate`` (pycognito style). ``challenge_name`` says which step,
    ``parameters`` holds the non-secret challenge parameters. The opaque session
    string is kept but never shown in ``str()`` or ``repr()``. :meth:`get_tokens`
    returns a dict to pass back to the matching ``respond_to_*`` method, possibly on
    another :class:`~acognito.AsyncCognito` instance. ``username`` is the pool's own
    user name for the rest of the sign-in (what SECRET_HASH must be computed over).
    """

    default_challenge = ""

    def __init__(
        self,
        message: str = "",
        *,
        challenge_name: str | None = None,
        session: str | None = None,
        parameters: Mapping[str, str] | None = None,
        username: str | None = None,
        admin: bool = False,
    ) -> None:
        self.challenge_name = challenge_name or self.default_challenge
        self.admin = admin
        self._session = session
        self.parameters: dict[str, str] = dict(parameters or {})
        self.username = username
        super().__init__(message or f"sign-in requires the {self.challenge_name} challenge")

    @property
    def session(self) -> str | None:
        """The opaque challenge session to send back to Cognito."""
        return self._session

    def get_tokens(self) -> dict[str, Any]:
        """What a ``respond_to_*`` call needs to continue this sign-in (pycognito name)."""
        tokens: dict[str, Any] = {
            "ChallengeName": self.challenge_name,
            "Session": self._session,
            "ChallengeParameters": dict(self.parameters),
            "Username": self.username,
        }
        if self.admin:
            tokens["Admin"] = True
        return tokens

    def __repr__(self) -> str:
        return f"{type(self).__name__}(challenge_name={self.challenge_name!r})"


class ForceChangePasswordException(ChallengeRequired):
    """NEW_PASSWORD_REQUIRED: the user must choose a new password (``new_password_challenge``)."""

    default_challenge = "NEW_PASSWORD_REQUIRED"


class MFAChallengeException(ChallengeRequired):
    """An MFA code is required to finish sign-in."""


class SMSMFAChallengeException(MFAChallengeException):
    """SMS_MFA: answer with ``respond_to_sms_mfa_challenge``."""

    default_challenge = "SMS_MFA"


class SoftwareTokenMFAChallengeException(MFAChallengeException):
    """SOFTWARE_TOKEN_MFA: answer with ``respond_to_software_token_mfa_challenge``."""

    default_challenge = "SOFTWARE_TOKEN_MFA"


class EmailOTPChallengeException(MFAChallengeException):
    """EMAIL_OTP: answer with ``respond_to_email_otp_challenge``."""

    default_challenge = "EMAIL_OTP"


class SelectMFATypeChallengeException(MFAChallengeException):
    """SELECT_MFA_TYPE: answer with ``select_mfa_type``."""

    default_challenge = "SELECT_MFA_TYPE"


class MFASetupChallengeException(MFAChallengeException):
    """MFA_SETUP: the user must register an MFA method before signing in."""

    default_challenge = "MFA_SETUP"


class CustomChallengeException(ChallengeRequired):
    """CUSTOM_CHALLENGE without a callback to answer it."""

    default_challenge = "CUSTOM_CHALLENGE"


class UnsupportedChallengeError(ChallengeRequired):
    """Cognito asked for a challenge acognito does not answer automatically."""


# --------------------------------------------------------------------------- tokens


class TokenVerificationError(CognitoError):
    """A JWT failed verification. Every way a token can fail is a subclass."""


#: pycognito's name for :class:`TokenVerificationError`.
TokenVerificationException = TokenVerificationError


class JwtParseError(TokenVerificationError):
    """The token is not a well-formed compact JWS with JSON header and payload."""


class JwtWithoutValidKidError(JwtParseError):
    """The token header has no usable ``kid`` (key id), so no key can be chosen."""


class JwtInvalidSignatureError(TokenVerificationError):
    """The signature does not verify with the pool's key."""


class JwtInvalidSignatureAlgorithmError(TokenVerificationError):
    """The token's ``alg`` is not allowed (only RS256 is) or does not match the key."""


class JwtInvalidClaimError(TokenVerificationError):
    """A claim is missing, of the wrong type or has the wrong value."""

    def __init__(self, message: str, *, claim: str | None = None) -> None:
        self.claim = claim
        super().__init__(message)


class JwtExpiredError(JwtInvalidClaimError):
    """``exp`` is in the past (beyond the grace period)."""


class JwtNotBeforeError(JwtInvalidClaimError):
    """``nbf`` is in the future (beyond the grace period)."""


class JwtInvalidIssuerError(JwtInvalidClaimError):
    """``iss`` is not the expected user pool."""


class JwtInvalidAudienceError(JwtInvalidClaimError):
    """An id token's ``aud`` is not an accepted app client."""


class JwtInvalidClientIdError(JwtInvalidClaimError):
    """An access token's ``client_id`` is not an accepted app client."""


class JwtInvalidTokenUseError(JwtInvalidClaimError):
    """``token_use`` is not the expected one (``id`` or ``access``)."""


class JwtInvalidGroupError(JwtInvalidClaimError):
    """``cognito:groups`` does not include any of the required groups."""


class JwtInvalidScopeError(JwtInvalidClaimError):
    """``scope`` does not include any of the required scopes."""


class JwtAtHashMismatchError(JwtInvalidClaimError):
    """The id token's ``at_hash`` does not match the access token."""


class JwtCustomCheckError(TokenVerificationError):
    """The verifier's ``custom_check`` rejected the token."""


class JwkError(TokenVerificationError):
    """The signing key cannot be used for this token."""


class KidNotFoundInJwksError(JwkError):
    """No key in the JWKS has the token's ``kid``."""


class JwkInvalidUseError(JwkError):
    """The key's ``use`` is not ``sig``."""


class JwkInvalidKtyError(JwkError):
    """The key's ``kty`` is not ``RSA``."""


class JwksFetchError(TokenVerificationError):
    """The JWKS could not be fetched or is not a valid JWKS document."""


class JwksNotAvailableError(TokenVerificationError):
    """No JWKS is cached for the issuer and a synchronous verify cannot fetch one."""


class JwksPenaltyBoxError(KidNotFoundInJwksError):
    """The kid was unknown after a refetch; the JWKS URI is blocked for a short while."""


class JwksFetchPenaltyError(JwksPenaltyBoxError, JwksFetchError):
    """The kid is not cached and fetching the JWKS failed moments ago: the URI is blocked
    for a short while. Both a penalty-box error and a fetch error (an outage, not a bad
    token)."""


class AlbJwtInvalidSignerError(JwtInvalidClaimError):
    """The ALB token's ``signer`` (in its header) is not an accepted load balancer ARN."""


class OidcDiscoveryError(JwksFetchError):
    """The issuer's OpenID Connect discovery document could not be fetched or is invalid."""


# --------------------------------------------------------------------------- OAuth2


class OAuthError(CognitoError):
    """An error answered by the pool's OAuth2 domain (``/oauth2/token`` and friends).

    ``error`` is the RFC 6749 error code, ``description`` the server's text.
    """

    error: str = "oauth_error"

    def __init__(
        self,
        description: str = "",
        *,
        error: str | None = None,
        status_code: int | None = None,
    ) -> None:
        if error is not None:
            self.error = error
        self.description = description
        self.status_code = status_code
        super().__init__(f"{self.error}: {description}" if description else self.error)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(error={self.error!r}, status_code={self.status_code!r})"


class InvalidRequestOAuthError(OAuthError):
    """``invalid_request``: the request is missing or repeats a parameter."""

    error = "invalid_request"


class InvalidClientOAuthError(OAuthError):
    """``invalid_client``: client authentication failed."""

    error = "invalid_client"


class InvalidGrantOAuthError(OAuthError):
    """``invalid_grant``: the code, refresh token or verifier is invalid, expired or revoked."""

    error = "invalid_grant"


class UnauthorizedClientOAuthError(OAuthError):
    """``unauthorized_client``: the client may not use this grant."""

    error = "unauthorized_client"


class UnsupportedGrantTypeOAuthError(OAuthError):
    """``unsupported_grant_type``."""

    error = "unsupported_grant_type"


class InvalidScopeOAuthError(OAuthError):
    """``invalid_scope``: a requested scope is unknown or not allowed."""

    error = "invalid_scope"


class InvalidTokenOAuthError(OAuthError):
    """``invalid_token``: the bearer token given to ``/oauth2/userInfo`` is not valid."""

    error = "invalid_token"


class AccessDeniedOAuthError(OAuthError):
    """``access_denied``: the user or the server refused the authorization."""

    error = "access_denied"


class UnsupportedTokenTypeOAuthError(OAuthError):
    """``unsupported_token_type``: ``/oauth2/revoke`` takes refresh tokens only."""

    error = "unsupported_token_type"


class OAuthStateMismatchError(OAuthError):
    """The ``state`` returned to the redirect URI is not the one sent (possible CSRF)."""

    error = "state_mismatch"


OAUTH_ERRORS: Mapping[str, type[OAuthError]] = {
    cls.error: cls for cls in OAuthError.__subclasses__()
}


def oauth_error(error: str, description: str = "", *, status_code: int | None = None) -> OAuthError:
    """Build the exception for an OAuth2 error code (an unknown code gives the base class)."""
    cls = OAUTH_ERRORS.get(error, OAuthError)
    return cls(description, error=error, status_code=status_code)


# --------------------------------------------------------------------------- pycognito


#: pycognito's base exception name.
WarrantException = CognitoError
