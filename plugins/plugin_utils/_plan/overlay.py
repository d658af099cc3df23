# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fleet-wide planning of overlay and macvlan networks (global scope), on the controller (pure logic).

Docker keeps a global network's state in a key-value store and gossips endpoints between hosts.
Here the inventory is the store: every host in the play computes the same fleet plan from all hosts'
variables and facts (which are read before anything changes), and takes its own part. Addresses are
unique across the fleet and stable: an endpoint that exists keeps its address, static ones are
reserved first, new ones take the lowest free address in (play host order, container order).
"""

from __future__ import annotations

import ipaddress

from ansible_collections.linuxnet.container.plugins.module_utils._common.ids import host_veth_name, network_id
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import address_key, docker_mac, mac_ipv4
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.etcd import EtcdError
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.ipam import Allocator, PoolExhausted, exhausted
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.ipam_etcd import IPAM_FIX, LeaseError
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.topology import container_mode, network_clashes, read_container_endpoints

GLOBAL_DRIVERS = ('overlay', 'macvlan')
VXLAN_OVERHEAD = 50
VNI_FIRST = 256
OVERLAY_POOL = ipaddress.ip_network('10.0.0.0/8')
OVERLAY_BLOCK = 24
VXLAN_DEVICE = 'vxlan0'
OVERLAY_BRIDGE = 'br0'
EVPN_ASN = 65000


def evpn_settings(hv):
    """linuxnet_evpn_asn, linuxnet_evpn_route_reflectors and linuxnet_evpn_listen_ranges of one host, normalised
    (topology.evpn_problems validated them)."""
    asn = hv.get('linuxnet_evpn_asn')
    return {'asn': int(asn) if asn is not None else EVPN_ASN,
            'route_reflectors': sorted(str(h) for h in hv.get('linuxnet_evpn_route_reflectors') or []),
            'listen_ranges': [str(ipaddress.ip_network(str(c).strip(), strict=False)) for c in hv.get('linuxnet_evpn_listen_ranges') or []]}


def _vtep_subnet(host, hv, facts, address):
    """The subnet of the interface that holds a route reflector's VTEP address: whom it accepts sessions from."""
    for link in facts.get('links') or []:
        for cidr in link.get('addresses') or []:
            if cidr.split('/')[0] == address:
                return str(ipaddress.ip_interface(cidr).network)
    raise FleetError('host %s: route reflector: no interface holds its address %s. Fix: set linuxnet_evpn_listen_ranges'
                     % (host, address))


class FleetError(Exception):
    """The fleet cannot be planned; the message names the host, the variable and the fix."""


def overlay_namespace(network):
    """Docker's name for an overlay network's namespace: 1- and 10 hex digits of the network id."""
    return '1-' + network_id(network)[:10]


def underlay(host, hv, facts):
    """(address, device, mtu) of a host's VTEP: linuxnet_vtep_address, else the default route's device's first IPv4."""
    links = facts.get('links') or []
    wanted = hv.get('linuxnet_vtep_address')
    if wanted:
        wanted = str(ipaddress.ip_address(str(wanted).strip()))
        for link in links:
            if any(cidr.split('/')[0] == wanted for cidr in link.get('addresses') or []):
                return wanted, link['name'], link['mtu']
        raise FleetError('host %s: linuxnet_vtep_address %s is not an address of any interface of the host. Fix: set it to '
                         'an address the host holds on its underlay' % (host, wanted))
    dev = next((r.get('dev') for r in facts.get('routes') or [] if r.get('dst') in ('default', '0.0.0.0/0')), None)
    link = next((lk for lk in links if lk['name'] == dev), None)
    addresses = [c for c in (link or {}).get('addresses') or [] if ':' not in c]
    if link is None or not addresses:
        raise FleetError('host %s: no VTEP address: linuxnet_vtep_address is not set and the host has no default route '
                         'through an interface with an IPv4 address. Fix: set linuxnet_vtep_address in its host_vars' % host)
    return addresses[0].split('/')[0], link['name'], link['mtu']


def _vnis(nets):
    """VNI per overlay network: the inventory's, else allocated from 256 upward in inventory order."""
    used = {n.vni for n in nets.values() if n.driver == 'overlay' and n.vni}
    vnis, candidate = {}, VNI_FIRST
    for net in nets.values():
        if net.driver != 'overlay':
            continue
        if net.vni:
            vnis[net.name] = net.vni
            continue
        while candidate in used:
            candidate += 1
        vnis[net.name] = candidate
        used.add(candidate)
    return vnis


def _overlay_subnets(nets):
    """Give overlay networks without a subnet the next free /24 of 10.0.0.0/8 (Docker's overlay pool)."""
    taken = [n.subnet for n in nets.values() if n.subnet is not None]
    blocks = OVERLAY_POOL.subnets(new_prefix=OVERLAY_BLOCK)
    for net in nets.values():
        if net.driver != 'overlay' or net.subnet is not None:
            continue
        for block in blocks:
            if not any(block.overlaps(t) for t in taken):
                net.subnet, net.gateway = block, block.network_address + 1
                taken.append(block)
                break


class Fleet:
    """The fleet plan of global networks: computed identically on every host of the play."""

    def __init__(self, nets, hosts, leases=None):
        """nets: {name: Network} (as the planning host reads linuxnet_networks); hosts: [(host, hv, facts)] in play order;
        leases: an ipam_etcd.Leases, read, when linuxnet_ipam's backend is etcd (None: the inventory allocates alone)."""
        self.nets = nets
        self.leases = leases
        self.vnis = _vnis(nets)
        _overlay_subnets(nets)
        self.vteps = {}
        self.endpoints = {}      # network -> [(host, Endpoint)]
        self.addresses = {}      # (host, container, network) -> IPv4Address
        mtus = []
        problems = []
        existing = {}
        global_hosts = []
        for host, hv, facts in hosts:
            if (hv.get('linuxnet_state') or 'present') == 'absent':
                continue
            mine = []
            for container in hv.get('linuxnet_containers') or []:
                if container_mode(container) != 'bridge':
                    continue
                eps = read_container_endpoints(container, nets, 'host %s: container %s' % (host, container['name']), problems)
                mine.extend(ep for ep in eps if nets[ep.network].driver in GLOBAL_DRIVERS)
            if not mine:
                continue
            global_hosts.append(host)
            for ep in mine:
                self.endpoints.setdefault(ep.network, []).append((host, ep))
            if any(nets[ep.network].driver == 'overlay' for ep in mine):
                try:
                    self.vteps[host] = underlay(host, hv, facts)
                except (FleetError, ValueError) as err:
                    problems.append(str(err))
                    continue
                mtus.append(self.vteps[host][2])
            for iface in facts.get('interfaces') or []:
                for cidr in iface.get('addresses') or []:
                    addr = ipaddress.ip_interface(cidr)
                    if addr.version == 4:
                        existing.setdefault((host, iface['container']), []).append(addr.ip)
        if problems:
            raise FleetError('\n'.join(problems))
        seen_vteps = {}
        for host, (address, _dev, _mtu) in self.vteps.items():
            if address in seen_vteps:
                raise FleetError('host %s: VTEP address %s is also the VTEP of %s. Fix: give every host its own '
                                 'linuxnet_vtep_address' % (host, address, seen_vteps[address]))
            seen_vteps[address] = host
        self.mtu = {}
        for net in nets.values():
            if net.driver != 'overlay':
                continue
            ceiling = (min(mtus) - VXLAN_OVERHEAD) if mtus else 1450
            if net.mtu and net.mtu > ceiling:
                raise FleetError('linuxnet_networks (%s): mtu %d is larger than the smallest underlay MTU minus the VXLAN '
                                 'overhead (%d). Fix: set mtu to %d or less, or leave it out' % (net.name, net.mtu, ceiling, ceiling))
            self.mtu[net.name] = net.mtu or ceiling
            if self.mtu[net.name] < 1280 - VXLAN_OVERHEAD:
                raise FleetError('linuxnet_networks (%s): the overlay MTU would be %d, too small for IPv4 containers to work '
                                 'well (the smallest underlay MTU is %d). Fix: raise the underlay MTU'
                                 % (net.name, self.mtu[net.name], min(mtus)))
        self._allocate(existing)
        self._plan_evpn(hosts)

    def _plan_evpn(self, hosts):
        """The BGP EVPN control plane: the hosts with endpoints on an overlay with control_plane evpn, and the route
        reflectors linuxnet_evpn_route_reflectors names (none: a full mesh). Their settings are the same on every host
        (topology.evpn_problems checked it); the first host's are read."""
        self.evpn_hosts = sorted({h for name, members in self.endpoints.items()
                                  if self.nets[name].driver == 'overlay' and self.nets[name].control_plane == 'evpn'
                                  for h, _ep in members})
        self.evpn = {}
        if not self.evpn_hosts:
            return
        hv = hosts[0][1] if hosts else {}
        settings = evpn_settings(hv)
        by_name = {host: (hv_, facts) for host, hv_, facts in hosts}
        problems = []
        reflectors = {}
        for host in settings['route_reflectors']:
            if host not in by_name or (by_name[host][0].get('linuxnet_state') or 'present') == 'absent':
                problems.append('linuxnet_evpn_route_reflectors: %s is not a host of this play (or its linuxnet_state is '
                                'absent). Fix: run the play on every host (no --limit), or name hosts that are in it' % host)
                continue
            if host in self.vteps:
                reflectors[host] = self.vteps[host]
                continue
            try:
                reflectors[host] = underlay(host, by_name[host][0], by_name[host][1])
            except (FleetError, ValueError) as err:
                problems.append(str(err))
        if problems:
            raise FleetError('\n'.join(problems))
        speakers = sorted(set(self.evpn_hosts) | set(reflectors))
        address = {h: (self.vteps.get(h) or reflectors[h])[0] for h in speakers}
        for host in speakers:
            is_rr = host in reflectors
            if not reflectors:
                neighbors = [address[h] for h in speakers if h != host]
            elif is_rr:
                neighbors = [address[h] for h in reflectors if h != host]
            else:
                neighbors = [address[h] for h in reflectors]
            ranges = []
            if is_rr:
                ranges = list(settings['listen_ranges']) or [_vtep_subnet(host, by_name[host][0], by_name[host][1], address[host])]
            self.evpn[host] = {
                'asn': settings['asn'], 'router_id': address[host], 'route_reflector': is_rr,
                'neighbors': sorted(neighbors, key=address_key), 'listen_ranges': ranges,
                'vnis': sorted(self.vnis[name] for name, members in self.endpoints.items()
                               if self.nets[name].driver == 'overlay' and self.nets[name].control_plane == 'evpn'
                               and any(h == host for h, _ep in members)),
            }

    def evpn_part(self, host):
        """What FRR on ``host`` needs (bridge_network's frr.conf), or None when the host speaks no EVPN."""
        return self.evpn.get(host)

    def _allocate(self, existing):
        for name, members in self.endpoints.items():
            net = self.nets[name]
            pool = Allocator(net)
            statics = set()
            for host, ep in members:
                if ep.address is not None:
                    pool.reserve(ep.address)
                    statics.add((host, ep.container))
            if self.leases is not None:
                self.leases.keep_leases(net, members, pool)
            for host, ep in members:
                if ep.address is None:
                    ep.address = next((ip for ip in existing.get((host, ep.container), ()) if pool.keep(ip)), None)
            # Docker's MAC of an address (02:42 + IPv4) that a mac_address takes: no new endpoint gets that address.
            for _host, ep in members:
                address = mac_ipv4(ep.mac)
                if address is not None and address in net.subnet:
                    pool.reserve(address)
            for host, ep in members:
                if ep.address is None:
                    try:
                        ep.address = pool.take()
                    except PoolExhausted:
                        raise FleetError(exhausted(host, ep.container, net)) from None
            if self.leases is not None:
                self._lease(net, members, pool, statics)
            for host, ep in members:
                self.addresses[(host, ep.container, name)] = ep.address
            clashes = []
            network_clashes(net, [('host %s: container %s' % (host, ep.container), '%s on host %s' % (ep.container, host), ep)
                                  for host, ep in members], clashes)
            if clashes:
                raise FleetError('\n'.join(clashes))

    def _lease(self, net, members, pool, statics):
        """Lease the planned addresses in etcd; one another run took meanwhile is replaced by the next free one."""
        try:
            self.leases.allocate(net, members, pool, statics)
        except LeaseError as err:
            raise FleetError(str(err)) from None
        except EtcdError as err:
            raise FleetError('network %s: linuxnet_ipam: etcd failed while leasing its addresses (%s). %s' % (net.name, err, IPAM_FIX)) from None

    def host_part(self, host):
        """This host's overlay namespaces, br0 bridges, vxlan devices and the VTEPs to accept: per overlay (VNI) the
        VTEPs of the hosts with endpoints on it, this one included (``vtep_members``), and all of them (``vteps``)."""
        namespaces, bridges, devices, per_vni = [], [], [], []
        for name, members in self.endpoints.items():
            net = self.nets[name]
            if net.driver != 'overlay' or not any(h == host for h, _ep in members):
                continue
            ns = overlay_namespace(name)
            namespaces.append({'name': ns})
            bridges.append({'name': OVERLAY_BRIDGE, 'namespace': ns, 'mtu': self.mtu[name], 'purge_addresses': True,
                            'addresses': ['%s/%d' % (net.gateway, net.subnet.prefixlen)]})
            local, dev, _mtu = self.vteps[host]
            remote = [(h, ep) for h, ep in members if h != host]
            peers = sorted({self.vteps[h][0] for h, _ep in remote})
            device = {'name': VXLAN_DEVICE, 'namespace': ns, 'vni': self.vnis[name], 'local': local, 'dev': dev,
                      'mtu': self.mtu[name], 'master': OVERLAY_BRIDGE, 'learning': False}
            if net.control_plane == 'evpn':
                # BGP EVPN: FRR installs the remote MACs (type-2) and the flood list (type-3); the device is named for
                # FRR, and the local containers' MACs are static entries of their ports, so they never age out.
                device.update(evpn=True, static_macs=[{'mac': ep.mac or docker_mac(str(ep.address)),
                                                       'port': host_veth_name(ep.container, name)}
                                                      for h, ep in members if h == host])
            else:
                device.update(
                    purge=True, peers=peers, evpn=False,
                    fdb=[{'mac': ep.mac or docker_mac(str(ep.address)), 'dst': self.vteps[h][0]} for h, ep in remote],
                    neighbors=[{'address': str(ep.address), 'mac': ep.mac or docker_mac(str(ep.address))} for h, ep in remote])
            devices.append(device)
            per_vni.append({'vni': self.vnis[name], 'vteps': sorted({local} | set(peers), key=address_key)})
        per_vni.sort(key=lambda item: item['vni'])
        vteps = sorted({address for item in per_vni for address in item['vteps']}, key=address_key)
        return {'namespaces': namespaces, 'bridges': bridges, 'devices': devices, 'vteps': vteps, 'vtep_members': per_vni}

    def remote_endpoints(self, host):
        """Endpoints on other hosts, for names that resolve across hosts."""
        return [ep for members in self.endpoints.values() for h, ep in members if h != host]
