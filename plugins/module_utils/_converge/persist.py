# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The desired state a host converged to, kept on the host so that it can converge again with no controller.

STATE_DIR/desired.json holds, per record (one per converging call: the bridge_network role makes one; a second,
overlay_network, was the overlay_network role's call in earlier versions), exactly the arguments linuxnet.container.host_network received. STATE_DIR/code.zip
holds the code that ran them (the module's own payload, rebuilt byte for byte reproducibly), so that
``linuxnet-container apply`` runs the same version of the same code path. Both are written atomically
(temporary file, fsync, rename), mode 0600. One lock serialises every converge on a host: a module run, an
apply at boot or after a firewall reload, the watcher's repairs.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import io
import json
import os
import time
import zipfile

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError

STATE_DIR = '/var/lib/linuxnet-container'
STATE_FILE = 'desired.json'
CODE_FILE = 'code.zip'
LOCK_FILE = '/run/lock/linuxnet-container.lock'
# Exists once this boot's networks were set up (by a module run or an apply): until then a firewall reload
# has nothing to put back (nftables.service starts long before the network).
RESTORED_STAMP = '/run/linuxnet-container/restored'
FORMAT = 1
# Where the code runs from when ``python code.zip ...`` starts it.
MAIN = ('# linuxnet.container: the host-local command (see docs/persistence.md)\n'
        'import sys\n'
        '# First: the collection\'s code is compiled once per host (its bytecode cache), not at every run.\n'
        'from ansible_collections.linuxnet.container.plugins.module_utils._converge import bytecode\n'
        'bytecode.allow_writes(bytecode.command_writes(sys.argv[1:]))\n'
        'from ansible_collections.linuxnet.container.plugins.module_utils._converge.apply import main\n'
        'sys.exit(main())\n')
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@contextlib.contextmanager
def locked(timeout=300.0, path=LOCK_FILE, touch=False):
    """Hold the host's converge lock (flock on a file in /run/lock): one converge at a time.

    ``touch``: on release, set the lock file's time, which tells the watcher that a converge ended then (the
    link and table changes it saw before were that converge's own)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() > deadline:
                    raise LinuxnetError('another converge of this host has held %s for %d s (a linuxnet-container '
                                        'apply, its watcher or another playbook run). Fix: wait for it, or find it '
                                        'with: fuser -v %s' % (path, timeout, path))
                time.sleep(0.05)
        yield
        if touch:
            os.utime(handle)
    finally:
        os.close(handle)


def mark_restored(path=RESTORED_STAMP):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('%d\n' % os.getpid())


def clear_restored(path=RESTORED_STAMP):
    """Nothing is recorded any more: the stamp goes, and its directory when nothing else is in it."""
    if os.path.exists(path):
        os.unlink(path)
    try:
        os.rmdir(os.path.dirname(path))
    except OSError:
        pass


def restored(path=RESTORED_STAMP):
    return os.path.exists(path)


def last_converge(path=LOCK_FILE):
    """When a module's converge last released the lock (0 if none since boot)."""
    try:
        return os.stat(path).st_mtime
    except FileNotFoundError:
        return 0.0


def load(directory=STATE_DIR):
    """The recorded desired state: {'format', 'records': [{'name', 'args'}], 'code'}; None when there is none."""
    path = os.path.join(directory, STATE_FILE)
    try:
        with open(path, encoding='utf-8') as handle:
            doc = json.load(handle)
    except FileNotFoundError:
        return None
    except ValueError as err:
        raise LinuxnetError('%s is not valid JSON (%s). Fix: run playbooks/site.yml again, which rewrites it'
                            % (path, err))
    if not isinstance(doc, dict) or doc.get('format') != FORMAT or not isinstance(doc.get('records'), list):
        raise LinuxnetError('%s has format %r, this code reads format %d. Fix: run playbooks/site.yml again with '
                            'this version of linuxnet.container' % (path, doc.get('format') if isinstance(doc, dict)
                                                                    else None, FORMAT))
    return doc


def _lasting(args):
    """A part's arguments without its removals (list items with state absent), or None when it held nothing
    else. A removal was done by the run that recorded it and has nothing to replay; the next run, whose reading
    no longer finds the object, no longer plans it either, and must record the same (a no-op run writes nothing)."""
    if not isinstance(args, dict):
        return args
    if args.get('state') == 'absent':  # the whole part was removed (the VTEP filter of a host that left the overlays)
        return None
    out, emptied = {}, False
    for key, value in args.items():
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            kept = [item for item in value if item.get('state') != 'absent']
            emptied = emptied or not kept
            value = kept
        out[key] = value
    return None if emptied else out


def record_args(params, parts):
    """What a host_network call received, as recorded: its parts' arguments (parts left out are not recorded),
    without the removals it made (see _lasting)."""
    recorded = {name: _lasting(params[name]) for name in parts if params.get(name) is not None}
    return {name: args for name, args in recorded.items() if args is not None}


def plan(current, name, args, keep=None, state='present', code_digest=None, tag=None):
    """The document to write (None: remove the whole record), from the current one and one call's record.

    ``tag``: the caller's name for this desired state (the bridge_network role's: the id of its code and a digest of
    its plan), kept with the record and reported by ``linuxnet-container read``; None keeps none.

    ``keep``: the other records of this converge (the later calls'); every record not named is dropped, so that
    a part a run no longer makes does not come back at boot. None keeps them all. A record keeps its place; a
    new one goes last, in the order the calls ran. A call whose record holds nothing (it only removed) has none.
    """
    records = [] if current is None else [r for r in current['records']
                                          if keep is None or r['name'] == name or r['name'] in keep]
    if not args:  # a call that only removed: nothing of it lasts, and the next run (which skips it) records nothing
        state = 'absent'
    index = next((i for i, record in enumerate(records) if record['name'] == name), None)
    entry = {'name': name, 'args': args}
    if tag is not None:  # with the digest of the arguments it names: a record edited since has no tag (tag_of)
        entry['tag'] = {'name': tag, 'args': digest(encode(args))}
    if state == 'present' and index is None:
        records.append(entry)
    elif state == 'present':
        records[index] = entry
    elif index is not None:
        del records[index]
    if not records:
        return None
    return {'format': FORMAT, 'records': records, 'code': code_digest or (current or {}).get('code')}


def untagged(doc):
    """The document without its records' tags: what a converge changes (a new tag alone is bookkeeping)."""
    if doc is None:
        return None
    return dict(doc, records=[{key: value for key, value in record.items() if key != 'tag'} for record in doc['records']])


def tag_of(doc, name):
    """The tag of record ``name``; None when it has none, or when its arguments are no longer those it was given with."""
    for record in (doc or {}).get('records', []):
        tag = record.get('tag')
        if record['name'] == name and isinstance(tag, dict) and tag.get('args') == digest(encode(record['args'])):
            return tag.get('name')
    return None


def encode(doc):
    return (json.dumps(doc, indent=1, sort_keys=True) + '\n').encode('utf-8')


def write_atomic(path, data, mode=0o600):
    """Write ``data`` to ``path`` through a temporary file in the same directory, fsync'd, then renamed."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    temporary = '%s.tmp.%d' % (path, os.getpid())
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        os.write(handle, data)
        os.fchmod(handle, mode)
        os.fsync(handle)
    finally:
        os.close(handle)
    os.rename(temporary, path)
    dir_handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_handle)
    finally:
        os.close(dir_handle)


def read_bytes(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def payload_path(module_file):
    """The zip a module runs from (Ansible's AnsiballZ payload), from a path inside it; None outside a zip."""
    marker = '.zip' + os.sep
    if marker not in module_file:
        return None
    return module_file[:module_file.index(marker) + 4]


def code_archive(payload):
    """The payload's Python files in a reproducible zip (sorted, fixed dates), with a __main__ that runs apply."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(payload) as source, zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as target:
        names = sorted(n for n in source.namelist() if n.endswith('.py') and n not in ('__main__.py', 'sitecustomize.py'))
        for member in names:
            target.writestr(zipfile.ZipInfo(member, _ZIP_DATE), source.read(member))
        target.writestr(zipfile.ZipInfo('__main__.py', _ZIP_DATE), MAIN)
    return buffer.getvalue()


def digest(data):
    return hashlib.sha256(data).hexdigest()
