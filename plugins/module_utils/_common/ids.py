# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stable identifiers, shaped like Docker's, derived from inventory names.

Docker draws network, container and endpoint ids at random and keeps them in its
store; this collection has no store, so they are hashes of the names. The same
inventory gives the same ids on every run and on every host, and the derived
names (``br-<12 hex>`` bridges, ``veth<7 hex>`` host ends) are as stable.
"""

from __future__ import annotations

import hashlib


def _digest(kind, *parts):
    return hashlib.sha256(('linuxnet.container/%s/%s' % (kind, '/'.join(parts))).encode('utf-8')).hexdigest()


def network_id(name):
    """64 hex digits, like ``docker network inspect``'s Id."""
    return _digest('network', name)


def container_id(name):
    return _digest('container', name)


def endpoint_id(container, network):
    return _digest('endpoint', container, network)


def bridge_name(network):
    """Docker's name for a user-defined network's bridge: br- and 12 hex digits of the id (15 bytes)."""
    return 'br-' + network_id(network)[:12]


def host_veth_name(container, network):
    """The host end of a container's veth pair on a network: veth and 7 hex digits, as Docker names them."""
    return 'veth' + endpoint_id(container, network)[:7]
