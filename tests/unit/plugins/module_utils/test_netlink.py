# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import errno

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._common import normalize
from ansible_collections.linuxnet.container.plugins.module_utils._kernel import errors, fanout, namespaces


class FakeNetlinkError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


@pytest.mark.parametrize('code, words', [
    (errno.EPERM, 'CAP_NET_ADMIN'),
    (errno.EEXIST, 'already exists'),
    (errno.ENODEV, 'no such device'),
    (errno.EOPNOTSUPP, 'modprobe'),
    (errno.ERANGE, 'out of range'),
])
def test_explain_names_object_and_fix(code, words):
    msg = errors.explain(FakeNetlinkError(code), 'veth veth0 in netns web', 'create')
    assert msg.startswith('veth veth0 in netns web: cannot create')
    assert words in msg
    assert '(errno %d)' % code in msg


def test_explain_unknown_errno_falls_back_to_strerror():
    assert 'Broken pipe' in errors.explain(FakeNetlinkError(errno.EPIPE), 'x', 'y')


def test_netlink_errors_wraps_oserror():
    with pytest.raises(errors.LinuxnetError, match='file /x: cannot write: permission denied'):
        with errors.netlink_errors('file /x', 'write'):
            raise PermissionError(errno.EACCES, 'denied')


@pytest.mark.parametrize('code, gone', [(errno.ENODEV, True), (errno.ENOENT, True), (errno.EPERM, False)])
def test_is_gone(code, gone):
    assert errors.is_gone(FakeNetlinkError(code)) is gone


@pytest.mark.parametrize('spec, label, path', [
    (None, 'host', None),
    ('', 'host', None),
    ('web', 'web', '/run/netns/web'),
    ('/proc/42/ns/net', '/proc/42/ns/net', '/proc/42/ns/net'),
    (42, 'pid:42', '/proc/42/ns/net'),
    ('pid:42', 'pid:42', '/proc/42/ns/net'),
])
def test_namespace_ref(spec, label, path):
    ref = namespaces.NamespaceRef(spec)
    assert (ref.label, ref.path) == (label, path)
    assert ref.is_host is (path is None)


@pytest.mark.parametrize('bad', ['a/b', '..', 'a b', 'x' * 256])
def test_namespace_ref_rejects_bad_names(bad):
    with pytest.raises(errors.LinuxnetError):
        namespaces.NamespaceRef(bad)


def test_validate_netns_name_ok():
    assert normalize.validate_netns_name('test_net2-web.1') is None


class Flushing:
    """The Netlink fan_out is given: flushed before the workers fork."""

    def __init__(self):
        self.flushed = 0

    def flush(self):
        self.flushed += 1


def test_shares_put_the_costliest_first_each_on_the_least_loaded_process():
    items = ['host'] + ['c%d' % n for n in range(9)]
    shares = fanout._share(items, 2, lambda item: 4 if item == 'host' else 1)
    assert shares == [[0, 5, 7, 9], [1, 2, 3, 4, 6, 8]]  # the host first, then each container where there is room
    assert sorted(p for share in shares for p in share) == list(range(10))
    loads = [sum(4 if items[p] == 'host' else 1 for p in share) for share in shares]
    assert abs(loads[0] - loads[1]) <= 1


def test_worker_count_follows_the_cpus_and_stays_one_for_few_items(monkeypatch):
    monkeypatch.setattr(fanout.os, 'sched_getaffinity', lambda pid: {0, 1, 2, 3, 4, 5, 6, 7})
    assert fanout.worker_count(range(100)) == fanout.MAX_WORKERS
    assert fanout.worker_count(range(10)) == 1
    monkeypatch.setattr(fanout.os, 'sched_getaffinity', lambda pid: {0})
    assert fanout.worker_count(range(100)) == 1


def test_fan_out_forks_workers_and_keeps_item_order(monkeypatch):
    monkeypatch.setattr(fanout.os, 'sched_getaffinity', lambda pid: {0, 1, 2})
    parent = fanout.os.getpid()
    netlink = Flushing()
    results = fanout.fan_out(netlink, lambda own, item: (item * 2, fanout.os.getpid() == parent, own is netlink), range(100))
    assert [r[0] for r in results] == [n * 2 for n in range(100)]
    # Three processes: this one did its share with its own Netlink, the workers with theirs.
    assert sum(1 for r in results if r[1]) == 34 and all(r[2] == r[1] for r in results)
    assert netlink.flushed == 1


def test_fan_out_raises_the_first_error_in_item_order_after_every_worker_ended(monkeypatch):
    monkeypatch.setattr(fanout.os, 'sched_getaffinity', lambda pid: {0, 1})

    def work(own, item):
        if item in (71, 90):
            raise errors.LinuxnetError('item %d failed' % item, errno=errno.ENODEV)
        if item == 95:
            raise ValueError('never reached: its worker stopped at 71')
        return item

    with pytest.raises(errors.LinuxnetError) as err:
        fanout.fan_out(Flushing(), work, range(100))
    assert err.value.msg == 'item 71 failed' and err.value.details == {'errno': errno.ENODEV}

    def boom(own, item):
        if item == 1:
            raise ValueError('boom')
        return item

    with pytest.raises(errors.LinuxnetError, match='a reading worker failed: ValueError: boom'):
        fanout.fan_out(Flushing(), boom, range(100))
    assert fanout.fan_out(Flushing(), lambda own, item: item, range(10)) == list(range(10))  # too few to fork


def test_fan_out_reads_everything_itself_when_it_cannot_fork(monkeypatch):
    monkeypatch.setattr(fanout.os, 'sched_getaffinity', lambda pid: {0, 1, 2, 3})

    def no_fork():
        raise OSError(11, 'Resource temporarily unavailable')

    monkeypatch.setattr(fanout.os, 'fork', no_fork)
    parent = fanout.os.getpid()
    assert fanout.fan_out(Flushing(), lambda own, item: (item, fanout.os.getpid() == parent), range(80)) == [(n, True) for n in range(80)]
