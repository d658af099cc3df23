#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test probe (moby#45610): can a neighbour on the same L2 reach a port published on 127.0.0.1?

Run on one lab host against another on the underlay: sends a TCP SYN for 127.0.0.1:PORT in an
Ethernet frame addressed to the target's MAC (what an attacker on the same segment can do; a
normal route would never send it), then listens for a SYN-ACK coming back. Prints JSON
{"reply": true|false}. Only lab addresses are used; the frame never leaves the lab's underlay.

usage: spoof_loopback.py IFACE TARGET_IP PORT
"""

from __future__ import annotations

import json
import os
import random
import socket
import struct
import sys
import time

from pyroute2 import IPRoute

ETH_P_IP = 0x0800


def checksum(data):
    if len(data) % 2:
        data += b'\0'
    total = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xffff)
    total += total >> 16
    return ~total & 0xffff


def syn(src, dst, sport, dport):
    seq = random.randint(0, 2 ** 32 - 1)
    tcp = struct.pack('!HHIIBBHHH', sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack('!H', checksum(pseudo + tcp)) + tcp[18:]
    header = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), random.randint(0, 65535), 0x4000, 64,
                         socket.IPPROTO_TCP, 0, socket.inet_aton(src), socket.inet_aton(dst))
    header = header[:10] + struct.pack('!H', checksum(header)) + header[12:]
    return header + tcp


def neighbour_mac(ipr, index, address):
    """The target's MAC from this host's neighbour table (a ping fills it first)."""
    os.system('ping -c 1 -W 1 %s >/dev/null 2>&1' % address)  # nosec - fixed lab address
    for entry in ipr.neigh('dump', ifindex=index):
        if entry.get('NDA_DST') == address and entry.get('NDA_LLADDR'):
            return entry.get('NDA_LLADDR')
    raise SystemExit('no neighbour entry for %s' % address)


def main():
    iface, target, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with IPRoute() as ipr:
        link = ipr.link('get', ifname=iface)[0]
        index, own_mac = link['index'], link.get('IFLA_ADDRESS')
        own_ip = next(a.get('IFA_ADDRESS') for a in ipr.addr('dump', index=index, family=socket.AF_INET))
        target_mac = neighbour_mac(ipr, index, target)
    sport = random.randint(40000, 60000)
    frame = (bytes.fromhex(target_mac.replace(':', '')) + bytes.fromhex(own_mac.replace(':', '')) +
             struct.pack('!H', ETH_P_IP) + syn(own_ip, '127.0.0.1', sport, port))
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    sock.bind((iface, 0))
    sock.settimeout(0.2)
    reply = False
    for _attempt in range(3):
        sock.send(frame)
        deadline = time.time() + 1.0
        while time.time() < deadline and not reply:
            try:
                packet = sock.recv(2048)
            except socket.timeout:
                continue
            ip = packet[14:]
            if len(ip) < 40 or ip[9] != socket.IPPROTO_TCP:
                continue
            ihl = (ip[0] & 0x0f) * 4
            tsport, tdport = struct.unpack('!HH', ip[ihl:ihl + 4])
            flags = ip[ihl + 13]
            if tdport == sport and tsport == port and flags & 0x12 == 0x12:
                reply = True
        if reply:
            break
    print(json.dumps({'reply': reply, 'from': own_ip, 'to_mac': target_mac}))


if __name__ == '__main__':
    main()
