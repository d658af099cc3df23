#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: etcd_pki
short_description: A certificate authority and the certificates of an etcd cluster, in a directory of the controller
version_added: 0.1.0
description:
  - Keeps the mutual TLS material of an etcd cluster in one directory, meant to run on the controller
    (delegated to C(localhost), as the role M(linuxnet.container.etcd_cluster) runs it), namely a certificate authority,
    one certificate per member (used as both server and peer certificate, so it is valid for server and client
    authentication) and client certificates (for the controller's IPAM, C(linuxnet_ipam.tls)).
  - The CA is made once and never replaced. A member's or client's certificate is made when it is missing, when its
    names or addresses differ from the ones asked for, when the CA did not sign it, or when it expires within
    30 days; otherwise nothing is written.
  - Keys are ECDSA P-256, written with mode C(0600); certificates with C(0644). Uses the Python C(cryptography)
    package, which ansible-core depends on, so the controller needs nothing more.
author:
  - linuxnet.container contributors (@linuxnet)
requirements:
  - cryptography (a dependency of ansible-core) where the module runs
attributes:
  check_mode:
    support: full
    description: Reports which files it would write and writes none.
  diff_mode:
    support: full
    description: Before and after of every certificate's subject and names (never a key).
  idempotent:
    support: full
    description: A second run with the same arguments writes nothing.
  platform:
    support: full
    platforms: posix
    description: Any POSIX controller with the Python C(cryptography) package; it touches no network state.
options:
  path:
    description:
      - The directory. Made (mode C(0700)) when missing. Holds C(ca.pem), C(ca-key.pem), C(members/NAME.pem),
        C(members/NAME-key.pem), C(clients/NAME.pem) and C(clients/NAME-key.pem).
    type: path
    required: true
  ca_name:
    description: The common name of the CA, used only when the CA is made.
    type: str
    default: linuxnet.container etcd CA
  members:
    description: The members of the cluster. Exactly these get a certificate; certificates of others are left alone.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The member's name (the certificate's common name and a DNS name of it).
        type: str
        required: true
      addresses:
        description: IP addresses of the member, each an IP address SAN. 127.0.0.1 and C(localhost) are always added.
        type: list
        elements: str
        default: []
      dns_names:
        description: More DNS names of the member.
        type: list
        elements: str
        default: []
  clients:
    description: Names of client certificates (client authentication only), for example V(controller).
    type: list
    elements: str
    default: []
  days:
    description: How long new certificates are valid, in days (the CA ten times as long).
    type: int
    default: 3650
'''

EXAMPLES = r'''
- name: The cluster's CA and certificates on the controller
  linuxnet.container.etcd_pki:
    path: ~/.cache/linuxnet.container/etcd/linuxnet
    members:
      - {name: etcd1, addresses: [192.0.2.21]}
      - {name: etcd2, addresses: [192.0.2.22]}
      - {name: etcd3, addresses: [192.0.2.23]}
    clients: [controller]
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
ca:
  description: The CA certificate's path.
  returned: always
  type: str
members:
  description: Per member name, the paths of its certificate and key.
  returned: always
  type: dict
  sample: {etcd1: {cert: /root/.cache/linuxnet.container/etcd/linuxnet/members/etcd1.pem,
           key: /root/.cache/linuxnet.container/etcd/linuxnet/members/etcd1-key.pem}}
clients:
  description: Per client name, the paths of its certificate and key.
  returned: always
  type: dict
written:
  description: The files written (or that would be, in check mode).
  returned: always
  type: list
  elements: str
'''

import datetime
import ipaddress
import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:  # pragma: no cover
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_ERROR = None

RENEW_BEFORE = datetime.timedelta(days=30)


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _not_after(cert):
    value = getattr(cert, 'not_valid_after_utc', None)
    return value if value is not None else cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def _read_cert(path):
    try:
        with open(path, 'rb') as handle:
            return x509.load_pem_x509_certificate(handle.read())
    except (OSError, ValueError):
        return None


def _write(path, data, mode):
    tmp = path + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _names(cert):
    """What a certificate says about itself, comparable with what is wanted: common name, DNS names, IP addresses."""
    if cert is None:
        return None
    common = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = sorted(san.get_values_for_type(x509.DNSName))
        ips = sorted(str(a) for a in san.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        dns, ips = [], []
    return {'common_name': common[0] if common else '', 'dns_names': dns, 'addresses': ips}


class Pki:
    """The directory: read what is there, plan what to write, write it (not in check mode)."""

    def __init__(self, module):
        self.module = module
        self.path = os.path.abspath(module.params['path'])  # type path: Ansible has expanded ~ already
        self.days = module.params['days']
        self.written = []
        self.before = {}
        self.after = {}
        self.ca_key = None
        self.ca_cert = None

    def file(self, *parts):
        return os.path.join(self.path, *parts)

    def ensure_dirs(self):
        for directory in (self.path, self.file('members'), self.file('clients')):
            if not os.path.isdir(directory) and not self.module.check_mode:
                os.makedirs(directory, 0o700, exist_ok=True)

    def ca(self):
        cert = _read_cert(self.file('ca.pem'))
        key = None
        if cert is not None:
            try:
                with open(self.file('ca-key.pem'), 'rb') as handle:
                    key = serialization.load_pem_private_key(handle.read(), password=None)
            except (OSError, ValueError) as err:
                self.module.fail_json(msg='%s: the CA certificate is there but its key cannot be read (%s). Fix: put '
                                          'ca-key.pem back, or remove ca.pem to make a new CA (every certificate is then '
                                          'made again)' % (self.path, err))
            self.ca_cert, self.ca_key = cert, key
            self.before['ca'] = self.after['ca'] = _names(cert)
            return
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.module.params['ca_name'])])
        now = _now()
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=self.days * 10))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                             data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        self.ca_cert, self.ca_key = cert, key
        self.before['ca'] = None
        self.after['ca'] = _names(cert)
        self.save('ca', cert, key)

    def save(self, base, cert, key):
        self.written += [self.file(base + '.pem'), self.file(base + '-key.pem')]
        if self.module.check_mode:
            return
        _write(self.file(base + '-key.pem'), _key_pem(key), 0o600)
        _write(self.file(base + '.pem'), cert.public_bytes(serialization.Encoding.PEM), 0o644)

    def current(self, base, wanted):
        """True when the certificate at base is the one wanted: same names, signed by this CA, not expiring soon."""
        cert = _read_cert(self.file(base + '.pem'))
        self.before[base] = _names(cert)
        if cert is None or _names(cert) != wanted or not os.path.exists(self.file(base + '-key.pem')):
            return False
        if self.ca_cert is None or cert.issuer != self.ca_cert.subject or _not_after(cert) - _now() < RENEW_BEFORE:
            return False
        try:
            cert.verify_directly_issued_by(self.ca_cert)
        except AttributeError:  # cryptography < 40: the issuer's name matched, that is enough
            pass
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True

    def issue(self, base, wanted, server):
        self.after[base] = wanted
        if self.current(base, wanted):
            return
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        sans = [x509.DNSName(n) for n in wanted['dns_names']] + [x509.IPAddress(ipaddress.ip_address(a)) for a in wanted['addresses']]
        usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + [ExtendedKeyUsageOID.CLIENT_AUTH]
        builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, wanted['common_name'])]))
                   .issuer_name(self.ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=self.days))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False))
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        self.save(base, builder.sign(self.ca_key, hashes.SHA256()), key)


def member_names(member):
    addresses = []
    for address in list(member['addresses']) + ['127.0.0.1']:
        try:
            text = ipaddress.ip_address(address).compressed
        except ValueError:
            raise ValueError('etcd member %s: %r is not an IP address. Fix: give its addresses as IP addresses, '
                             'and names in dns_names' % (member['name'], address))
        if text not in addresses:
            addresses.append(text)
    dns = sorted(set([member['name'], 'localhost'] + list(member['dns_names'])))
    return {'common_name': member['name'], 'dns_names': dns, 'addresses': sorted(addresses)}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            ca_name=dict(type='str', default='linuxnet.container etcd CA'),
            members=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                addresses=dict(type='list', elements='str', default=[]),
                dns_names=dict(type='list', elements='str', default=[]),
            )),
            clients=dict(type='list', elements='str', default=[]),
            days=dict(type='int', default=3650),
        ),
        supports_check_mode=True,
    )
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=CRYPTOGRAPHY_ERROR)
    pki = Pki(module)
    try:
        wanted = {m['name']: member_names(m) for m in module.params['members']}
        bad = [n for n in list(wanted) + module.params['clients'] if not n or '/' in n or n.startswith('.')]
        if bad:
            module.fail_json(msg='etcd_pki: %s cannot name a certificate file. Fix: use names without / that do not '
                                 'start with a dot' % ', '.join(repr(n) for n in bad))
        pki.ensure_dirs()
        pki.ca()
        for name, names in sorted(wanted.items()):
            pki.issue(os.path.join('members', name), names, server=True)
        for name in sorted(set(module.params['clients'])):
            pki.issue(os.path.join('clients', name), {'common_name': name, 'dns_names': [], 'addresses': []}, server=False)
    except ValueError as err:
        module.fail_json(msg=str(err))
    except OSError as err:
        module.fail_json(msg='etcd_pki: %s: %s' % (pki.path, err))
    result = dict(
        changed=bool(pki.written),
        written=pki.written,
        ca=pki.file('ca.pem'),
        members={n: {'cert': pki.file('members', n + '.pem'), 'key': pki.file('members', n + '-key.pem')} for n in wanted},
        clients={n: {'cert': pki.file('clients', n + '.pem'), 'key': pki.file('clients', n + '-key.pem')}
                 for n in module.params['clients']},
    )
    if module._diff:  # pylint: disable=protected-access
        changed_bases = sorted(b for b in pki.after if pki.file(b + '.pem') in pki.written)
        result['diff'] = dict(before={b: pki.before.get(b) for b in changed_bases}, after={b: pki.after[b] for b in changed_bases})
    module.exit_json(**result)


if __name__ == '__main__':
    main()
