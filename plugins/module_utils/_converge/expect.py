# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What earlier tasks of the same run create, for the check-mode predictions of later ones.

Private to the collection. In check mode M(netns) and M(bridge) only predict their
creations, so a later task would find neither the namespace nor the bridge it
needs. A module's ``expect`` option lists them; :class:`Expect` answers the two
questions the modules ask:

* does a namespace exist? A listed namespace that does not is *virtual*: it is
  read as an empty namespace (no links, addresses or routes) and never opened;
* which links does a namespace hold? A listed link that is missing is an
  existing, empty bridge with the kernel's defaults (a placeholder record with a
  negative index, which no kernel link has).

Only check mode honours the expectations; a real run gets an inert
:class:`Expect` and fails on a missing namespace or bridge exactly as before.
Pure Python: nothing here touches the kernel except ``os.path.exists``.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.links import parse_ns
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import TAG, normalize_interface_address, validate_ifname

ARPHRD_ETHER = 1
PLACEHOLDER_MTU = 1500  # a new bridge without ports, as the kernel creates it


def argument_spec():
    """The argument spec of the ``expect`` option (documented by the linuxnet.container.expect doc fragment)."""
    return dict(type='dict', options=dict(
        namespaces=dict(type='list', elements='str'),
        links=dict(type='list', elements='dict', options=dict(
            name=dict(type='str', required=True),
            namespace=dict(type='str'),
            addresses=dict(type='list', elements='str'),
        )),
    ))


def placeholder_link(name, index):
    """The link record (as NsView keeps it) of a bridge an earlier task creates: up, empty, no master."""
    return {
        'index': index, 'name': name, 'kind': 'bridge', 'mac': None, 'mtu': PLACEHOLDER_MTU, 'up': True,
        'alias': TAG, 'master_index': None, 'link': None, 'link_netnsid': None, 'hairpin': None,
        'stp': False, 'vlan_filtering': False, 'mode': None, 'hwtype': ARPHRD_ETHER, 'expected': True,
    }


class Expect:
    """Namespaces and links an earlier task of this run creates (inert unless ``active``)."""

    #: the key host_network adds to a part's ``expect``: the call itself predicts what its earlier parts create
    THREADED = 'host_network'

    def __init__(self, namespaces=(), links=(), active=True, threaded=False):
        self.active = active
        self.threaded = threaded
        self._namespaces = {}   # path -> label
        self._links = {}        # path -> [names], in the order given
        self._networks = {}     # path -> [(ip_network, name)] of the listed links' addresses
        for ref in namespaces:
            if not ref.is_host:
                self._namespaces.setdefault(ref.path, ref.label)
        for link in links:
            ref, name = link[0], link[1]
            names = self._links.setdefault(ref.path, [])
            if name not in names:
                names.append(name)
            for address in link[2] if len(link) > 2 else ():
                self._networks.setdefault(ref.path, []).append((ipaddress.ip_interface(address).network, name))

    @classmethod
    def inert(cls):
        return cls(active=False)

    # -- namespaces ----------------------------------------------------------
    def virtual(self, ref):
        """True for a listed namespace that does not exist (check mode only): read as empty, never opened."""
        return self.active and ref.path in self._namespaces and not ref.exists()

    def exists(self, ref):
        """Whether a namespace exists, or will by the time a real run of this task comes (check mode)."""
        return ref.exists() or self.virtual(ref)

    @staticmethod
    def identity(ref):
        """Stand-in for the (st_dev, st_ino) of a virtual namespace: unlike any real one, and unlike the others."""
        return ('expected', ref.path)

    # -- links ---------------------------------------------------------------
    def placeholders(self, ref, present):
        """Placeholder records for the listed links of namespace ``ref`` that ``present`` (names) lacks."""
        if not self.active:
            return []
        out = []
        for name in self._links.get(ref.path, ()):
            if name not in present:
                out.append(placeholder_link(name, -1 - len(out)))
        return out

    def connected(self, ref, present):
        """(network, link name) of the connected routes the listed links that ``present`` (names) lacks will have."""
        if not self.active:
            return []
        return [(net, name) for net, name in self._networks.get(ref.path, ()) if name not in present]

    def hint(self, what):
        """A sentence for 'does not exist' errors in check mode: how to tell the module an earlier task creates it."""
        if not self.active:
            return ''
        if self.threaded:
            return ('. In check mode, host_network predicts only what its own earlier parts create: create it in this '
                    'call (its netns or bridge part), or run the earlier task that creates it for real first')
        return ('. In check mode, when an earlier task of this run creates it, list it in expect.%s' % what)


def parse_expect(raw, check_mode):
    """Validate the ``expect`` option (in every mode) and return an :class:`Expect`, inert outside check mode."""
    raw = raw or {}
    namespaces, links = [], []
    for position, spec in enumerate(raw.get('namespaces') or []):
        obj = 'expect.namespaces[%d]' % position
        if spec is None or str(spec).strip() == '':
            raise LinuxnetError('%s: a namespace name, path or pid:N is required, got %r' % (obj, spec))
        namespaces.append(parse_ns(spec, obj))
    for position, item in enumerate(raw.get('links') or []):
        obj = 'expect.links[%d]' % position
        problem = validate_ifname(item.get('name'))
        if problem:
            raise LinuxnetError('%s: %s' % (obj, problem))
        addresses = []
        for address in item.get('addresses') or []:
            try:
                addresses.append(normalize_interface_address(address))
            except ValueError as err:
                raise LinuxnetError('%s: address %s. Fix: write addresses as ADDRESS/PREFIX' % (obj, err))
        links.append((parse_ns(item.get('namespace'), obj), item['name'], addresses))
    if not check_mode:
        return Expect.inert()
    return Expect(namespaces, links, threaded=bool(raw.get(Expect.THREADED)))
