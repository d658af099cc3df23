# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading container networking back from the kernel, shaped like ``docker network inspect`` and ``docker port``.

Private to the collection. The readers at the bottom turn netlink dumps into plain dicts (links keyed
by index, addresses keyed by link index); everything above them is pure and works on those dicts, so
the shaping is tested without a kernel. Nothing here writes anything.
"""

from __future__ import annotations

import ipaddress
import socket

from ansible_collections.linuxnet.container.plugins.module_utils._common.ids import container_id, endpoint_id, host_veth_name, network_id
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.links import NSID_NOT_ASSIGNED
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import netlink_errors
from ansible_collections.linuxnet.container.plugins.module_utils._common.ports import ANY, allow_lines, docker_port_lines
from ansible_collections.linuxnet.container.plugins.module_utils._parts import docker_isolation, port_map, vtep_filter, vxlan

MAIN_TABLE = 254
IFA_F_SECONDARY = 0x01
_LINK_LOCAL_V6 = ipaddress.ip_network('fe80::/10')
_MULTICAST_V6 = ipaddress.ip_network('ff00::/8')
# Route types that say something about where a destination goes (unicast, blackhole, unreachable, prohibit, throw).
_ROUTE_TYPES = (1, 6, 7, 8, 9)

# The collection's tables as the parts that write them define them: (family, name).
ISOLATION_TABLE = (docker_isolation.FAMILY, docker_isolation.TABLE)
PORTS_TABLE = (port_map.FAMILY, port_map.TABLE)
PORTS6_TABLE = (port_map.FAMILY6, port_map.TABLE)
VTEP_TABLE = (vtep_filter.FAMILY, vtep_filter.NAME)
# The tables' contents decoded by the parts that write them.
isolation_flags = docker_isolation.bridge_flags
published_maps = port_map.maps_from_elements
DEFAULT_FLAGS = docker_isolation.DEFAULT_FLAGS


# -- pure shaping ------------------------------------------------------------------------------

def address_sort_key(cidr):
    iface = ipaddress.ip_interface(cidr)
    return (iface.version, int(iface.ip), iface.network.prefixlen)


def sorted_addresses(entries):
    """[(cidr, secondary)] in kernel order -> the CIDRs sorted by family and numerically (IPv6 link-local left out)."""
    out = []
    for cidr, _secondary in entries:
        iface = ipaddress.ip_interface(cidr)
        if iface.version == 6 and iface.ip in _LINK_LOCAL_V6:
            continue
        out.append(cidr)
    return sorted(set(out), key=address_sort_key)


def primary_address(entries, version):
    """The first non-secondary address of a family, in kernel order (what Docker reports), or ''."""
    fallback = ''
    for cidr, secondary in entries:
        iface = ipaddress.ip_interface(cidr)
        if iface.version != version or (version == 6 and iface.ip in _LINK_LOCAL_V6):
            continue
        if not secondary:
            return cidr
        fallback = fallback or cidr
    return fallback


def ipam_config(entries, *ip_ranges):
    """IPAM.Config of a bridge: one {Subnet, Gateway} per IPv4 address on it, in kernel order, then one per IPv6
    address (link-local ones left out: the kernel's); IPRange (which no kernel object holds: the inventory's) on the
    entry whose subnet holds it (one range per family), as Docker shows it only when set."""
    config = []
    for version in (4, 6):
        for cidr, _secondary in entries:
            iface = ipaddress.ip_interface(cidr)
            if iface.version == version and iface.ip not in _LINK_LOCAL_V6:
                config.append({'Subnet': iface.network.compressed, 'Gateway': iface.ip.compressed})
    return with_ip_range(config, *ip_ranges)


def with_ip_range(config, *ip_ranges):
    """``config`` with IPRange set on the first entry whose subnet holds each of ``ip_ranges`` (None ones skipped)."""
    for ip_range in ip_ranges:
        if not ip_range:
            continue
        rng = ipaddress.ip_network(ip_range, strict=False)
        for entry in config:
            subnet = ipaddress.ip_network(entry['Subnet'])
            if rng.version == subnet.version and rng.subnet_of(subnet):
                entry['IPRange'] = rng.compressed
                break
    return config


def macvlan_ipam_config(net):
    """IPAM.Config of a macvlan network: its subnet and gateway (the segment's router, no kernel object of this host),
    then, on a network with IPv6, its IPv6 subnet and gateway, as Docker lists them."""
    config = []
    for prefix in ('', 'ipv6_'):
        if not net.get(prefix + 'subnet'):
            continue
        entry = {'Subnet': ipaddress.ip_network(net[prefix + 'subnet'], strict=False).compressed}
        if net.get(prefix + 'gateway'):
            entry['Gateway'] = net[prefix + 'gateway']
        config.append(entry)
        with_ip_range(config, net.get(prefix + 'ip_range'))
    return config


def port_lines(maps, endpoints):
    """``docker port`` lines per container: published ports matched to containers through endpoint addresses.

    Every container with an endpoint gets a key (an empty list when it publishes nothing). An address held
    by two endpoints (the same address on two bridges) lists the port under both containers.
    """
    owners = _owners(endpoints)
    by_container = {}
    for key, ((cip, cport), label) in maps.items():
        for container in owners.get(cip, ()):
            # docker_port_lines groups by the target's first field: give it the container instead of the
            # address, so a container with addresses on two networks gets one list in docker port's order.
            by_container.setdefault(container, {})[key] = ((container, cport), label)
    out = {}
    for ep in sorted(endpoints, key=lambda e: e['container']):
        name = ep['container']
        out[name] = docker_port_lines(by_container[name]).get(name, []) if name in by_container else []
    return out


def _owners(endpoints):
    """{address: the containers whose endpoints hold it}."""
    owners = {}
    for ep in endpoints:
        for cidr in ep['addresses']:
            owners.setdefault(cidr.split('/', 1)[0], set()).add(ep['container'])
    return owners


def port_allow(maps, allow, endpoints):
    """The source allow-lists of the published ports, per container and ``docker port`` line (as port_lines has
    it); only containers and ports that have one. ``allow``: _ports.allow_from_elements of the table."""
    owners = _owners(endpoints)
    out = {}
    for cip, lines in allow_lines(maps, allow).items():
        for container in owners.get(cip, ()):
            out.setdefault(container, {}).update(lines)
    return dict(sorted(out.items()))


def _network_of(peer, host_links, bridges, container, missing=None):
    """(network, bridge name) a container veth's host end belongs to: its master's, or, for a host end taken off its
    bridge or whose bridge is gone (by hand: drift a converge repairs), the network's whose host end name it bears."""
    if peer['master_index'] in bridges:
        return bridges[peer['master_index']], host_links[peer['master_index']]['name']
    if container is None:
        return None
    for index, network in bridges.items():
        if peer['name'] == host_veth_name(container, network):
            return network, host_links[index]['name']
    for network, bridge in (missing or {}).items():
        if peer['name'] == host_veth_name(container, network):
            return network, bridge
    return None


def match_endpoints(host_links, bridges, container, links, host_nsid, missing=None):
    """The endpoints of one container on the given bridges.

    ``host_links``: {index: link} of the bridges' namespace; ``bridges``: {bridge index: network name};
    ``links``: {index: link} of the container's namespace; ``host_nsid``: the id the container's namespace
    gives the bridges' namespace; ``missing``: {network name: bridge name} of the networks whose bridge is not
    there. An endpoint is a veth whose peer (IFLA_LINK in the namespace named by IFLA_LINK_NETNSID) is a veth port
    of one of the bridges, or bears the name of this container's host end on one of the networks, and points back
    at it.
    """
    found = []
    if host_nsid in NSID_NOT_ASSIGNED:
        return found
    for index in sorted(links):
        link = links[index]
        if link['kind'] != 'veth' or link['link_netnsid'] != host_nsid:
            continue
        peer = host_links.get(link['link'])
        if peer is None or peer['kind'] != 'veth' or peer['link'] != index:
            continue
        network = _network_of(peer, host_links, bridges, container, missing)
        if network is None:
            continue
        found.append({
            'container': container,
            'network': network[0],
            'bridge': network[1],
            'ifname': link['name'],
            'host_ifname': peer['name'],
            'mac': link['mac'],
            'index': index,
        })
    return found


def candidate_links(host_links, bridges, links, container=None, parents=(), missing=None):
    """True when some veth of a container could lead to one of the bridges, or some macvlan hang from one of the
    ``parents`` (host link indexes): then its nsid is worth asking for."""
    for link in links.values():
        if link['link_netnsid'] is None:
            continue
        peer = host_links.get(link['link'])
        if peer is None:
            continue
        if link['kind'] == 'veth' and peer['kind'] == 'veth' and _network_of(peer, host_links, bridges, container, missing) is not None:
            return True
        if link['kind'] == 'macvlan' and link['link'] in parents:
            return True
    return False


def match_macvlans(host_links, parents, container, links, host_nsid):
    """The macvlan links of one container whose lower device (IFLA_LINK in the namespace IFLA_LINK_NETNSID names)
    is one of ``parents`` (host link indexes) of the bridges' namespace: raw endpoints with no network yet
    (macvlan_network picks it by address)."""
    found = []
    if host_nsid in NSID_NOT_ASSIGNED:
        return found
    for index in sorted(links):
        link = links[index]
        if link['kind'] != 'macvlan' or link['link_netnsid'] != host_nsid or link['link'] not in parents:
            continue
        found.append({'container': container, 'network': None, 'bridge': host_links[link['link']]['name'],
                      'ifname': link['name'], 'host_ifname': None, 'mac': link['mac'], 'index': index})
    return found


def macvlan_network(parent, entries, nets):
    """The macvlan network (of ``nets``: {name, parent, subnet}) an endpoint on ``parent`` with addresses ``entries``
    belongs to: the one on that parent whose subnet holds its IPv4 address, or the only one on that parent without
    a subnet; None when there is none."""
    on_parent = [net for net in nets if net['parent'] == parent]
    ipv4 = primary_address(entries, 4)
    for net in on_parent:
        if net.get('subnet') and ipv4 and ipaddress.ip_interface(ipv4).ip in ipaddress.ip_network(net['subnet'], strict=False):
            return net['name']
    loose = [net for net in on_parent if not net.get('subnet')]
    return loose[0]['name'] if len(loose) == 1 else None


def endpoint_entry(raw, entries):
    """The flat endpoint record of the module's ``endpoints`` result."""
    record = {
        'container': raw['container'],
        'network': raw['network'],
        'bridge': raw['bridge'],
        'ifname': raw['ifname'],
        'host_ifname': raw['host_ifname'],
        'mac': raw['mac'],
        'addresses': sorted_addresses(entries),
        'ipv4': primary_address(entries, 4),
        'ipv6': primary_address(entries, 6),
    }
    # docker container inspect's NetworkSettings.Networks.<network>.GlobalIPv6Address and GlobalIPv6PrefixLen.
    record['GlobalIPv6Address'], _slash, prefix = record['ipv6'].partition('/')
    record['GlobalIPv6PrefixLen'] = int(prefix) if prefix else 0
    return record


def docker_options(bridge, flags, mtu):
    options = {
        'com.docker.network.bridge.name': bridge,
        'com.docker.network.bridge.enable_icc': 'true' if flags['icc'] else 'false',
        'com.docker.network.bridge.enable_ip_masquerade': 'true' if flags['masquerade'] else 'false',
        'com.docker.network.bridge.host_binding_ipv4': ANY,
    }
    if mtu is not None:
        options['com.docker.network.driver.mtu'] = str(mtu)
    # Docker 28's gateway modes, shown where they are not the default nat (the table of an older version filters
    # nothing: nat-unprotected).
    for version in (4, 6):
        mode = flags.get('gateway_mode_ipv%d' % version, 'nat')
        if mode != 'nat':
            options['com.docker.network.bridge.gateway_mode_ipv%d' % version] = mode
    return options


# Docker's Scope per driver: overlay networks are swarm-scoped, the others local to their host.
SCOPES = {'overlay': 'swarm'}


def overlay_options(vxlan, mtu):
    """Options of an overlay network as Docker shows them: the VNI of the VXLAN device on its bridge (read from it),
    and the MTU of the bridge (Docker shows it when the network sets one; the collection always sets one)."""
    options = {'com.docker.network.driver.overlay.vxlanid_list': str(vxlan['vni'])} if vxlan and vxlan.get('vni') else {}
    if mtu is not None:
        options['com.docker.network.driver.mtu'] = str(mtu)
    return options


def network_inspect(net, bridge_link, bridge_addresses, endpoints, flags, vxlan=None):
    """One network as ``docker network inspect`` prints it, plus ``Exists``.

    ``net``: {name, bridge, driver} (macvlan: {name, parent, subnet, gateway, and ipv6_subnet, ipv6_gateway
    with IPv6}; any: ip_range, ipv6_ip_range); ``bridge_link``: the
    link dict of the bridge (macvlan: of the parent) or None when it does not exist; ``bridge_addresses``:
    [(cidr, secondary)] of the bridge; ``endpoints``: the endpoint records on it; ``flags``: {internal, icc,
    masquerade} from the isolation table (DEFAULT_FLAGS when it has no entry); ``vxlan``: an overlay's VXLAN device
    (vxlan_devices' entry) or None.
    """
    exists = bridge_link is not None
    driver = net['driver']
    containers = {}
    if exists:
        for ep in sorted(endpoints, key=lambda e: (e['container'], e['ifname'])):
            containers[container_id(ep['container'])] = {
                'Name': ep['container'],
                'EndpointID': endpoint_id(ep['container'], net['name']),
                'MacAddress': ep['mac'] or '',
                'IPv4Address': ep['ipv4'],
                'IPv6Address': ep['ipv6'],
            }
    if driver == 'macvlan':
        config = macvlan_ipam_config(net)
        options = {'parent': bridge_link['name'] if exists else net['parent']}
    else:
        config = ipam_config(bridge_addresses, net.get('ip_range'), net.get('ipv6_ip_range')) if exists else []
        if driver == 'overlay':
            options = overlay_options(vxlan, bridge_link['mtu'] if exists else None)
        else:
            options = docker_options(net['bridge'], flags, bridge_link['mtu'] if exists else None)
    return {
        'Name': net['name'],
        'Id': network_id(net['name']),
        'Scope': SCOPES.get(driver, 'local'),
        'Driver': driver,
        'EnableIPv6': any(':' in entry['Subnet'] for entry in config),
        'IPAM': {'Driver': 'default', 'Options': {}, 'Config': config},
        'Internal': flags['internal'] if driver != 'macvlan' else False,
        'Attachable': False,
        'Ingress': False,
        'Containers': containers,
        'Options': options,
        'Labels': {},
        'Exists': exists,
    }


def vxlan_device(link, fdb_dsts, names):
    """A VXLAN device as network_info's ``vxlan`` result: VNI, local VTEP, master and the remote VTEPs its FDB
    sends to (``fdb_dsts``: the dst of every entry of its FDB dump), sorted. ``names``: {index: ifname}."""
    remotes = sorted({dst for dst in fdb_dsts if dst}, key=lambda a: (ipaddress.ip_address(a).version, int(ipaddress.ip_address(a))))
    return {'name': link['name'], 'vni': link.get('vni'), 'local': link.get('local'),
            'master': names.get(link['master_index']) if link['master_index'] else None, 'remotes': remotes}


def route_entries(messages, names):
    """Main-table IPv4 routes -> [{dst: CIDR or 'default', dev, gateway}], sorted. ``names``: {index: ifname}."""
    out = []
    for msg in messages:
        if msg.get('table') != MAIN_TABLE or msg.get('type') not in _ROUTE_TYPES:
            continue
        if msg.get('dst_len'):
            dst = ipaddress.ip_network('%s/%d' % (msg.get('dst'), msg['dst_len']), strict=False).compressed
        else:
            dst = 'default'
        oif = msg.get('oif')
        gateway = msg.get('gateway')
        if oif is None and msg.get('multipath'):
            hop = msg['multipath'][0]
            oif, gateway = hop.get('oif'), hop.get('gateway')
        out.append({'dst': dst, 'dev': names.get(oif) if oif else None, 'gateway': gateway or None})
    return sorted(out, key=lambda r: (r['dst'] != 'default', r['dst'], r['dev'] or '', r['gateway'] or ''))


# -- readers (one dump each) -------------------------------------------------------------------

def _msg_view(msg):
    """A route message as a plain dict (what route_entries needs)."""
    view = {'table': msg.get('table'), 'type': msg['type'], 'dst': msg.get('dst'), 'dst_len': msg['dst_len'],
            'oif': msg.get('oif'), 'gateway': msg.get('gateway'), 'multipath': None}
    hops = msg.get('multipath')
    if hops:
        view['multipath'] = [{'oif': hop['oif'], 'gateway': hop.get('gateway')} for hop in hops]
    return view


def brief_link(msg):
    """The fields of a link message this module uses (a lighter _links._link_info: no bridge or port data)."""
    linkinfo = msg.get_attr('IFLA_LINKINFO')
    info = {
        'index': msg['index'],
        'name': msg.get_attr('IFLA_IFNAME'),
        'kind': linkinfo.get_attr('IFLA_INFO_KIND') if linkinfo is not None else None,
        'mac': (msg.get_attr('IFLA_ADDRESS') or '').lower() or None,
        'mtu': msg.get_attr('IFLA_MTU'),
        'alias': msg.get_attr('IFLA_IFALIAS'),
        'master_index': msg.get_attr('IFLA_MASTER') or None,
        'link': msg.get_attr('IFLA_LINK'),
        'link_netnsid': msg.get_attr('IFLA_LINK_NETNSID'),
    }
    if info['kind'] == 'vxlan':
        data = linkinfo.get_attr('IFLA_INFO_DATA')
        if data is not None:
            attrs = vxlan.vxlan_attrs(data)
            info.update(vni=attrs['vni'], local=attrs['local'])
    return info


def read_links(netlink_socket, label):
    """{index: brief link} of the namespace of ``netlink_socket`` (a Netlink channel or IPRoute): one dump."""
    with netlink_errors(label, 'list links'):
        return {msg['index']: brief_link(msg) for msg in netlink_socket.link('dump')}


def read_addresses(netlink_socket, label, family=socket.AF_UNSPEC):
    """{link index: [(cidr, secondary)]} in kernel order (primary addresses first)."""
    out = {}
    with netlink_errors(label, 'list addresses'):
        msgs = netlink_socket.addr('dump', family=family)
    for msg in msgs:
        address = msg.get('address')
        if address is None:
            continue
        iface = ipaddress.ip_interface('%s/%d' % (address, msg['prefixlen']))
        cidr = '%s/%d' % (iface.ip.compressed, iface.network.prefixlen)
        out.setdefault(msg['index'], []).append((cidr, bool(msg['flags'] & IFA_F_SECONDARY)))
    return out


def read_routes(netlink_socket, label, links, family=socket.AF_INET):
    """The main table's routes of one family (route_entries); IPv6: link-local and multicast ones left out (the
    kernel's, on every link)."""
    with netlink_errors(label, 'list routes'):
        msgs = netlink_socket.route('dump', family=family, table=MAIN_TABLE)
    routes = route_entries([_msg_view(m) for m in msgs], {index: info['name'] for index, info in links.items()})
    if family == socket.AF_INET6:
        routes = [r for r in routes if r['dst'] == 'default' or not ipaddress.ip_network(r['dst']).subnet_of(_LINK_LOCAL_V6)
                  and not ipaddress.ip_network(r['dst']).subnet_of(_MULTICAST_V6)]
    return routes


def read_fdb_dsts(netlink_socket, label):
    """{link index: the dst of every FDB entry of that link} of the namespace (a VXLAN device: where it sends
    frames; bridge ports have entries without one): one dump for every device."""
    with netlink_errors(label, 'list FDB entries'):
        msgs = netlink_socket.fdb('dump')
    out = {}
    for msg in msgs:
        if msg.get('dst'):
            out.setdefault(msg['ifindex'], []).append(ipaddress.ip_address(msg.get('dst')).compressed)
    return out


def read_nsid(netlink_socket, label, fd):
    """The id the namespace of ``netlink_socket`` gives the namespace open as ``fd`` (None when it has none)."""
    with netlink_errors(label, 'look up the id of the bridges\' namespace'):
        answer = netlink_socket.get_netnsid(fd=fd)
    nsid = answer.get('nsid') if answer else None
    return None if nsid in NSID_NOT_ASSIGNED else nsid
