# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real etcd members on loopback ports for the tests, with mutual TLS from a CA made here (``cryptography``, which
ansible-core depends on). Each member is a process this module started; it is stopped by its own Popen (its PID)."""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ETCD = shutil.which('etcd')


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _write(path, key=None, cert=None):
    with open(path, 'wb') as handle:
        if key is not None:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        if cert is not None:
            handle.write(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def make_pki(directory):
    """{'ca', 'server', 'server_key', 'client', 'client_key'}: file paths; the server certificate is for 127.0.0.1."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'linuxnet test CA')])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    files = {'ca': _write(os.path.join(directory, 'ca.pem'), cert=ca)}
    for name, usage in (('server', ExtendedKeyUsageOID.SERVER_AUTH), ('client', ExtendedKeyUsageOID.CLIENT_AUTH)):
        key = _key()
        cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]), critical=False)
                .add_extension(x509.ExtendedKeyUsage([usage, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        files[name] = _write(os.path.join(directory, name + '.pem'), cert=cert)
        files[name + '_key'] = _write(os.path.join(directory, name + '-key.pem'), key=key)
    return files


def free_ports(count):
    sockets = [socket.socket() for _n in range(count)]
    try:
        for sock in sockets:
            sock.bind(('127.0.0.1', 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class Cluster:
    """``size`` etcd members on 127.0.0.1: clients over https with client certificates, peers over http (loopback)."""

    def __init__(self, directory, size=1):
        self.directory = str(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.pki = make_pki(self.directory)
        ports = free_ports(2 * size)
        self.names = ['m%d' % i for i in range(size)]
        self.client_urls = ['https://127.0.0.1:%d' % ports[2 * i] for i in range(size)]
        self.peer_urls = ['http://127.0.0.1:%d' % ports[2 * i + 1] for i in range(size)]
        self.processes = {}
        initial = ','.join('%s=%s' % (n, u) for n, u in zip(self.names, self.peer_urls))
        for i, name in enumerate(self.names):
            log = open(os.path.join(self.directory, name + '.log'), 'wb')
            self.processes[name] = subprocess.Popen(
                [ETCD, '--name', name, '--data-dir', os.path.join(self.directory, name),
                 '--listen-client-urls', self.client_urls[i], '--advertise-client-urls', self.client_urls[i],
                 '--listen-peer-urls', self.peer_urls[i], '--initial-advertise-peer-urls', self.peer_urls[i],
                 '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', self.directory,
                 '--cert-file', self.pki['server'], '--key-file', self.pki['server_key'],
                 '--trusted-ca-file', self.pki['ca'], '--client-cert-auth',
                 '--heartbeat-interval', '100', '--election-timeout', '1000', '--logger', 'zap', '--log-level', 'warn'],
                stdout=log, stderr=subprocess.STDOUT)
            log.close()
        self.wait_healthy()

    @property
    def tls(self):
        return {'ca': self.pki['ca'], 'cert': self.pki['client'], 'key': self.pki['client_key']}

    def _health(self, url):
        context = ssl.create_default_context(cafile=self.pki['ca'])
        context.load_cert_chain(self.pki['client'], self.pki['client_key'])
        try:
            with urllib.request.urlopen(url + '/health', context=context, timeout=2) as answer:
                return b'"true"' in answer.read()
        except (OSError, urllib.error.URLError):
            return False

    def wait_healthy(self, timeout=30):
        deadline = time.monotonic() + timeout
        live = [u for n, u in zip(self.names, self.client_urls) if self.processes[n].poll() is None]
        while time.monotonic() < deadline:
            if all(self._health(url) for url in live):
                return
            time.sleep(0.1)
        raise RuntimeError('etcd did not become healthy; logs in %s' % self.directory)

    def leader(self):
        """The name of the member that leads now (from /v3/maintenance/status of each)."""
        import json
        context = ssl.create_default_context(cafile=self.pki['ca'])
        context.load_cert_chain(self.pki['client'], self.pki['client_key'])
        for name, url in zip(self.names, self.client_urls):
            if self.processes[name].poll() is not None:
                continue
            request = urllib.request.Request(url + '/v3/maintenance/status', data=b'{}', method='POST')
            with urllib.request.urlopen(request, context=context, timeout=2) as answer:
                status = json.loads(answer.read())
            if status.get('leader') == status['header'].get('member_id'):
                return name
        return None

    def kill(self, name):
        """SIGKILL one member, by the PID of the process this cluster started."""
        self.processes[name].kill()
        self.processes[name].wait()

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
