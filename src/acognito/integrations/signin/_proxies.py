"""The client's IP address: the peer's, or ``X-Forwarded-For``'s when a trusted proxy
sent the request. No proxy is trusted unless configured. Standard library only."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from ...errors import ConfigurationError

__all__ = ["TrustedProxies"]

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str | None) -> _Address | None:
    """An IP address from a peer or a forwarded hop (``[v6]``, ``v4:port`` tolerated)."""
    if not text:
        return None
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.partition(":")[0]
    try:
        found = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


class TrustedProxies:
    """The proxies whose ``X-Forwarded-For`` is believed: addresses or networks
    (``"10.0.0.0/8"``, ``"127.0.0.1"``). Empty (the default): the header is ignored."""

    __slots__ = ("_networks",)

    def __init__(self, proxies: Iterable[str] = ()) -> None:
        if isinstance(proxies, str):
            proxies = [proxies]
        networks: list[_Network] = []
        for item in proxies:
            try:
                networks.append(ipaddress.ip_network(str(item).strip(), strict=False))
            except ValueError:
                raise ConfigurationError(
                    f"trusted proxy {str(item)[:60]!r} is not an IP address or network"
                ) from None
        self._networks = tuple(networks)

    def __bool__(self) -> bool:
        return bool(self._networks)

    def trusts(self, address: _Address) -> bool:
        return any(address in network for network in self._networks)

    def client_ip(self, peer: str | None, forwarded_for: Sequence[str] = ()) -> str | None:
        """The client's address: ``peer`` unless it is a trusted proxy; then the nearest
        address in ``X-Forwarded-For`` (read right to left) that is not a trusted proxy.
        A malformed hop stops the walk at the last address known good."""
        address = _address(peer)
        if address is None:
            return None
        if not self._networks or not self.trusts(address):
            return str(address)
        hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
        for hop in reversed(hops):
            found = _address(hop)
            if found is None:
                break
            address = found
            if not self.trusts(found):
                break
        return str(address)

    def __repr__(self) -> str:
        return f"TrustedProxies({[str(n) for n in self._networks]!r})"
