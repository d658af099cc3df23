#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test probe: capture, inside a container's namespace, ICMP echo requests that carry a marker.

Enters the named network namespace, opens a packet socket on IFACE, then creates READY_FILE (so
the sender knows it may send) and counts the echo requests whose payload holds MARKER until one
arrives or SECONDS pass. Prints JSON {"seen": N, "sources": [...], "started": T0, "ended": T1} (epoch
seconds: the lab hosts share one clock, so a sender can show it sent while this was listening).
It only listens.

usage: vtep_capture.py NETNS IFACE MARKER SECONDS READY_FILE
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time

from pyroute2 import netns

ETH_P_IP = 0x0800
ICMP_ECHO = 8


def main():
    name, iface, marker, seconds, ready = sys.argv[1], sys.argv[2], sys.argv[3].encode(), float(sys.argv[4]), sys.argv[5]
    netns.setns(name, flags=0)  # never creates the namespace
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    sock.bind((iface, 0))
    sock.settimeout(0.2)
    with open(ready, 'w') as handle:
        handle.write('%d\n' % os.getpid())
    seen, sources = 0, []
    started = time.time()
    deadline = started + seconds
    try:
        while time.time() < deadline and not seen:
            try:
                packet, address = sock.recvfrom(4096)
            except socket.timeout:
                continue
            if address[2] == socket.PACKET_OUTGOING:
                continue
            ip = packet[14:]
            ihl = (ip[0] & 0x0f) * 4
            if len(ip) < ihl + 8 or ip[9] != socket.IPPROTO_ICMP or ip[ihl] != ICMP_ECHO:
                continue
            if marker in ip[ihl + 8:]:
                seen += 1
                sources.append(socket.inet_ntoa(ip[12:16]))
    finally:
        sock.close()
        os.unlink(ready)
    print(json.dumps({'seen': seen, 'sources': sources, 'netns': name, 'iface': iface, 'started': started, 'ended': time.time()}))


if __name__ == '__main__':
    main()
