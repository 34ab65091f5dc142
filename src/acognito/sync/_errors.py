"""pycognito's error habits, for the blocking drop-in only: a refusal by Cognito raised
by :mod:`acognito.sync` is at once acognito's typed error, botocore's ``ClientError``
and the client's modelled exception class.

pycognito code handles every service error one of two ways::

    except botocore.exceptions.ClientError as e:      # e.response["Error"]["Code"]
    except cognito.client.exceptions.NotAuthorizedException:

so :func:`boto_error` turns acognito's :class:`~acognito.errors.NotAuthorizedError` into
an instance of a class made once per (acognito class, modelled class) pair that
subclasses both. The modelled class comes from the ``exceptions`` of the client the
caller sees (``cognito.client``, or the boto3 client given to ``AWSSRP``), so the
``except`` clause matches; without one, from botocore's own model of cognito-idp.

The async API's errors stay free of botocore (``docs/migration.md``). These errors
pickle (Celery, multiprocessing) as their static acognito class: the pair class exists
only in the process that made it.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from ..errors import CognitoError, CognitoServiceError, _restore

__all__ = ["boto_error", "botocore_errors", "modelled_exceptions", "run_mapped"]

T = TypeVar("T")

_LOCK = threading.Lock()
_PAIRS: dict[tuple[type[CognitoServiceError], type[BaseException]], type[CognitoServiceError]] = {}
_STATIC: list[Any] = []


def modelled_exceptions() -> Any:
    """botocore's ``client.exceptions`` for cognito-idp, made once from its own model
    (for errors raised where no client is at hand)."""
    with _LOCK:
        if not _STATIC:
            import botocore.session
            from botocore.errorfactory import ClientExceptionsFactory
            from botocore.model import ServiceModel

            loader = botocore.session.get_session().get_component("data_loader")
            model = ServiceModel(
                loader.load_service_model("cognito-idp", "service-2"), "cognito-idp"
            )
            _STATIC.append(ClientExceptionsFactory().create_client_exceptions(model))
        return _STATIC[0]


def _reduce_as_static(self: CognitoServiceError) -> tuple[Any, ...]:
    # The pair class is made at run time: pickle as the acognito class it extends.
    static = next(c for c in type(self).__mro__[1:] if c.__module__ == "acognito.errors")
    return (_restore, (static, self.args), self.__dict__ or None)


def _pair(cls: type[CognitoServiceError], modelled: type[BaseException]) -> type[Any]:
    key = (cls, modelled)
    with _LOCK:
        made = _PAIRS.get(key)
        if made is None:
            made = type(
                modelled.__name__,
                (cls, modelled),
                {
                    "__module__": __name__,
                    "__qualname__": modelled.__name__,
                    "__doc__": f"{cls.__name__} that is also botocore's {modelled.__name__}.",
                    "__reduce__": _reduce_as_static,
                    "_botocore_pair": True,
                },
            )
            _PAIRS[key] = made
        return made


def boto_error(exc: CognitoServiceError, exceptions: Any = None) -> CognitoServiceError:
    """``exc`` as an instance of its class and of ``exceptions``' class for its code
    (``ClientError`` for a code the model does not name). ``exceptions`` is a botocore
    client's ``exceptions``; None: botocore's own model of cognito-idp."""
    if getattr(type(exc), "_botocore_pair", False):
        return exc
    source = exceptions if exceptions is not None else modelled_exceptions()
    try:
        modelled = source.from_code(exc.code)
    except Exception:  # a stand-in client without botocore's exceptions
        modelled = modelled_exceptions().from_code(exc.code)
    twin = _pair(type(exc), modelled)
    made: CognitoServiceError = twin.__new__(twin, *exc.args)
    made.__dict__.update(exc.__dict__)
    made.__cause__, made.__context__ = exc.__cause__, exc.__context__
    made.__suppress_context__ = exc.__suppress_context__
    return made


@contextmanager
def botocore_errors(exceptions: Callable[[], Any]) -> Iterator[None]:
    """Re-raise a :class:`~acognito.errors.CognitoServiceError` as :func:`boto_error`
    makes it; ``exceptions`` is asked for the client's exceptions only then."""
    try:
        yield
    except CognitoServiceError as exc:
        try:
            found = exceptions()
        except CognitoError:  # no client at hand (closed, never opened)
            found = None
        raise boto_error(exc, found).with_traceback(exc.__traceback__) from None


def run_mapped(
    run: Callable[..., Any],
    exceptions: Callable[[], Any],
    func: Callable[..., Awaitable[T]],
    *args: Any,
    **kwargs: Any,
) -> T:
    """``run(func, *args, **kwargs)`` with Cognito's refusals made botocore's too."""
    with botocore_errors(exceptions):
        result: T = run(func, *args, **kwargs)
        return result
