#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test probe: inject a frame into another host's overlay with a crafted VXLAN packet (scapy).

Run on a lab host that is not one of the overlay's VTEPs. Sends, on IFACE, COUNT copies of
Ether/IP/UDP(dport=PORT)/VXLAN(vni=VNI)/Ether/IP/ICMP echo request carrying MARKER, from this
host's own underlay address to VTEP, for the endpoint INNER_IP (MAC INNER_MAC) behind it; the
outer destination MAC is resolved by ARP. Only lab addresses: the frames stay on the underlay.
Prints JSON {"sent": COUNT, "from": ..., "to": ..., "first": T0, "last": T1} (epoch seconds of the sends).

usage: vtep_send.py IFACE VTEP VNI INNER_MAC INNER_IP MARKER [COUNT] [PORT]
"""

from __future__ import annotations

import json
import random
import sys
import time

from pyroute2 import IPRoute
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import Ether, getmacbyip
from scapy.layers.vxlan import VXLAN
from scapy.packet import Raw
from scapy.sendrecv import sendp

INNER_SRC_IP = '10.0.0.99'
INNER_SRC_MAC = '02:42:0a:00:00:63'


def main():
    iface, vtep, vni, inner_mac, inner_ip, marker = sys.argv[1:7]
    count = int(sys.argv[7]) if len(sys.argv) > 7 else 3
    port = int(sys.argv[8]) if len(sys.argv) > 8 else 4789
    with IPRoute() as ipr:
        link = ipr.link('get', ifname=iface)[0]
        own_mac = link.get('IFLA_ADDRESS')
        own_ip = next(a.get('IFA_ADDRESS') for a in ipr.addr('dump', index=link['index'], family=2))
    outer_mac = getmacbyip(vtep)
    if not outer_mac:
        raise SystemExit('no ARP answer from %s on %s' % (vtep, iface))
    frame = (Ether(src=own_mac, dst=outer_mac) /
             IP(src=own_ip, dst=vtep) /
             UDP(sport=random.randint(49152, 65535), dport=port) /
             VXLAN(vni=int(vni), flags=0x08) /
             Ether(src=INNER_SRC_MAC, dst=inner_mac) /
             IP(src=INNER_SRC_IP, dst=inner_ip) /
             ICMP(type=8, id=random.randint(1, 65535), seq=1) /
             Raw(load=marker.encode()))
    first = time.time()
    sendp(frame, iface=iface, count=count, inter=0.3, verbose=False)
    last = time.time()
    print(json.dumps({'sent': count, 'from': own_ip, 'to': vtep, 'outer_mac': outer_mac, 'vni': int(vni), 'port': port,
                      'bytes': len(frame), 'first': first, 'last': last}))


if __name__ == '__main__':
    main()
