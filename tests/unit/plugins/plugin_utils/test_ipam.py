# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one allocator: bridge networks per host and overlay/macvlan networks per fleet take addresses alike."""

from __future__ import annotations

import ipaddress
from types import SimpleNamespace

import pytest

from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.fleet import PlanError
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.ipam import Allocator, PoolExhausted
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.overlay import FleetError

from test_fleet_plan import plan as plan_bridge_host
from test_overlay_plan import facts, fleet, plan as plan_fleet_host, peer_addresses

IP = ipaddress.IPv4Address


def net(subnet, gateway, ip_range=None):
    return SimpleNamespace(name='n', subnet=ipaddress.ip_network(subnet), gateway=IP(gateway),
                           ip_range=ipaddress.ip_network(ip_range) if ip_range else None)


def test_lowest_free_address_skips_gateway_reserved_and_kept():
    pool = Allocator(net('10.1.0.0/29', '10.1.0.1'))
    pool.reserve(IP('10.1.0.3'))
    assert pool.keep(IP('10.1.0.5')) is True
    assert pool.keep(IP('10.1.0.5')) is False          # claimed already
    assert pool.keep(IP('10.2.0.9')) is False          # outside the subnet
    assert pool.keep(None) is False
    assert [pool.take() for _n in range(3)] == [IP('10.1.0.2'), IP('10.1.0.4'), IP('10.1.0.6')]
    with pytest.raises(PoolExhausted):                 # .7 is the broadcast address
        pool.take()


def test_an_ip_range_is_used_whole_and_only_it():
    pool = Allocator(net('10.1.0.0/24', '10.1.0.1', '10.1.0.128/31'))
    assert [pool.take(), pool.take()] == [IP('10.1.0.128'), IP('10.1.0.129')]
    with pytest.raises(PoolExhausted):
        pool.take()


def test_a_full_bridge_network_and_a_full_overlay_fail_with_the_same_message():
    networks = [{'name': 'tiny', 'subnet': '10.9.0.0/30'}]
    with pytest.raises(PlanError) as bridge:
        plan_bridge_host([{'name': 'a1', 'networks': ['tiny']}, {'name': 'a2', 'networks': ['tiny']}], networks)
    assert str(bridge.value) == ('host n1: container a2: no available IPv4 addresses on network tiny (range 10.9.0.0/30). '
                                 'Fix: widen ip_range or subnet, or give the container a static ipv4_address')
    members = fleet(('node1', [{'name': 'o1', 'networks': ['ov_net2']}], facts('192.0.2.11')),
                    ('node2', [{'name': 'o2', 'networks': [{'name': 'ov_net2'}]}], facts('192.0.2.12')))
    for _host, hv, _facts in members:
        hv['linuxnet_networks'] = [dict(n, subnet='10.0.1.0/30') if n['name'] == 'ov_net2' else n for n in hv['linuxnet_networks']]
    with pytest.raises((PlanError, FleetError)) as overlay:
        plan_fleet_host('node1', members)
    assert 'host node2: container o2: no available IPv4 addresses on network ov_net2 (range 10.0.1.0/30). Fix: widen ip_range' \
        in str(overlay.value)


def test_overlay_endpoints_keep_what_they_hold_and_new_ones_take_the_lowest_free():
    held = [{'container': 'o2', 'ifname': 'eth0', 'addresses': ['10.0.1.7/24']}]
    members = fleet(('node1', [{'name': 'o1', 'networks': ['ov_net2']}], facts('192.0.2.11')),
                    ('node2', [{'name': 'o2', 'networks': ['ov_net2']}], facts('192.0.2.12', interfaces=held)))
    assert peer_addresses(plan_fleet_host('node2', members))[('o2', 'eth0')] == '10.0.1.7/24'
    assert peer_addresses(plan_fleet_host('node1', members))[('o1', 'eth0')] == '10.0.1.2/24'
