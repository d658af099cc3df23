# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""macvlan: input validation, the recreate rules, and planning against an in-memory kernel."""

from __future__ import annotations

import errno
import os

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import NamespaceRef
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import TAG, validate_ifname
from ansible_collections.linuxnet.container.plugins.module_utils._kernel import links
from ansible_collections.linuxnet.container.plugins.module_utils._parts import macvlan as mv
from ansible_collections.linuxnet.container.tests.unit.netlink_messages import FakeChannel, link_msg


def params(*endpoints, **top):
    out = {'state': 'present', 'recreate': False, 'prune': False, 'endpoints': list(endpoints)}
    out.update(top)
    return out


def item(name='eth0', namespace=None, parent='eth0', **extra):
    raw = {'name': name, 'namespace': namespace, 'parent': parent, 'parent_namespace': None, 'mode': 'bridge',
           'mac': None, 'mac_from_ip': False, 'addresses': None, 'routes': None, 'mtu': None, 'link_state': 'up',
           'purge_addresses': False, 'state': None, 'recreate': None}
    raw.update(extra)
    return raw


@pytest.fixture
def nsfile(tmp_path):
    """An existing 'namespace file' (a path is all the validation looks at)."""
    def make(name):
        path = tmp_path / name
        path.write_text('')
        return str(path)
    return make


# -- validation -------------------------------------------------------------------------------------------------

def test_valid_endpoint_is_normalised(nsfile):
    ns = nsfile('c1')
    desired = mv.desired_state(params(item(namespace=ns, addresses=['198.51.100.2/24'], mac_from_ip=True,
                                           routes=[{'dst': 'default', 'gateway': '198.51.100.1'}])))
    want = desired['%s/eth0' % ns]
    assert want['mac'] == '02:42:c6:33:64:02'
    assert want['mode'] == 'bridge'
    assert want['parent_namespace'] is None
    assert want['routes'] == [{'dst': '0.0.0.0/0', 'gateway': '198.51.100.1'}]
    assert want['recreate'] is False


def test_item_overrides_top_level_state_and_recreate(nsfile):
    gone = item(name='eth1', namespace='/nowhere/ns', state='absent', parent=None)
    desired = mv.desired_state(params(item(namespace=nsfile('c1'), recreate=True), gone))
    assert [w['recreate'] for w in desired.values()] == [True, False]
    assert [w['state'] for w in desired.values()] == ['present', 'absent']  # absent: missing namespace and parent are fine


@pytest.mark.parametrize('extra, words', [
    ({'name': 'eth0123456789012'}, 'Linux allows at most 15'),
    ({'parent': None}, 'parent is required'),
    ({'parent': 'a/b'}, "parent interface name 'a/b' must not"),
    ({'mode': 'source'}, 'mode source is not a macvlan mode'),
    ({'mtu': 40}, 'mtu 40 is out of range'),
    ({'mac': '02:42:zz:00:00:01'}, "mac '02:42:zz:00:00:01' is not a MAC address"),
    ({'mac': '02:42:c6:33:64:02', 'mac_from_ip': True, 'addresses': ['198.51.100.2/24']}, 'both mac and mac_from_ip'),
    ({'mac_from_ip': True, 'addresses': ['2001:db8::2/64']}, 'mac_from_ip needs an IPv4 address'),
    ({'mode': 'passthru', 'mac': '02:42:c6:33:64:02'}, 'mode passthru gives the endpoint the MAC address of its parent'),
    ({'routes': [{'dst': 'default', 'gateway': '198.51.100.1'}], 'link_state': 'down'}, 'routes need the link up'),
    ({'addresses': ['198.51.100.2/24', '198.51.100.2/24']}, 'listed twice'),
    ({'addresses': ['198.51.100.300/24']}, 'ADDRESS/PREFIX'),
    ({'routes': [{'dst': '10.0.0.0/8', 'gateway': '2001:db8::1'}]}, 'wrong address family'),
    ({'namespace': '/nowhere/ns'}, 'network namespace /nowhere/ns of eth0 does not exist. Fix: create it first'),
    ({'parent_namespace': '/nowhere/ns'}, 'parent_namespace /nowhere/ns does not exist'),
    ({'namespace': 'bad name'}, 'must not contain white space'),
])
def test_bad_inputs_name_the_item_and_the_fix(extra, words):
    with pytest.raises(LinuxnetError) as err:
        mv.desired_state(params(item(name='ok0', namespace=None), item(**extra)))
    assert err.value.msg.startswith('endpoints[1]')
    assert words in err.value.msg


def test_listed_twice(nsfile):
    ns = nsfile('c1')
    with pytest.raises(LinuxnetError, match=r'endpoints\[1\] \(macvlan .*/eth0\) is listed twice \(also as endpoints\[0\]\)'):
        mv.desired_state(params(item(namespace=ns), item(namespace=ns, parent='eth1')))


# -- recreate rules and the create fallback ----------------------------------------------------------------------

def want_of(**kw):
    want = {'parent': 'eth0', 'parent_namespace': None, 'mode': 'bridge'}
    want.update(kw)
    return want


@pytest.mark.parametrize('have, wrong', [
    ({'parent': 'eth0', 'parent_namespace': None, 'mode': 'bridge'}, []),
    ({'parent': 'eth0', 'parent_namespace': None, 'mode': 'private'}, []),     # in place
    ({'parent': 'eth0', 'parent_namespace': None, 'mode': 'vepa'}, []),        # in place
    ({'parent': 'eth1', 'parent_namespace': None, 'mode': 'bridge'}, ['parent']),
    ({'parent': 'eth0', 'parent_namespace': 'ov1', 'mode': 'bridge'}, ['parent_namespace']),
    ({'parent': 'eth0', 'parent_namespace': None, 'mode': 'passthru'}, ['mode']),
    ({'parent': 'ifindex:7', 'parent_namespace': 'nsid:3', 'mode': 'bridge'}, ['parent', 'parent_namespace']),
])
def test_identity_diff(have, wrong):
    assert mv.identity_diff(want_of(), have) == wrong


def test_identity_diff_to_passthru():
    assert mv.identity_diff(want_of(mode='passthru'), {'parent': 'eth0', 'parent_namespace': None, 'mode': 'bridge'}) == ['mode']


def test_rename_only_for_a_name_clash_in_the_parent_namespace():
    clash = LinuxnetError('x', errno=errno.EEXIST)
    assert mv.rename_needed(clash, True)
    assert not mv.rename_needed(clash, False)
    assert not mv.rename_needed(LinuxnetError('x', errno=errno.EINVAL), True)


def test_temporary_name_is_a_valid_stable_name():
    name = mv.temporary_name('c1/eth0')
    assert validate_ifname(name) is None
    assert name == mv.temporary_name('c1/eth0') != mv.temporary_name('c2/eth0')


# -- planning and applying against an in-memory kernel ---------------------------------------------------------

class Msg(dict):
    """Enough of a pyroute2 message: get() takes the tuple paths the code uses."""

    def get(self, key, default=None):
        if isinstance(key, tuple):
            return self.get('_paths', {}).get(key, default)
        return dict.get(self, key, default)


class FakeKernel:
    """Links per namespace path, a shared index counter, and the rules the kernel applies to macvlans."""

    def __init__(self, old_kernel=False):
        self.ns = {}
        self.nsids = {}           # (path seen from, path of other) -> nsid
        self.next_index = 10
        self.writes = []
        self.old_kernel = old_kernel

    def add_ns(self, path):
        self.ns.setdefault(path, {'links': {}, 'addrs': [], 'routes': []})

    def add_link(self, path, name, kind=None, mtu=1500, mac='aa:bb:cc:00:00:01', **extra):
        self.next_index += 1
        link = {'index': self.next_index, 'name': name, 'kind': kind, 'mtu': mtu, 'mac': mac, 'up': False,
                'alias': None, 'link': None, 'link_ns': None, 'mode': None}
        link.update(extra)
        self.ns[path]['links'][name] = link
        return link

    def by_index(self, path, index):
        return next(l for l in self.ns[path]['links'].values() if l['index'] == index)


class FakeIPR(FakeChannel):
    def __init__(self, kernel, path):
        self.kernel, self.path = kernel, path

    @property
    def links(self):
        return self.kernel.ns[self.path]['links']

    def _msg(self, link):
        nsid = None
        if link['link_ns'] is not None and link['link_ns'] != self.path:
            nsid = self.kernel.nsids[(self.path, link['link_ns'])]
        info_data = [('IFLA_MACVLAN_MODE', link['mode'])] if link['kind'] == 'macvlan' else None
        flags = (1 if link['up'] else 0) | (8 if link['name'] == 'lo' else 0)
        return link_msg(link['index'], link['name'], link['mac'], link['mtu'], flags, ifalias=link['alias'], link=link['link'],
                        link_netnsid=nsid, kind=link['kind'], info_data=info_data, ifi_type=772 if link['name'] == 'lo' else 1)

    def link(self, command, **kw):
        if command == 'dump':
            return [self._msg(l) for l in self.links.values()]
        if command == 'get':
            return [self._msg(self.links[kw['ifname']])]
        self.kernel.writes.append((self.path, command, kw))
        if command == 'add':
            target = self.path
            if 'net_ns_fd' in kw:
                target = os.readlink('/proc/self/fd/%d' % kw['net_ns_fd'])
                if self.kernel.old_kernel and kw['ifname'] in self.links:
                    raise FakeError(errno.EEXIST)
            if kw['ifname'] in self.kernel.ns[target]['links']:
                raise FakeError(errno.EEXIST)
            lower = self.kernel.by_index(self.path, kw['link'])
            if target != self.path:  # the kernel gives the lower device's namespace an id in the new link's, if it had none
                self.kernel.nsids.setdefault((target, self.path), sum(1 for seen in self.kernel.nsids if seen[0] == target))
            children = [l for n in self.kernel.ns.values() for l in n['links'].values() if l['link'] == lower['index']]
            if children and (kw['macvlan_mode'] == 'passthru' or any(l['mode'] == 'passthru' for l in children)):
                raise FakeError(errno.EINVAL)
            link = self.kernel.add_link(target, kw['ifname'], kind='macvlan', mtu=kw.get('mtu', lower['mtu']),
                                        mac=lower['mac'] if kw['macvlan_mode'] == 'passthru' else kw.get('address', 'fe:00:00:00:00:99'),
                                        link=lower['index'], link_ns=self.path, mode=kw['macvlan_mode'])
            return link
        link = next(l for l in self.links.values() if l['index'] == kw['index'])
        if command == 'del':
            del self.links[link['name']]
            return None
        if 'ifname' in kw and kw['ifname'] != link['name']:
            del self.links[link['name']]
            link['name'] = kw['ifname']
            self.links[link['name']] = link
        for key, field in (('ifalias', 'alias'), ('mtu', 'mtu'), ('address', 'mac'), ('macvlan_mode', 'mode')):
            if key in kw:
                link[field] = kw[key]
        if 'state' in kw:
            link['up'] = kw['state'] == 'up'
        return None

    def addr(self, command, **kw):
        if command == 'dump':
            return [Msg(index=i, address=a, prefixlen=p) for i, a, p in self.kernel.ns[self.path]['addrs']]
        self.kernel.writes.append((self.path, 'addr ' + command, kw))
        self.kernel.ns[self.path]['addrs'].append((kw['index'], kw['address'], kw['prefixlen']))
        return None

    def route(self, command, **kw):
        if command == 'dump':
            return []
        self.kernel.writes.append((self.path, 'route ' + command, kw))
        return None

    def get_netnsid(self, fd):
        other = os.readlink('/proc/self/fd/%d' % fd)
        return {'nsid': self.kernel.nsids.get((self.path, other), -1)}


class FakeError(OSError):
    def __init__(self, code):
        super().__init__(code, os.strerror(code))


class FakeNetlink:
    def __init__(self, kernel, host):
        self.kernel, self.host = kernel, host

    def ref(self, spec):
        return spec if isinstance(spec, NamespaceRef) else NamespaceRef(spec)

    def channel(self, spec=None):
        """Dumps, gets and writes go through the same fake socket (the real Netlink's Channel speaks netlink)."""
        return self.ipr(spec)

    def flush(self):
        """The fake socket answers every write at once: nothing is ever pending."""

    def invalidate(self):
        """The fake socket caches nothing."""

    def ipr(self, spec=None):
        ref = self.ref(spec)
        return FakeIPR(self.kernel, ref.path or self.host)


class FakeModule:
    def __init__(self, check_mode):
        self.check_mode = check_mode

    def warn(self, msg):
        pass


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """A host namespace with eth0 (the parent) and a container namespace c1, both plain files the fake resolves."""
    host = str(tmp_path / 'host')
    c1 = str(tmp_path / 'c1')
    for path in (host, c1):
        open(path, 'w').close()
    monkeypatch.setattr(mv, 'HOME_NS', host)
    monkeypatch.setattr(links, 'HOME_NS', host)  # namespace ids: the fake host is a plain file
    kernel = FakeKernel()
    kernel.add_ns(host)
    kernel.add_ns(c1)
    kernel.nsids[(c1, host)] = 0
    kernel.add_link(host, 'eth0', kind='veth', mac='ee:00:00:00:00:01', up=True)
    return kernel, host, c1


def run(kernel, host, args, check=False, **top):
    desired = mv.desired_state(params(*args, **top))
    rec = mv.MacvlanReconciler(FakeModule(check), FakeNetlink(kernel, host), prune=top.get('prune', False))
    return rec.run(desired), rec


def test_check_mode_predicts_and_writes_nothing(lab):
    kernel, host, c1 = lab
    result, rec = run(kernel, host, [item(namespace=c1, addresses=['198.51.100.2/24'], mac_from_ip=True)], check=True)
    assert result['changed']
    assert result['actions'][0] == ('create macvlan eth0 in network namespace %s on parent eth0 in the host namespace, '
                                    'mode bridge, mac 02:42:c6:33:64:02' % c1)
    assert kernel.writes == [] and rec.writer.count == 0
    assert result['after']['%s/eth0' % c1]['mtu'] == 1500


def test_create_in_place_then_nothing_to_do(lab):
    kernel, host, c1 = lab
    args = [item(namespace=c1, addresses=['198.51.100.2/24'], mac_from_ip=True)]
    result, rec = run(kernel, host, args)
    add = kernel.writes[0]
    assert add[0] == host and add[1] == 'add' and add[2]['ifname'] == 'eth0' and 'net_ns_fd' in add[2]
    link = kernel.ns[c1]['links']['eth0']
    assert (link['alias'], link['up'], link['mode'], link['mac']) == (TAG, True, 'bridge', '02:42:c6:33:64:02')
    assert rec.writer.count == 3
    again, rec2 = run(kernel, host, args)
    assert not again['changed'] and rec2.writer.count == 0
    assert again['after']['%s/eth0' % c1]['parent'] == 'eth0'


def test_old_kernel_name_clash_creates_under_a_temporary_name_and_renames(lab):
    kernel, host, c1 = lab
    kernel.old_kernel = True
    result, rec = run(kernel, host, [item(namespace=c1), item(name='eth1', namespace=c1)])
    names = [w[2].get('ifname') for w in kernel.writes if w[1] in ('add', 'set')]
    temp = mv.temporary_name('%s/eth0' % c1)
    # eth0 clashed with the host's eth0: refused once, then created as temp and renamed; eth1 went straight through.
    assert names == ['eth0', temp, 'eth0', 'eth1', None]
    assert sorted(kernel.ns[c1]['links']) == ['eth0', 'eth1']
    assert rec.quirks['rename_after_create']


def test_mode_changes_in_place_but_passthru_needs_recreate(lab):
    kernel, host, c1 = lab
    run(kernel, host, [item(namespace=c1)])
    result, dummy = run(kernel, host, [item(namespace=c1, mode='private')])
    assert result['actions'] == ['set mode private of macvlan eth0 in network namespace %s' % c1]
    with pytest.raises(LinuxnetError, match='mode private \\(wanted passthru\\); the kernel cannot change this in place. '
                                            'Fix: set recreate: true'):
        run(kernel, host, [item(namespace=c1, mode='passthru')])
    result, dummy = run(kernel, host, [item(namespace=c1, mode='passthru', recreate=True)])
    assert result['actions'][0].startswith('delete macvlan eth0')
    assert result['after']['%s/eth0' % c1]['mac'] == 'ee:00:00:00:00:01'  # the parent's


def test_parent_errors(lab):
    kernel, host, c1 = lab
    with pytest.raises(LinuxnetError, match='parent eth7 does not exist in the host namespace. Fix: check parent'):
        run(kernel, host, [item(namespace=c1, parent='eth7')], check=True)
    kernel.add_link(host, 'lo', mtu=65536, mac='00:00:00:00:00:00')
    with pytest.raises(LinuxnetError, match=r'parent lo in the host namespace is not an Ethernet device \(loopback\)'):
        run(kernel, host, [item(namespace=c1, parent='lo')], check=True)
    with pytest.raises(LinuxnetError, match=r'mtu 9000 is larger than the MTU of parent eth0 \(1500\)'):
        run(kernel, host, [item(namespace=c1, mtu=9000)], check=True)
    with pytest.raises(LinuxnetError, match=r'endpoints\[0\].*: endpoint .*/eth1 is listed on the same parent eth0 .* in passthru mode'):
        run(kernel, host, [item(namespace=c1), item(name='eth1', namespace=c1, mode='passthru')], check=True)
    with pytest.raises(LinuxnetError, match=r'endpoints\[0\].*: mode passthru gives the whole parent to one macvlan, but parent eth0 .* '
                                            r'also carries .*/eth1'):
        run(kernel, host, [item(namespace=c1, mode='passthru'), item(name='eth1', namespace=c1)], check=True)
    run(kernel, host, [item(namespace=c1, mode='passthru')])
    with pytest.raises(LinuxnetError, match='already carries macvlan .*/eth0 in passthru mode'):
        run(kernel, host, [item(name='gone0', namespace=c1, parent=None, state='absent'), item(name='mv1', namespace=None)], check=True)
    # Where the passthru macvlan sits in a namespace the task does not list, the kernel's refusal comes with the hint.
    with pytest.raises(LinuxnetError, match='invalid argument .*passthru mode allows no other on its parent: eth0 may already carry'):
        run(kernel, host, [item(name='mv1', namespace=None)])
    with pytest.raises(LinuxnetError, match='is itself a macvlan in passthru mode'):
        run(kernel, host, [item(name='mv1', namespace=None, parent='eth0', parent_namespace=c1)], check=True)
    assert 'mv1' not in kernel.ns[host]['links']


def test_foreign_link_of_another_kind_is_never_replaced(lab):
    kernel, host, c1 = lab
    kernel.add_link(c1, 'eth0', kind='veth')
    with pytest.raises(LinuxnetError, match='is a veth link not made by linuxnet.container'):
        run(kernel, host, [item(namespace=c1)], recreate=True)
    kernel.ns[c1]['links']['eth0']['alias'] = TAG
    with pytest.raises(LinuxnetError, match='a link cannot change its kind. Fix: set recreate: true'):
        run(kernel, host, [item(namespace=c1)])
    result, dummy = run(kernel, host, [item(namespace=c1)], recreate=True)
    assert result['actions'][0].startswith('delete veth link eth0 in network namespace')
    assert kernel.ns[c1]['links']['eth0']['kind'] == 'macvlan'


def test_loopback_is_never_replaced_even_if_tagged(lab):
    kernel, host, c1 = lab
    kernel.add_link(c1, 'lo', mtu=65536, mac='00:00:00:00:00:00', alias=TAG)  # netns tags a namespace on its lo
    with pytest.raises(LinuxnetError, match='lo is the loopback device of network namespace'):
        run(kernel, host, [item(name='lo', namespace=c1)], recreate=True)


def test_prune_removes_only_tagged_macvlans_that_are_not_listed(lab):
    kernel, host, c1 = lab
    run(kernel, host, [item(namespace=c1), item(name='eth1', namespace=c1)])
    kernel.add_link(c1, 'foreign0', kind='macvlan', link=11, link_ns=host, mode='bridge')
    result, rec = run(kernel, host, [item(namespace=c1)], check=True, prune=True)
    assert result['actions'] == ['delete macvlan eth1 in network namespace %s (pruned: made by linuxnet.container, not listed)' % c1]
    assert sorted(kernel.ns[c1]['links']) == ['eth0', 'eth1', 'foreign0']
    result, rec = run(kernel, host, [item(namespace=c1)], prune=True)
    assert sorted(kernel.ns[c1]['links']) == ['eth0', 'foreign0']
    assert result['diff']['before']['%s/eth1' % c1]['kind'] == 'macvlan'
    assert not run(kernel, host, [item(namespace=c1)], prune=True)[0]['changed']


def test_absent(lab):
    kernel, host, c1 = lab
    run(kernel, host, [item(namespace=c1)])
    kernel.add_link(c1, 'veth9', kind='veth')
    with pytest.raises(LinuxnetError, match='veth9 in network namespace .* is a veth link, not a macvlan: not removed'):
        run(kernel, host, [item(name='veth9', namespace=c1, parent=None)], state='absent')
    result, dummy = run(kernel, host, [item(namespace=c1, parent=None)], state='absent')
    assert result['actions'] == ['delete macvlan eth0 in network namespace %s' % c1]
    assert not run(kernel, host, [item(namespace=c1, parent=None)], state='absent')[0]['changed']


def test_a_namespace_that_gives_the_parents_namespace_an_id_only_when_the_endpoint_is_made(lab, tmp_path):
    """c2 holds m1 on q0 of namespace p, which it knows by id 0; the host's namespace gets an id in c2 only when
    eth0 is created there on the host's eth0. The state read after apply must name the parent by that new id."""
    kernel, host, c1 = lab
    p, c2 = str(tmp_path / 'p'), str(tmp_path / 'c2')
    for path in (p, c2):
        open(path, 'w').close()
        kernel.add_ns(path)
    kernel.add_link(p, 'q0', kind='veth', mac='ee:00:00:00:00:02', up=True)
    m1 = item(name='m1', namespace=c2, parent='q0', parent_namespace=p)
    run(kernel, host, [m1])
    assert kernel.nsids == {(c1, host): 0, (c2, p): 0}
    result, dummy = run(kernel, host, [item(namespace=c2), m1])
    assert result['actions'] == ['create macvlan eth0 in network namespace %s on parent eth0 in the host namespace, mode bridge' % c2]
    assert kernel.nsids[(c2, host)] == 1
    assert (result['after']['%s/eth0' % c2]['parent'], result['after']['%s/eth0' % c2]['parent_namespace']) == ('eth0', None)
    assert not run(kernel, host, [item(namespace=c2), m1])[0]['changed']
