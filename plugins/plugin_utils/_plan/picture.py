# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A picture of the fleet from what network_info read on every host: DOT text for graphviz, and a plain SVG for
hosts without it.

Private to the collection, pure (no I/O). ``topology`` turns the network_info results of every host into one
model (hosts, networks, containers with their addresses and published ports, VTEPs and the VXLAN tunnels between
them); ``to_dot`` and ``to_svg`` draw that model. The SVG fallback lays the picture out itself, in fixed layers
(VTEPs, networks, containers) per host column: the picture is layered by nature, so no general graph layout is needed.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import address_key


def _subnet(net):
    config = ((net.get('IPAM') or {}).get('Config') or [{}])[0]
    return config.get('Subnet'), config.get('Gateway')


def _carrier(net):
    options = net.get('Options') or {}
    if net.get('Driver') == 'macvlan':
        return 'parent %s' % options.get('parent')
    if net.get('Driver') == 'overlay':
        return 'VNI %s' % options.get('com.docker.network.driver.overlay.vxlanid_list', '?')
    return 'bridge %s' % options.get('com.docker.network.bridge.name')


def topology(hosts):
    """The model of the fleet. ``hosts``: [(host, [network_info results of the host: its own namespace's first, then
    one per overlay namespace], {container: network mode} of the inventory's containers without a namespace of their
    own (host, container:NAME), which no kernel shows)], in the order to draw them.

    Returns {hosts: [{name, vteps, networks, containers}], tunnels: [{network, vni, a, b, hosts}]}: networks with
    name, driver, subnet, gateway and carrier; containers with name, endpoints [{network, address, ifname}], ports
    and mode (None, or the inventory's network mode); vteps the local addresses of the host's VXLAN devices; tunnels one per overlay and pair of VTEPs (either
    side's FDB pointing at the other is enough), their ends sorted.
    """
    out_hosts, vtep_host, links = [], {}, {}
    for host, results, shared in hosts:
        networks, containers, vteps, ports = [], {}, [], {}
        for result in results:
            for net in result.get('networks') or []:
                if not net.get('Exists', True):
                    continue
                subnet, gateway = _subnet(net)
                networks.append({'name': net['Name'], 'driver': net.get('Driver') or 'bridge', 'subnet': subnet,
                                 'gateway': gateway, 'carrier': _carrier(net)})
            for name in result.get('containers') or []:
                containers.setdefault(name, [])
            for ep in result.get('endpoints') or []:
                address = (ep.get('addresses') or [''])[0]
                containers.setdefault(ep['container'], []).append({'network': ep['network'], 'address': address, 'ifname': ep['ifname']})
            for name, lines in (result.get('ports') or {}).items():
                ports.setdefault(name, []).extend(line for line in lines if line not in ports.get(name, []))
            overlay = next((n['Name'] for n in result.get('networks') or [] if n.get('Driver') == 'overlay'), None)
            for device in result.get('vxlan') or []:
                if not device.get('local'):
                    continue
                if device['local'] not in vteps:
                    vteps.append(device['local'])
                vtep_host.setdefault(device['local'], host)
                for remote in device.get('remotes') or []:
                    pair = tuple(sorted((device['local'], remote), key=address_key))
                    links.setdefault((overlay or device['name'], device.get('vni'), pair), None)
        out_hosts.append({
            'name': host, 'vteps': sorted(vteps, key=address_key),
            'networks': sorted(networks, key=lambda n: (n['driver'] != 'bridge', n['driver'], n['name'])),
            'containers': [{'name': name, 'endpoints': sorted(eps, key=lambda e: e['ifname']), 'ports': ports.get(name, []),
                            'mode': None} for name, eps in sorted(containers.items())]
            + [{'name': name, 'endpoints': [], 'ports': [], 'mode': mode} for name, mode in sorted(shared.items()) if name not in containers],
        })
    tunnels = [{'network': network, 'vni': vni, 'a': pair[0], 'b': pair[1],
                'hosts': [vtep_host.get(pair[0]), vtep_host.get(pair[1])]}
               for network, vni, pair in sorted(links, key=lambda k: (k[0], k[1] or 0, address_key(k[2][0]), address_key(k[2][1])))]
    return {'hosts': out_hosts, 'tunnels': tunnels}


# -- DOT ------------------------------------------------------------------------------------------

def _q(text):
    """A DOT quoted string (lines joined by \\n, quotes and backslashes escaped)."""
    return '"%s"' % '\\n'.join(str(line).replace('\\', '\\\\').replace('"', '\\"') for line in str(text).split('\n'))


def _net_id(host, name):
    return 'net:%s:%s' % (host, name)


def _network_label(net):
    lines = ['%s (%s)' % (net['name'], net['driver']), net['carrier']]
    if net['subnet']:
        lines.append('%s gw %s' % (net['subnet'], net['gateway']) if net['gateway'] else net['subnet'])
    return '\n'.join(lines)


def _container_label(container):
    lines = [container['name']]
    if container.get('mode') == 'host':
        lines.append("the host's network")
    elif container.get('mode'):
        lines.append("%s's network namespace" % container['mode'].partition(':')[2])
    elif not container['endpoints']:
        lines.append('no network (lo only)')
    lines.extend('port %s' % line for line in container['ports'])
    return '\n'.join(lines)


def _tunnel_label(tunnel):
    return 'VXLAN %s VNI %s\n%s <-> %s' % (tunnel['network'], tunnel['vni'], tunnel['a'], tunnel['b'])


def to_dot(model):
    """DOT text of the model: one cluster per host, networks as boxes, containers as ellipses with an edge per
    endpoint labelled with its address, VTEPs as diamonds and a dashed edge per VXLAN tunnel."""
    lines = ['graph linuxnet_topology {', '  rankdir=TB;', '  newrank=true;',
             '  node [fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=9];']
    for index, host in enumerate(model['hosts']):
        name = host['name']
        lines.append('  subgraph %s {' % _q('cluster_%d' % index))
        lines.append('    label=%s; style=rounded;' % _q('host %s' % name))
        for vtep in host['vteps']:
            lines.append('    %s [shape=diamond, label=%s];' % (_q('vtep:' + vtep), _q('VTEP %s' % vtep)))
        for net in host['networks']:
            lines.append('    %s [shape=box, style=filled, fillcolor="#e8f0fe", label=%s];' % (_q(_net_id(name, net['name'])), _q(_network_label(net))))
            if net['driver'] == 'overlay':
                for vtep in host['vteps']:
                    lines.append('    %s -- %s [style=dotted];' % (_q(_net_id(name, net['name'])), _q('vtep:' + vtep)))
        for container in host['containers']:
            cid = 'ctr:%s:%s' % (name, container['name'])
            lines.append('    %s [shape=ellipse, label=%s];' % (_q(cid), _q(_container_label(container))))
            for ep in container['endpoints']:
                lines.append('    %s -- %s [label=%s];' % (_q(cid), _q(_net_id(name, ep['network'])), _q('%s %s' % (ep['ifname'], ep['address']))))
        lines.append('  }')
    for tunnel in model['tunnels']:
        ends = (_q('vtep:' + tunnel['a']), _q('vtep:' + tunnel['b']), _q(_tunnel_label(tunnel)))
        lines.append('  %s -- %s [style=dashed, color="#b06000", label=%s];' % ends)
    lines.append('}')
    return '\n'.join(lines) + '\n'


# -- SVG fallback ---------------------------------------------------------------------------------

_BOX_W, _BOX_H, _GAP, _LINE = 190, 18, 24, 13
_PAD = 16


def _box_height(label):
    return _LINE * len(label.split('\n')) + 10


def _text(x, y, label, anchor='middle', size=11):
    out = []
    for position, line in enumerate(label.split('\n')):
        out.append('<text x="%d" y="%d" text-anchor="%s" font-family="Helvetica,Arial,sans-serif" font-size="%d">%s</text>'
                   % (x, y + position * _LINE, anchor, size, escape(line)))
    return out


def to_svg(model):
    """A plain SVG of the model, laid out without graphviz: one column per host, its VTEPs at the top, its networks
    below, its containers at the bottom; a line per endpoint (labelled with its address) and a dashed arc per
    tunnel above the hosts. Deterministic: the same model gives the same bytes."""
    body, centers = [], {}
    tunnels_h = 40 + 30 * len(model['tunnels'])
    x0 = _PAD
    height = 0
    for host in model['hosts']:
        cols = max(1, len(host['networks']), len(host['containers']))
        cols = min(cols, 4)
        width = cols * (_BOX_W + _GAP) + _GAP
        y = tunnels_h + 30
        rows = []
        for layer, items in (('vtep', host['vteps']), ('net', host['networks']), ('ctr', host['containers'])):
            placed, row_h, cx = [], 0, 0
            for position, item in enumerate(items):
                if layer == 'vtep':
                    label = 'VTEP %s' % item
                elif layer == 'net':
                    label = _network_label(item)
                else:
                    label = _container_label(item)
                h = _box_height(label)
                if position and position % cols == 0:
                    y += row_h + _GAP * 2
                    row_h = 0
                cx = x0 + _GAP + (position % cols) * (_BOX_W + _GAP)
                placed.append((item, label, cx, y, h))
                row_h = max(row_h, h)
            rows.append((layer, placed))
            y += row_h + _GAP * 3
        box_top = tunnels_h + 4
        body.append('<rect x="%d" y="%d" width="%d" height="%d" rx="10" fill="none" stroke="#555"/>' % (x0, box_top, width, y - box_top))
        body.extend(_text(x0 + 10, box_top + 16, 'host %s' % host['name'], anchor='start', size=13))
        edges, shapes = [], []
        for layer, placed in rows:
            for item, label, cx, cy, h in placed:
                fill = {'vtep': '#fff4e0', 'net': '#e8f0fe', 'ctr': '#ffffff'}[layer]
                shapes.append('<rect x="%d" y="%d" width="%d" height="%d" rx="%d" fill="%s" stroke="#333"/>'
                              % (cx, cy, _BOX_W, h, 3 if layer == 'net' else 9, fill))
                shapes.extend(_text(cx + _BOX_W // 2, cy + 14, label))
                key = {'vtep': lambda i: 'vtep:' + i, 'net': lambda i: _net_id(host['name'], i['name']),
                       'ctr': lambda i: 'ctr:%s:%s' % (host['name'], i['name'])}[layer](item)
                centers[key] = (cx + _BOX_W // 2, cy, cy + h)
        for container in host['containers']:
            cx, cy, _bottom = centers['ctr:%s:%s' % (host['name'], container['name'])]
            for ep in container['endpoints']:
                target = centers.get(_net_id(host['name'], ep['network']))
                if target is None:
                    continue
                tx, _ty, tb = target
                edges.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#777"/>' % (cx, cy, tx, tb))
                edges.extend(_text((cx + tx) // 2, (cy + tb) // 2, '%s %s' % (ep['ifname'], ep['address']), size=9))
        for net in host['networks']:
            if net['driver'] != 'overlay':
                continue
            nx, ny, _nb = centers[_net_id(host['name'], net['name'])]
            for vtep in host['vteps']:
                vx, _vy, vb = centers['vtep:' + vtep]
                edges.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999" stroke-dasharray="2,3"/>' % (nx, ny, vx, vb))
        body.extend(edges + shapes)
        x0 += width + _PAD
        height = max(height, y + _PAD)
    for position, tunnel in enumerate(model['tunnels']):
        a, b = centers.get('vtep:' + tunnel['a']), centers.get('vtep:' + tunnel['b'])
        if a is None or b is None:
            continue
        top = 30 + 30 * position
        body.append('<path d="M %d %d C %d %d, %d %d, %d %d" fill="none" stroke="#b06000" stroke-dasharray="6,4"/>'
                    % (a[0], a[1], a[0], top, b[0], top, b[0], b[1]))
        body.extend(_text((a[0] + b[0]) // 2, top + 4 - _LINE, _tunnel_label(tunnel).replace('\n', ': '), size=10))
    width = x0
    head = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">' % (width, height, width, height),
            '<title>%s</title>' % escape('linuxnet.container topology'),
            '<rect width="100%%" height="100%%" fill="white"/>']
    return '\n'.join(head + body + ['</svg>']) + '\n'
