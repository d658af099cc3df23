# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import errno

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils import _netlink as nl


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
    msg = nl.explain(FakeNetlinkError(code), 'veth veth0 in netns web', 'create')
    assert msg.startswith('veth veth0 in netns web: cannot create')
    assert words in msg
    assert '(errno %d)' % code in msg


def test_explain_unknown_errno_falls_back_to_strerror():
    assert 'Broken pipe' in nl.explain(FakeNetlinkError(errno.EPIPE), 'x', 'y')


def test_netlink_errors_wraps_oserror():
    with pytest.raises(nl.LinuxnetError, match='file /x: cannot write: permission denied'):
        with nl.netlink_errors('file /x', 'write'):
            raise PermissionError(errno.EACCES, 'denied')


@pytest.mark.parametrize('code, gone', [(errno.ENODEV, True), (errno.ENOENT, True), (errno.EPERM, False)])
def test_is_gone(code, gone):
    assert nl.is_gone(FakeNetlinkError(code)) is gone


@pytest.mark.parametrize('spec, label, path', [
    (None, 'host', None),
    ('', 'host', None),
    ('web', 'web', '/run/netns/web'),
    ('/proc/42/ns/net', '/proc/42/ns/net', '/proc/42/ns/net'),
    (42, 'pid:42', '/proc/42/ns/net'),
    ('pid:42', 'pid:42', '/proc/42/ns/net'),
])
def test_namespace_ref(spec, label, path):
    ref = nl.NamespaceRef(spec)
    assert (ref.label, ref.path) == (label, path)
    assert ref.is_host is (path is None)


@pytest.mark.parametrize('bad', ['a/b', '..', 'a b', 'x' * 256])
def test_namespace_ref_rejects_bad_names(bad):
    with pytest.raises(nl.LinuxnetError):
        nl.NamespaceRef(bad)


def test_validate_netns_name_ok():
    assert nl.validate_netns_name('test_net2-web.1') is None
