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
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import VXLAN_OVERHEAD, address_key, docker_mac, mac_ipv4
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.etcd import EtcdError
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.ipam import Allocator, PoolExhausted, exhausted
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.ipam_etcd import IPAM_FIX, LeaseError
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.names import GLOBAL_DRIVERS, OVERLAY_BRIDGE, container_mode
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.topology import network_clashes, read_container_endpoints

# The smallest MTU of a link that carries IPv6 (RFC 8200): a smaller one and the kernel turns IPv6 off on it.
IPV6_MIN_MTU = 1280
VNI_FIRST = 256
OVERLAY_POOL = ipaddress.ip_network('10.0.0.0/8')
OVERLAY_BLOCK = 24
VXLAN_DEVICE = 'vxlan0'
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
    """(address, device, mtu) of a host's VTEP: linuxnet_vtep_address (IPv4 or IPv6), else the default route's device's
    first IPv4 address, else (a host with no IPv4 default route) the IPv6 default route's device's first IPv6 one."""
    links = facts.get('links') or []
    wanted = hv.get('linuxnet_vtep_address')
    if wanted:
        wanted = str(ipaddress.ip_address(str(wanted).strip()))
        for link in links:
            if any(cidr.split('/')[0] == wanted for cidr in (link.get('addresses') or []) + (link.get('addresses6') or [])):
                return wanted, link['name'], link['mtu']
        raise FleetError('host %s: linuxnet_vtep_address %s is not an address of any interface of the host. Fix: set it to '
                         'an address the host holds on its underlay' % (host, wanted))
    for routes, defaults, key in (('routes', ('default', '0.0.0.0/0'), 'addresses'), ('routes6', ('default', '::/0'), 'addresses6')):
        dev = next((r.get('dev') for r in facts.get(routes) or [] if r.get('dst') in defaults), None)
        link = next((lk for lk in links if lk['name'] == dev), None)
        if link is not None and link.get(key):
            return link[key][0].split('/')[0], link['name'], link['mtu']
    raise FleetError('host %s: no VTEP address: linuxnet_vtep_address is not set and the host has no default route '
                     'through an interface with an IPv4 address (nor an IPv6 default route through one with a global '
                     'IPv6 address). Fix: set linuxnet_vtep_address in its host_vars' % host)


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
        self._rendered = {}      # network -> what every host's plan takes from its endpoints (_entries)
        self.addresses = {}      # (host, container, network) -> IPv4Address
        self.addresses6 = {}     # (host, container, network) -> IPv6Address, on overlays with enable_ipv6
        mtus, ceilings = [], []
        problems = []
        existing = {4: {}, 6: {}}
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
                address, _dev, mtu = self.vteps[host]
                mtus.append(mtu)
                ceilings.append(mtu - VXLAN_OVERHEAD[ipaddress.ip_address(address).version])
            for iface in facts.get('interfaces') or []:
                for cidr in iface.get('addresses') or []:
                    addr = ipaddress.ip_interface(cidr)
                    existing[addr.version].setdefault((host, iface['container']), []).append(addr.ip)
        if problems:
            raise FleetError('\n'.join(problems))
        seen_vteps = {}
        for host, (address, _dev, _mtu) in self.vteps.items():
            if address in seen_vteps:
                raise FleetError('host %s: VTEP address %s is also the VTEP of %s. Fix: give every host its own '
                                 'linuxnet_vtep_address' % (host, address, seen_vteps[address]))
            seen_vteps[address] = host
        self._check_families()
        self.mtu = {}
        for net in nets.values():
            if net.driver != 'overlay':
                continue
            # The smallest underlay MTU less the outer headers of its VTEP's family (70 bytes over IPv6, 50 over IPv4).
            ceiling = min(ceilings) if ceilings else 1500 - VXLAN_OVERHEAD[4]
            if net.mtu and net.mtu > ceiling:
                raise FleetError('linuxnet_networks (%s): mtu %d is larger than the smallest underlay MTU minus the VXLAN '
                                 'overhead (%d). Fix: set mtu to %d or less, or leave it out' % (net.name, net.mtu, ceiling, ceiling))
            self.mtu[net.name] = net.mtu or ceiling
            if net.ipv6 and self.mtu[net.name] < IPV6_MIN_MTU:
                # The outer headers of this overlay's VTEPs (one family per overlay): 50 bytes over IPv4, 70 over IPv6.
                families = {ipaddress.ip_address(self.vteps[h][0]).version for h, _ep in self.endpoints.get(net.name, ()) if h in self.vteps}
                overhead = max(VXLAN_OVERHEAD[f] for f in families) if families else max(VXLAN_OVERHEAD.values())
                raise FleetError('linuxnet_networks (%s): the overlay MTU would be %d, below the 1280 bytes IPv6 needs (the '
                                 'kernel turns IPv6 off on a smaller link). Fix: %s'
                                 % (net.name, self.mtu[net.name], 'raise mtu to 1280 or more' if net.mtu else
                                    'raise the underlay MTU to %d or more (1280 + the VXLAN overhead)' % (IPV6_MIN_MTU + overhead)))
            if self.mtu[net.name] < IPV6_MIN_MTU - VXLAN_OVERHEAD[4]:
                raise FleetError('linuxnet_networks (%s): the overlay MTU would be %d, too small for IPv4 containers to work '
                                 'well (the smallest underlay MTU is %d). Fix: %s'
                                 % (net.name, self.mtu[net.name], min(mtus), 'raise mtu to %d or more, or leave it out'
                                    % (IPV6_MIN_MTU - VXLAN_OVERHEAD[4]) if net.mtu else 'raise the underlay MTU'))
        self._allocate(existing[4], 4)
        self._allocate(existing[6], 6)
        self._plan_evpn(hosts)

    def _check_families(self):
        """The VTEPs of one overlay are all IPv4 or all IPv6 (a VXLAN device has one local address, its peers the same
        family); an overlay with control_plane evpn has IPv4 VTEPs: FRR 8.4 (Debian 12's) carries IPv4 VTEP addresses
        only in its EVPN routes and in zebra (IPv6 VTEPs came with FRR 10.6). IPv6 inside it needs nothing more."""
        problems = []
        for name, members in self.endpoints.items():
            net = self.nets[name]
            if net.driver != 'overlay':
                continue
            hosts = sorted({h for h, _ep in members if h in self.vteps})
            family = {h: ipaddress.ip_address(self.vteps[h][0]).version for h in hosts}
            if net.control_plane == 'evpn':
                problems.extend('host %s: its VTEP address %s (linuxnet_vtep_address, else the default route\'s) is IPv6, '
                                'but overlay %s has control_plane evpn, and FRR 8.4 (Debian 12\'s frr) has no IPv6 VTEPs: its '
                                'EVPN routes and zebra carry IPv4 VTEP addresses only (IPv6 inside the overlay works). Fix: set '
                                'linuxnet_vtep_address of %s to its IPv4 underlay address, or use control_plane: static on %s '
                                'for VXLAN over IPv6' % (h, self.vteps[h][0], name, h, name)
                                for h in hosts if family[h] == 6)
                continue
            if len(set(family.values())) > 1:
                first = hosts[0]
                problems.extend('host %s: its VTEP address %s (linuxnet_vtep_address, else the default route\'s) is IPv%d, '
                                'but that of host %s on overlay %s is IPv%d %s: the VTEPs of one overlay share one '
                                'address family. Fix: set linuxnet_vtep_address of %s to its IPv%d underlay address, or '
                                'that of every host of %s to an IPv%d one'
                                % (h, self.vteps[h][0], family[h], first, name, family[first], self.vteps[first][0], h,
                                   family[first], name, family[h])
                                for h in hosts if family[h] != family[first])
        if problems:
            raise FleetError('\n'.join(problems))

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

    def _allocate(self, existing, version):
        """The addresses of one family (``version``) of every endpoint of the global networks (IPv6: the overlays with
        enable_ipv6): static ones reserved, then leased ones (etcd), then those the endpoints hold (``existing``:
        {(host, container): [addresses]}), then (IPv4) Docker's MAC-derived ones; new endpoints take the lowest free one."""
        field = 'address' if version == 4 else 'address6'
        found = self.addresses if version == 4 else self.addresses6
        for name, members in self.endpoints.items():
            net = self.nets[name]
            if version == 6 and not net.ipv6:
                continue
            ipam = net.ipam(version)
            pool = Allocator(ipam)
            statics = set()
            for host, ep in members:
                if getattr(ep, field) is not None:
                    pool.reserve(getattr(ep, field))
                    statics.add((host, ep.container))
            if self.leases is not None:
                self.leases.keep_leases(net, members, pool, version)
            for host, ep in members:
                if getattr(ep, field) is None:
                    setattr(ep, field, next((ip for ip in existing.get((host, ep.container), ()) if pool.keep(ip)), None))
            # Docker's MAC of an address (02:42 + IPv4) that a mac_address takes: no new endpoint gets that address.
            for _host, ep in members if version == 4 else ():
                address = mac_ipv4(ep.mac)
                if address is not None and address in net.subnet:
                    pool.reserve(address)
            for host, ep in members:
                if getattr(ep, field) is None:
                    try:
                        setattr(ep, field, pool.take())
                    except PoolExhausted:
                        raise FleetError(exhausted(host, ep.container, ipam, version)) from None
            if self.leases is not None:
                self._lease(net, members, pool, statics, version)
            for host, ep in members:
                found[(host, ep.container, name)] = getattr(ep, field)
            if version == 6:
                continue
            clashes = []
            network_clashes(net, [('host %s: container %s' % (host, ep.container), '%s on host %s' % (ep.container, host), ep)
                                  for host, ep in members], clashes)
            if clashes:
                raise FleetError('\n'.join(clashes))

    def _lease(self, net, members, pool, statics, version):
        """Lease the planned addresses in etcd; one another run took meanwhile is replaced by the next free one."""
        try:
            self.leases.allocate(net, members, pool, statics, version)
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
            gateways = [(net.gateway, net.subnet)] + ([(net.gateway6, net.subnet6)] if net.ipv6 else [])
            # A fixed MAC, as the host bridges have (fleet.py): one with none takes its lowest port's, which changes as
            # containers come and go and when vxlan0 is made again (a VTEP changed), and the containers' neighbour
            # entries of the gateway go stale. The same on every host, like its address: vxlan0 neither floods nor
            # learns, so each host's br0 answers for the gateway alone.
            bridges.append({'name': OVERLAY_BRIDGE, 'namespace': ns, 'mtu': self.mtu[name], 'purge_addresses': True,
                            'addresses': ['%s/%d' % (gateway, subnet.prefixlen) for gateway, subnet in gateways],
                            'mac': docker_mac(str(net.gateway))})
            local, dev, _mtu = self.vteps[host]
            entries = self._entries(name, members)
            peers = sorted({address for h, address in entries['vteps'] if h != host})
            # recreate: a VTEP address changed (linuxnet_vtep_address, IPv4 to IPv6 too) cannot be changed in place.
            device = {'name': VXLAN_DEVICE, 'namespace': ns, 'vni': self.vnis[name], 'local': local, 'dev': dev,
                      'mtu': self.mtu[name], 'master': OVERLAY_BRIDGE, 'learning': False, 'recreate': True}
            if net.control_plane == 'evpn':
                # BGP EVPN: FRR installs the remote MACs (type-2) and the flood list (type-3); the device is named for
                # FRR, and the local containers' MACs are static entries of their ports, so they never age out.
                device.update(evpn=True, static_macs=[{'mac': mac, 'port': host_veth_name(ep.container, name)}
                                                      for h, ep, mac, _fdb, _neighbors in entries['endpoints'] if h == host])
            else:
                # Every remote container: the fleet's output grows with hosts x containers, its planning must not grow
                # faster (the entries of each endpoint are made once, in _entries, and shared by every host's list).
                remote = [entry for entry in entries['endpoints'] if entry[0] != host]
                device.update(purge=True, peers=peers, evpn=False, fdb=[fdb for _h, _ep, _mac, fdb, _n in remote],
                              neighbors=[neighbor for _h, _ep, _mac, _fdb, neighbors in remote for neighbor in neighbors])
            devices.append(device)
            members_of_vni = set(peers) | {local}
            per_vni.append({'vni': self.vnis[name], 'vteps': [address for _h, address in entries['vteps'] if address in members_of_vni]})
        per_vni.sort(key=lambda item: item['vni'])
        vteps = sorted({address for item in per_vni for address in item['vteps']}, key=address_key)
        return {'namespaces': namespaces, 'bridges': bridges, 'devices': devices, 'vteps': vteps, 'vtep_members': per_vni}

    def _entries(self, name, members):
        """What every host's plan of overlay ``name`` takes from its endpoints, made once per overlay: per endpoint
        (host, endpoint, MAC, its FDB entry, its neighbour entries), and the (host, VTEP address) of its members in
        address order."""
        cached = self._rendered.get(name)
        if cached is None:
            endpoints = []
            for h, ep in members:
                mac = ep.mac or docker_mac(str(ep.address))
                neighbors = [{'address': str(address), 'mac': mac} for address in (ep.address, ep.address6) if address is not None]
                endpoints.append((h, ep, mac, {'mac': mac, 'dst': self.vteps[h][0]}, neighbors))
            vteps = {}
            for h, _ep in members:
                vteps.setdefault(self.vteps[h][0], h)
            cached = self._rendered[name] = {'endpoints': endpoints,
                                             'vteps': [(vteps[address], address) for address in sorted(vteps, key=address_key)]}
        return cached

    def remote_endpoints(self, host):
        """Endpoints on other hosts, for names that resolve across hosts."""
        return [ep for members in self.endpoints.values() for h, ep in members if h != host]
