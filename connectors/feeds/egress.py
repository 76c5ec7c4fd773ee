"""Which addresses a feed fetch may connect to: public ones, plus the networks an operator allows.

Feed URLs come from analysts and redirects from publishers, so both are untrusted: unchecked, a feed
could make the ingester reach loopback, link-local (cloud metadata) or private services (SSRF). The
check runs where the socket is opened, on the very address connected to, so a name that resolves to a
public address when checked and to a private one when connected (DNS rebinding) cannot slip through.
Only the socket gets the address: httpcore takes the Host header and the TLS server name (SNI and
certificate check) from the URL, so both still carry the host name.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

import httpcore

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
Resolver = Callable[[str, int], Sequence[IPAddress]]


class ForbiddenAddress(Exception):
    """Every address the host resolves to is non-public and off the allow-list."""


def non_public_kind(address: IPAddress, allow: Iterable[IPNetwork] = ()) -> str | None:
    """What makes ``address`` off-limits ("loopback", "private", …), or None if a fetch may reach it."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped:  # ::ffff:127.0.0.1 is 127.0.0.1
        address = address.ipv4_mapped
    if any(address in network for network in allow if network.version == address.version):
        return None
    for kind, applies in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
    ):
        if applies:
            return kind
    return "reserved" if address.is_reserved or not address.is_global else None


def system_resolve(host: str, port: int) -> list[IPAddress]:
    """The host's TCP addresses, in the resolver's order (IPv6 zone ids dropped)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ip_address(str(info[4][0]).partition("%")[0]) for info in infos))


class CheckedBackend(httpcore.SyncBackend):
    """httpcore's socket opener that resolves the host itself and connects only to permitted addresses."""

    def __init__(self, allow: Sequence[IPNetwork] = (), resolve: Resolver = system_resolve) -> None:
        self._allow = tuple(allow)
        self._resolve = resolve

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self._resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        permitted = [a for a in addresses if non_public_kind(a, self._allow) is None]
        if not permitted:
            refused = ", ".join(f"{a} ({non_public_kind(a, self._allow)})" for a in addresses[:3])
            raise ForbiddenAddress(
                f"{host} resolves only to non-public addresses off the allow-list: {refused or 'none'}"
            )
        failure: httpcore.ConnectError | None = None
        for address in permitted:
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # like socket.create_connection: try the next address
                failure = exc
        assert failure is not None
        raise failure
