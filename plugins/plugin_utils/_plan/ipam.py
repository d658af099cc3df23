# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one address allocator of every network driver (controller only, pure).

Bridge networks allocate per host (``fleet.plan_host``), overlay and macvlan networks once for the fleet
(``overlay.Fleet``); both go through :class:`Allocator`, in the same order: addresses given statically are
reserved, then the addresses endpoints already hold and may keep, then what else must never be handed out
(addresses a host holds that are no endpoint's, Docker's MAC-derived addresses of a user's ``mac_address``);
new endpoints then take the lowest free address, as Docker's IPAM does.
"""

from __future__ import annotations

from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.topology import reserved_addresses


class PoolExhausted(ValueError):
    """No free address is left in a network's range."""


def exhausted(host, container, net, version=4):
    """The message of a full network (Docker: 'no available IPv4 addresses on this network's address pools');
    ``net`` is the network's IPAM entry of that family (Network.ipam)."""
    prefix = '' if version == 4 else 'ipv6_'
    return ('host %s: container %s: no available IPv%d addresses on network %s (range %s). Fix: widen %sip_range or '
            '%ssubnet, or give the container a static ipv%d_address'
            % (host, container, version, net.name, net.ip_range or net.subnet, prefix, prefix, version))


class Allocator:
    """Free addresses of one network's IPAM entry of one family (a Network, or Network.ipam(6)): its ip_range (all of
    it), else its subnet without network and (IPv4) broadcast address; never the gateway nor a reserved address.
    Walks the range lazily from the lowest address."""

    def __init__(self, net):
        self.net = net
        rng = net.ip_range or net.subnet
        self.make = type(rng.network_address)
        self.next = int(rng.network_address) if net.ip_range else int(rng.network_address) + 1
        self.last = int(rng.broadcast_address) if net.ip_range or rng.version == 6 else int(rng.broadcast_address) - 1
        self.used = {net.gateway, *reserved_addresses(net.subnet)}

    def reserve(self, address):
        """Never hand ``address`` out (a static address, one a host holds, a MAC-derived one)."""
        self.used.add(address)

    def keep(self, address):
        """Reserve ``address`` for the endpoint that holds it when it still fits the subnet and nobody claimed it;
        returns whether it was kept."""
        if address is None or address not in self.net.subnet or address in self.used:
            return False
        self.used.add(address)
        return True

    def take(self):
        """The lowest free address of the range, reserved; PoolExhausted when none is left."""
        while self.next <= self.last:
            address = self.make(self.next)
            self.next += 1
            if address not in self.used:
                self.used.add(address)
                return address
        raise PoolExhausted(self.net.name)
