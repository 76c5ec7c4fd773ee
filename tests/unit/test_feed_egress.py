"""Which addresses a feed fetch may reach: public ones, plus the operator's allow-list."""

from ipaddress import ip_address, ip_network

import pytest

from connectors.feeds.egress import non_public_kind


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped: the IPv4 address it wraps decides
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("100.64.0.1", "reserved"),  # carrier-grade NAT
        ("64:ff9b::7f00:1", "reserved"),  # NAT64 of 127.0.0.1
        ("93.184.215.14", None),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None),
    ],
)
def test_only_public_addresses_are_reachable_by_default(address: str, kind: str | None) -> None:
    assert non_public_kind(ip_address(address)) == kind


def test_the_allow_list_admits_its_networks_and_nothing_else() -> None:
    allow = [ip_network("127.0.0.0/8"), ip_network("10.20.0.0/16")]
    assert non_public_kind(ip_address("127.0.0.5"), allow) is None
    assert non_public_kind(ip_address("::ffff:127.0.0.5"), allow) is None
    assert non_public_kind(ip_address("10.20.3.4"), allow) is None
    assert non_public_kind(ip_address("10.21.0.1"), allow) == "private"
    assert non_public_kind(ip_address("::1"), allow) == "loopback"  # an IPv4 network never admits IPv6
