# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A bytecode cache on the managed host for the module_utils in a module's payload (private).

A module runs from its AnsiballZ payload, a zip of Python sources. zipimport compiles every source it imports, at
every call, and keeps nothing: about 430 kB of the collection's code for host_network, 50-70 ms of a host's CPU per
call, twice per host and run (more than the module's own work when nothing changes). Imported first by each
module, this puts a finder in front of the payload for the module_utils it carries (the collection's, and
ansible-core's imported after this; the host-local command, ``python code.zip``, imports all of them here). A source is compiled
once and kept as a standard hash-based .pyc (PEP 552: magic number, flags, the source's hash) in
``/var/cache/linuxnet-container/bytecode``, named by module and source hash; a later call whose source has the
same hash unmarshals it. Another source (a new version of the collection) is compiled and replaces the file of the
older one. Only root's runs use the cache, in a directory only root can write; anything unexpected (another user,
a read-only /var, a file that is not a valid .pyc of that source) falls back to compiling, as without the cache.
A run in check mode reads the cache and writes nothing; so does the host-local command with ``--check`` or for the
read of a check-mode run (``command_writes``). ``linuxnet.container.prerequisites``' removal (teardown)
deletes the directory.

Nothing happens where the collection is not loaded from a zip (the controller, tests, an unpacked module).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import json
import marshal
import os
import re
import sys
import tempfile

CACHE_DIR = '/var/cache/linuxnet-container/bytecode'
PACKAGE = 'ansible_collections.linuxnet.container.plugins.module_utils.'
# What the cache serves: the collection's module_utils, and ansible-core's that the payload carries (about 190 files
# that the host-local command imported from the zip at every run: 0.15 s of a host's CPU per read).
PACKAGES = (PACKAGE, 'ansible.module_utils.')
_FLAGS = 0b11  # hash-based, checked (PEP 552)


def _header(source_hash):
    return importlib.util.MAGIC_NUMBER + _FLAGS.to_bytes(4, 'little') + source_hash


def _path(fullname, source_hash):
    return os.path.join(CACHE_DIR, '%s.%s.pyc' % (fullname, source_hash.hex()))


def cached_code(fullname, source, filename, cache_dir=None, write=True):
    """The code object of ``source``: from the cache when it holds this source's bytecode, else compiled (and kept,
    unless ``write`` is false)."""
    directory = cache_dir or CACHE_DIR
    source_hash = importlib.util.source_hash(source)
    path = os.path.join(directory, os.path.basename(_path(fullname, source_hash)))
    header = _header(source_hash)
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
        if data[:16] == header:
            return marshal.loads(data[16:])
    except (OSError, ValueError, EOFError, TypeError):
        pass
    code = compile(source, filename, 'exec', dont_inherit=True)
    if write:
        _store(directory, fullname, path, header + marshal.dumps(code))
    return code


def _store(directory, fullname, path, data):
    """Write atomically; drop the files of older sources of the same module. Failures leave no trace."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=directory, prefix='.tmp-')
        try:
            with os.fdopen(handle, 'wb') as out:
                out.write(data)
            os.replace(tmp, path)
        except OSError:
            os.unlink(tmp)
            raise
        prefix = fullname + '.'
        for name in os.listdir(directory):
            if name.startswith(prefix) and name.endswith('.pyc') and name.count('.') == fullname.count('.') + 2 \
                    and os.path.join(directory, name) != path:
                os.unlink(os.path.join(directory, name))
    except OSError:
        pass


class _CachingLoader(importlib.abc.InspectLoader):
    """The payload's own loader (a zipimporter), with get_code served from the cache.

    ``filename`` is given: zipimporter.get_filename compiles the module to find it (Python 3.11), which would cost as
    much as the cache saves."""

    def __init__(self, loader, write, filename):
        self._loader = loader
        self._write = write
        self._filename = filename

    def get_source(self, fullname):
        return self._loader.get_source(fullname)

    def is_package(self, fullname):
        return False

    def get_filename(self, fullname):
        return self._filename

    def get_code(self, fullname):
        source = self._loader.get_source(fullname)
        if source is None:
            return self._loader.get_code(fullname)
        return cached_code(fullname, source.encode('utf-8'), self._filename, write=self._write)

    def exec_module(self, module):
        exec(self.get_code(module.__name__), module.__dict__)  # pylint: disable=exec-used


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the collection's module_utils (and ansible-core's) in the payload, as its zipimporter would, without
    compiling them: zipimporter.find_spec asks its get_filename for the spec's origin, which compiles the source.
    Packages (their __init__) and anything not in a zip are left to the usual finders."""

    def __init__(self, write):
        self._write = write
        self._importers = {}  # path entry -> its zipimporter, or None

    def _importer(self, entry):
        if entry not in self._importers:
            zipimporter = _zipimporter()
            importer = sys.path_importer_cache.get(entry)
            if not isinstance(importer, zipimporter):
                try:
                    importer = zipimporter(entry)
                except (ImportError, OSError, TypeError):
                    importer = None
            self._importers[entry] = importer
        return self._importers[entry]

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(PACKAGES):
            return None
        leaf = fullname.rpartition('.')[2]
        for entry in path if path is not None else sys.path:
            importer = self._importer(entry) if isinstance(entry, str) else None
            if importer is None:
                continue
            try:
                if importer.is_package(fullname):
                    return None
            except ImportError:  # not in this entry
                continue
            filename = os.path.join(importer.archive, importer.prefix, leaf + '.py')
            spec = importlib.machinery.ModuleSpec(fullname, _CachingLoader(importer, self._write, filename), origin=filename)
            spec.has_location = True
            return spec
        return None


def allow_writes(write):
    """Let the installed finder keep what it compiles, or not (the host-local command decides by its arguments)."""
    for finder in sys.meta_path:
        if isinstance(finder, _Finder):
            finder._write = write  # pylint: disable=protected-access


def command_writes(argv):
    """Whether a run of the host-local command (``linuxnet-container ARGV``) may write the cache: not with --check,
    and a ``read`` only for a run that is not in check mode (its request says ``"check": false``)."""
    if '--check' in argv:
        return False
    if 'read' in argv:
        try:
            request = json.loads(argv[-1])
        except ValueError:
            return False
        return isinstance(request, dict) and request.get('check') is False
    return True


def _zipimporter():
    import zipimport  # pylint: disable=import-outside-toplevel
    return zipimport.zipimporter


def _install():
    if any(isinstance(finder, _Finder) for finder in sys.meta_path):
        return
    # Only in a payload (this file itself came from a zip) and only for root, whose cache nobody else can write.
    if not isinstance(getattr(sys.modules[__name__], '__loader__', None), _zipimporter()):
        return
    if not hasattr(os, 'geteuid') or os.geteuid() != 0:
        return
    sys.meta_path.insert(0, _Finder(write=_may_write()))


def _may_write():
    """False in check mode (the arguments the payload hands to AnsibleModule say so), and where they cannot be read."""
    basic = sys.modules.get('ansible.module_utils.basic')
    params = getattr(basic, '_ANSIBLE_ARGS', None)
    if not isinstance(params, bytes):
        return False
    return _CHECK_MODE.search(params) is None


_CHECK_MODE = re.compile(rb'"_ansible_check_mode"\s*:\s*true')


_install()
