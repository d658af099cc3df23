# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""etcd_pki, run as Ansible runs a module (its file with an arguments file): check mode writes nothing, the CA is
made once, certificates carry the names asked for and verify against the CA, a second run writes nothing, a changed
address makes that member's certificate again, and keys are private."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

from cryptography import x509

MODULE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))),
                      'plugins', 'modules', 'etcd_pki.py')
MEMBERS = [{'name': 'etcd1', 'addresses': ['192.0.2.21']}, {'name': 'etcd2', 'addresses': ['192.0.2.22']},
           {'name': 'etcd3', 'addresses': ['192.0.2.23']}]


def run(tmp_path, check=False, **args):
    path = tmp_path / 'args.json'
    path.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': dict(args, _ansible_check_mode=check, _ansible_diff=True)}))
    proc = subprocess.run([sys.executable, MODULE, str(path)], capture_output=True, text=True, check=False)
    return json.loads(proc.stdout)


def cert(path):
    with open(path, 'rb') as handle:
        return x509.load_pem_x509_certificate(handle.read())


def test_check_mode_writes_nothing_then_the_real_run_makes_everything_once(tmp_path):
    pki = tmp_path / 'pki'
    result = run(tmp_path, check=True, path=str(pki), members=MEMBERS, clients=['controller'])
    assert result['changed'] and len(result['written']) == 2 * 5
    assert not pki.exists()

    result = run(tmp_path, path=str(pki), members=MEMBERS, clients=['controller'])
    assert result['changed'] and sorted(result['written']) == sorted(str(p) for p in pki.rglob('*.pem'))
    assert result['members']['etcd2'] == {'cert': str(pki / 'members' / 'etcd2.pem'), 'key': str(pki / 'members' / 'etcd2-key.pem')}
    assert result['diff']['before']['members/etcd1'] is None
    ca = cert(pki / 'ca.pem')
    member = cert(pki / 'members' / 'etcd1.pem')
    member.verify_directly_issued_by(ca)
    san = member.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(str(a) for a in san.get_values_for_type(x509.IPAddress)) == ['127.0.0.1', '192.0.2.21']
    assert sorted(san.get_values_for_type(x509.DNSName)) == ['etcd1', 'localhost']
    usages = member.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {u.dotted_string for u in usages} == {'1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'}   # server and client
    client = cert(pki / 'clients' / 'controller.pem')
    assert [u.dotted_string for u in client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value] == ['1.3.6.1.5.5.7.3.2']
    for key in pki.rglob('*-key.pem'):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    assert stat.S_IMODE(pki.stat().st_mode) == 0o700

    again = run(tmp_path, path=str(pki), members=MEMBERS, clients=['controller'])
    assert not again['changed'] and again['written'] == [] and again['diff'] == {'before': {}, 'after': {}}

    moved = [dict(MEMBERS[0], addresses=['192.0.2.31'])] + MEMBERS[1:]
    result = run(tmp_path, check=True, path=str(pki), members=moved, clients=['controller'])
    assert result['written'] == [str(pki / 'members' / 'etcd1.pem'), str(pki / 'members' / 'etcd1-key.pem')]
    assert result['diff']['after']['members/etcd1']['addresses'] == ['127.0.0.1', '192.0.2.31']
    result = run(tmp_path, path=str(pki), members=moved, clients=['controller'])
    assert result['changed'] and cert(pki / 'ca.pem').fingerprint(ca.signature_hash_algorithm) == ca.fingerprint(ca.signature_hash_algorithm)


def test_a_bad_address_names_the_member_and_the_fix(tmp_path):
    result = run(tmp_path, path=str(tmp_path / 'pki'), members=[{'name': 'etcd1', 'addresses': ['node1.example']}])
    assert result['failed']
    assert result['msg'] == ("etcd member etcd1: 'node1.example' is not an IP address. Fix: give its addresses as IP "
                             "addresses, and names in dns_names")
