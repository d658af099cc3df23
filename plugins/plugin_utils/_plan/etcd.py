# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A small etcd v3 client over etcd's HTTP JSON gateway, with the standard library only (controller only).

Why no library: the gRPC clients either fail to import with current protobuf (etcd3) or have no TLS (aetcd); the
gateway (``/v3/kv/range``, ``/v3/kv/txn``, ``/v3/kv/deleterange``: base64 keys and values, int64 as strings, a false
``succeeded`` left out) with ``http.client`` and ``ssl`` (client certificates) is all the allocator needs.

Every request goes to one endpoint at a time; a refused connection, a timeout or an HTTP 5xx (a member that died, an
election in progress: etcd answers 503) moves on to the next endpoint, with a short pause after each full round,
until ``timeout`` seconds have passed. So a member lost while a quorum remains costs a stall, not an error. Every
write the allocator sends is a transaction that is safe to send twice (see ``ipam_etcd``), so a reply lost on the
way back is retried like any other failure.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import time
import urllib.parse

# The gateway's path prefix: etcd 3.4 and later serve /v3/ (3.3 only /v3beta/).
API = '/v3'
# One request to one member: long enough for a write while a new leader is elected (1-2 s here), short enough to move
# on from a member that hangs.
REQUEST_TIMEOUT = 2.0


class EtcdError(Exception):
    """etcd refused a request (a 4xx answer: a bad request, a permission), or answered something unreadable."""


class EtcdUnreachable(EtcdError):
    """No endpoint answered within the deadline; the message names every endpoint and what each one did."""


def b64(text):
    return base64.b64encode(text.encode()).decode('ascii')


def unb64(value):
    return base64.b64decode(value or '').decode()


def prefix_end(prefix):
    """The range_end of every key that starts with ``prefix`` (its last byte plus one)."""
    raw = prefix.encode()
    return base64.b64encode(raw[:-1] + bytes([raw[-1] + 1])).decode('ascii')


class Client:
    """Requests to an etcd cluster through its gateway: ``endpoints`` are URLs (https://host:2379); ``ca``, ``cert``,
    ``key`` the controller's files for mutual TLS (all optional: a plain http endpoint needs none)."""

    def __init__(self, endpoints, ca=None, cert=None, key=None, timeout=30.0):
        self.endpoints = [url.rstrip('/') for url in endpoints]
        self.timeout = float(timeout)
        self.context = None
        if any(url.startswith('https://') for url in self.endpoints):
            self.context = ssl.create_default_context(cafile=ca)
            if cert:
                self.context.load_cert_chain(cert, key)
        self.current = 0
        self.connections = {}
        self.requests = 0
        self.failovers = 0
        self.slowest = 0.0   # seconds of the slowest call, failovers and pauses included: the stall a lost member costs

    def _connection(self, url):
        conn = self.connections.get(url)
        if conn is None:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme == 'https':
                conn = http.client.HTTPSConnection(parts.hostname, parts.port or 2379, timeout=REQUEST_TIMEOUT, context=self.context)
            else:
                conn = http.client.HTTPConnection(parts.hostname, parts.port or 2379, timeout=REQUEST_TIMEOUT)
            self.connections[url] = conn
        return conn

    def _drop(self, url):
        conn = self.connections.pop(url, None)
        if conn is not None:
            conn.close()

    def close(self):
        for url in list(self.connections):
            self._drop(url)

    def call(self, method, body):
        """POST ``body`` to ``/v3/<method>`` of the first endpoint that answers; the decoded JSON answer."""
        data = json.dumps(body).encode()
        started = time.monotonic()
        deadline = started + self.timeout
        failures = {}
        pause = 0.1
        while True:
            for _attempt in range(len(self.endpoints)):
                url = self.endpoints[self.current]
                try:
                    answer = self._post(url, method, data)
                    self.slowest = max(self.slowest, time.monotonic() - started)
                    return answer
                except EtcdUnreachable as err:
                    failures[url] = str(err)
                    self._drop(url)
                    self.failovers += 1
                    self.current = (self.current + 1) % len(self.endpoints)
                if time.monotonic() >= deadline:
                    break
            if time.monotonic() >= deadline:
                raise EtcdUnreachable('; '.join('%s: %s' % (url, failures[url]) for url in self.endpoints if url in failures))
            time.sleep(pause)
            pause = min(pause * 2, 1.0)

    def _post(self, url, method, data):
        conn = self._connection(url)
        self.requests += 1
        try:
            conn.request('POST', API + '/' + method, body=data, headers={'Content-Type': 'application/json'})
            response = conn.getresponse()
            payload = response.read()
        except ssl.SSLCertVerificationError as err:
            raise EtcdError('%s: TLS: %s' % (url, err.verify_message or err))
        except (OSError, http.client.HTTPException) as err:
            raise EtcdUnreachable(_reason(err))
        if response.status >= 500:
            raise EtcdUnreachable('HTTP %d %s' % (response.status, _message(payload)))
        if response.status != 200:
            raise EtcdError('%s: HTTP %d %s' % (url, response.status, _message(payload)))
        try:
            return json.loads(payload)
        except ValueError:
            raise EtcdError('%s: not a JSON answer: %r' % (url, payload[:200]))

    # ---- the three requests the allocator sends -------------------------------------------------------------

    def range(self, key, prefix=False):
        """{key: (value, create_revision)} of ``key``, or of every key under it with ``prefix``."""
        body = {'key': b64(key)}
        if prefix:
            body['range_end'] = prefix_end(key)
        answer = self.call('kv/range', body)
        return {unb64(kv['key']): (unb64(kv.get('value')), int(kv.get('create_revision', 0))) for kv in answer.get('kvs') or []}

    def txn(self, compare, success, failure=()):
        """(succeeded, responses) of one transaction; items in the gateway's JSON form (see the helpers below)."""
        answer = self.call('kv/txn', {'compare': list(compare), 'success': list(success), 'failure': list(failure)})
        return bool(answer.get('succeeded')), answer.get('responses') or []

    def delete(self, key, prefix=False):
        body = {'key': b64(key)}
        if prefix:
            body['range_end'] = prefix_end(key)
        return int(self.call('kv/deleterange', body).get('deleted', 0))


def absent(key):
    """Compare: ``key`` does not exist (its create_revision is 0)."""
    return {'key': b64(key), 'result': 'EQUAL', 'target': 'CREATE', 'create_revision': '0'}


def holds(key, value):
    """Compare: ``key`` holds ``value``."""
    return {'key': b64(key), 'result': 'EQUAL', 'target': 'VALUE', 'value': b64(value)}


def put(key, value):
    return {'request_put': {'key': b64(key), 'value': b64(value)}}


def get(key):
    return {'request_range': {'key': b64(key)}}


def remove(key):
    return {'request_delete_range': {'key': b64(key)}}


def ranged(response):
    """{key: value} of one request_range's answer inside a transaction's responses."""
    kvs = (response.get('response_range') or {}).get('kvs') or []
    return {unb64(kv['key']): unb64(kv.get('value')) for kv in kvs}


def _reason(err):
    if isinstance(err, socket.timeout):
        return 'no answer within %g s' % REQUEST_TIMEOUT
    if isinstance(err, ConnectionRefusedError):
        return 'connection refused'
    return str(err) or type(err).__name__


def _message(payload):
    try:
        answer = json.loads(payload)
    except ValueError:
        return payload[:200].decode(errors='replace')
    return answer.get('error') or answer.get('message') or str(answer)[:200]
