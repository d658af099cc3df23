# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The prerequisites role's decision, on the controller: does a host's record match what this run installs?

The role's first task prints the host's record (one shell command). Whether anything else runs on that host was a
chain of about forty role variables, and Ansible compiles each template it evaluates anew, in the worker of each host
and task: 70-100 ms of controller CPU per host for a task that is then skipped. Here it is one filter call in plain
Python, and the role's variables that the install path uses (the manifest, the OS packages wanted and missing, the
record) are read from its result, so there is one definition of each.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

_RECORD = re.compile(r'[{].*[}]', re.S)
_PINNED = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*==[^=<>!~;, ]+$')
SOURCES = ('index', 'offline')


def prerequisites_record(stdout):
    """The record the host printed (its JSON object), or {} where there is none (a bare host); see
    prerequisites_record.yml."""
    found = _RECORD.search(stdout or '')
    if not found:
        return {}
    try:
        record = json.loads(found.group(0))
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def files_digest(directory):
    """The SHA-1 of the role's files (each without trailing white space, in name order, concatenated): a change of
    any of them installs them again."""
    names = sorted(os.path.join(directory, name) for name in os.listdir(directory)) if os.path.isdir(directory) else []
    contents = []
    for path in names:
        if os.path.isfile(path):
            with open(path, encoding='utf-8') as handle:
                contents.append(handle.read().rstrip())
    return hashlib.sha1(''.join(contents).encode('utf-8')).hexdigest()


def installed_packages(family, lines):
    """The OS packages the package query says are installed: dpkg prints "ii NAME" for those, rpm prints "NAME"
    (and "package NAME is not installed" for the others)."""
    if family == 'Debian':
        return [re.sub(r'^ii\s+', '', line) for line in lines if line.startswith('ii ')]
    return [line for line in lines if ' ' not in line]


def _bool(value, name):
    try:
        return boolean(value, strict=True)
    except TypeError as err:
        raise AnsibleFilterError('prerequisites_state: %s must be a boolean, got %r' % (name, value)) from err


def prerequisites_state(record, requirements, extra_requirements=(), files='', restore=None, source='index',
                        os_packages=True, os_package_names=None, evpn=False, os_family='', query_lines=None):
    """Compare the host's record (prerequisites_record's result) with what this run installs; see
    prerequisites_state.yml."""
    if not isinstance(requirements, (list, tuple)) or not isinstance(extra_requirements, (list, tuple)):
        raise AnsibleFilterError('prerequisites_state: requirements and extra_requirements must be lists')
    restore = dict(restore or {})
    names = os_package_names or {}
    os_packages = _bool(os_packages, 'os_packages')
    if not isinstance(record, dict):
        raise AnsibleFilterError('prerequisites_state: the record must be a dict (prerequisites_record), got %r' % (record,))
    manifest = '\n'.join(requirements) + '\n# restore: boot=%s nftables=%s firewalld=%s watch=%s files=%s\n' % (
        _bool(restore.get('boot', True), 'restore.boot'), _bool(restore.get('nftables', True), 'restore.nftables'),
        _bool(restore.get('firewalld', True), 'restore.firewalld'), _bool(restore.get('watch', False), 'restore.watch'),
        files_digest(files))
    recorded = '\n'.join(record['manifest']) + '\n' if isinstance(record.get('manifest'), list) else ''
    family = os_family or record.get('os_family') or ''
    known = family in names
    wanted = []
    if known:
        wanted = list(names[family].get('always', [])) + list(names[family].get(source, [])) + (['frr'] if _bool(evpn, 'evpn') else [])
    # The package query's lines: the install path's own query where it ran, else the record's (of the same packages).
    lines = query_lines if query_lines is not None else record.get('os_query') or []
    missing = [name for name in wanted if name not in installed_packages(family, lines)]
    unpinned = [req for req in extra_requirements if not _PINNED.match(str(req))]
    # The pins, the options or the role's files changed; the virtualenv lost its Python; the record is of an earlier
    # version (no "python", "frr_dropin" or "os_family"); the OS packages wanted changed (FRR for EVPN).
    install = (recorded != manifest or not record.get('python') or 'frr_dropin' not in record or 'os_family' not in record
               or (os_packages and record.get('os_wanted') != wanted))
    needed = (install or source not in SOURCES or bool(unpinned)
              or (os_packages and (not known or bool(missing))))
    return {'record': record, 'manifest': manifest, 'recorded': recorded, 'os_family': family, 'os_wanted': wanted,
            'os_missing': missing, 'unpinned': unpinned, 'install': install, 'needed': needed}


class FilterModule:
    """The prerequisites role's comparison of a host's record with this run."""

    def filters(self):
        return {'prerequisites_record': prerequisites_record, 'prerequisites_state': prerequisites_state}
