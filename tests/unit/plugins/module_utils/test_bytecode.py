# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The payload's bytecode cache: a source compiles once, a changed source replaces its file, nothing trusted blindly."""

from __future__ import annotations

import importlib.util
import os
import sys
import zipfile
import zipimport

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._converge import bytecode

NAME = 'ansible_collections.linuxnet.container.plugins.module_utils._zz.sample'


def no_compile(*_args, **_kwargs):
    raise AssertionError('compiled although the cache holds this source')


def files(directory):
    return sorted(os.listdir(directory)) if os.path.isdir(directory) else []


def test_a_source_compiles_once_and_is_then_read(tmp_path, monkeypatch):
    cache = str(tmp_path / 'bytecode')
    code = bytecode.cached_code(NAME, b'VALUE = 6 * 7\n', 'sample.py', cache_dir=cache)
    assert len(files(cache)) == 1 and files(cache)[0].startswith(NAME + '.') and files(cache)[0].endswith('.pyc')
    assert oct(os.stat(cache).st_mode & 0o777) == '0o700'
    monkeypatch.setattr(bytecode, 'compile', no_compile, raising=False)
    again = bytecode.cached_code(NAME, b'VALUE = 6 * 7\n', 'sample.py', cache_dir=cache)
    namespace = {}
    exec(again, namespace)  # pylint: disable=exec-used
    assert namespace['VALUE'] == 42 and again.co_code == code.co_code


def test_the_file_is_a_standard_hash_based_pyc(tmp_path):
    cache = str(tmp_path / 'bytecode')
    source = b'VALUE = 1\n'
    bytecode.cached_code(NAME, source, 'sample.py', cache_dir=cache)
    with open(os.path.join(cache, files(cache)[0]), 'rb') as handle:
        data = handle.read()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(data[4:8], 'little') == 0b11  # PEP 552: hash-based, checked
    assert data[8:16] == importlib.util.source_hash(source)


def test_a_new_source_replaces_the_file_of_the_older_one(tmp_path):
    cache = str(tmp_path / 'bytecode')
    bytecode.cached_code(NAME, b'VALUE = 1\n', 'sample.py', cache_dir=cache)
    bytecode.cached_code(NAME + '_other', b'VALUE = 1\n', 'other.py', cache_dir=cache)
    old = files(cache)
    bytecode.cached_code(NAME, b'VALUE = 2\n', 'sample.py', cache_dir=cache)
    new = files(cache)
    assert len(new) == 2 and set(old) != set(new)
    assert [n for n in new if n.startswith(NAME + '_other.')] == [n for n in old if n.startswith(NAME + '_other.')]


@pytest.mark.parametrize('damage', [b'', b'garbage', b'\x00' * 40])
def test_a_damaged_file_is_compiled_again(tmp_path, damage):
    cache = str(tmp_path / 'bytecode')
    bytecode.cached_code(NAME, b'VALUE = 3\n', 'sample.py', cache_dir=cache)
    path = os.path.join(cache, files(cache)[0])
    with open(path, 'wb') as handle:
        handle.write(damage)
    namespace = {}
    exec(bytecode.cached_code(NAME, b'VALUE = 3\n', 'sample.py', cache_dir=cache), namespace)  # pylint: disable=exec-used
    assert namespace['VALUE'] == 3
    with open(path, 'rb') as handle:
        assert handle.read()[:4] == importlib.util.MAGIC_NUMBER


def test_without_write_nothing_is_kept(tmp_path):
    cache = str(tmp_path / 'bytecode')
    bytecode.cached_code(NAME, b'VALUE = 4\n', 'sample.py', cache_dir=cache, write=False)
    assert not os.path.exists(cache)


def test_an_unwritable_cache_falls_back_to_compiling(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('not a directory')
    namespace = {}
    exec(bytecode.cached_code(NAME, b'VALUE = 5\n', 'sample.py', cache_dir=str(blocker / 'bytecode')), namespace)  # pylint: disable=exec-used
    assert namespace['VALUE'] == 5


def test_the_finder_serves_a_module_of_a_zip_through_the_cache(tmp_path, monkeypatch):
    """As in a payload: the source comes from the zip, the code from the cache once it holds it. zipimport never
    compiles it (its find_spec and get_filename do, to name the file: that would cost what the cache saves)."""
    archive = str(tmp_path / 'payload.zip')
    inside = 'ansible_collections/linuxnet/container/plugins/module_utils/_zz'
    with zipfile.ZipFile(archive, 'w') as zipped:
        zipped.writestr(inside + '/sample.py', 'VALUE = "from the zip"\n')
        zipped.writestr(inside + '/pkg/__init__.py', '')
    cache = str(tmp_path / 'bytecode')
    monkeypatch.setattr(bytecode, 'CACHE_DIR', cache)
    monkeypatch.setattr(zipimport, '_compile_source', no_compile)
    finder = bytecode._Finder(write=True)  # pylint: disable=protected-access
    entry = os.path.join(archive, inside)
    assert finder.find_spec('ansible_collections.other.sample', [entry]) is None
    assert finder.find_spec(NAME.rsplit('.', 1)[0] + '.missing', [entry]) is None
    assert finder.find_spec(NAME.rsplit('.', 1)[0] + '.pkg', [entry]) is None  # a package: the usual finders
    assert finder.find_spec(NAME, [str(tmp_path)]) is None  # not a zip
    for attempt in range(2):
        spec = finder.find_spec(NAME, [entry])
        assert type(spec.loader).__name__ == '_CachingLoader'
        assert spec.origin == os.path.join(archive, inside, 'sample.py') and spec.has_location
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert module.VALUE == 'from the zip'
        assert module.__file__ == spec.origin
        assert len(files(cache)) == 1
        if attempt == 0:
            monkeypatch.setattr(bytecode, 'compile', no_compile, raising=False)


@pytest.mark.parametrize('params, write', [
    (b'{"ANSIBLE_MODULE_ARGS": {"_ansible_check_mode": true}}', False),
    (b'{"ANSIBLE_MODULE_ARGS":{"_ansible_check_mode":true}}', False),
    (b'{"ANSIBLE_MODULE_ARGS": {"_ansible_check_mode": false}}', True),
    (None, False),
])
def test_check_mode_writes_nothing(monkeypatch, params, write):
    basic = pytest.importorskip('ansible.module_utils.basic')
    monkeypatch.setattr(basic, '_ANSIBLE_ARGS', params, raising=False)
    assert bytecode._may_write() is write  # pylint: disable=protected-access


def test_outside_a_payload_nothing_is_installed():
    assert not any(isinstance(finder, bytecode._Finder) for finder in __import__('sys').meta_path)  # pylint: disable=protected-access


def test_the_finder_serves_ansible_core_module_utils_and_nothing_else(tmp_path, monkeypatch):
    archive = str(tmp_path / 'payload.zip')
    inside = 'ansible/module_utils/_zz'
    with zipfile.ZipFile(archive, 'w') as zipped:
        zipped.writestr(inside + '/core.py', 'VALUE = "core"\n')
    monkeypatch.setattr(bytecode, 'CACHE_DIR', str(tmp_path / 'bytecode'))
    finder = bytecode._Finder(write=False)  # pylint: disable=protected-access
    spec = finder.find_spec('ansible.module_utils._zz.core', [os.path.join(archive, inside)])
    assert type(spec.loader).__name__ == '_CachingLoader'
    assert finder.find_spec('ansible.plugins.core', [os.path.join(archive, inside)]) is None
    assert finder.find_spec('pyroute2.iproute', [os.path.join(archive, inside)]) is None


@pytest.mark.parametrize('argv, write', [
    (['apply'], True),
    (['apply', '--quiet'], True),
    (['apply', '--check'], False),
    (['apply', '--check', '--diff'], False),
    (['watch'], True),
    (['status'], True),
    (['read', '{"code": "c", "check": false, "read": {}}'], True),
    (['read', '{"code": "c", "check": true, "read": {}}'], False),
    (['read', '{"code": "c", "read": {}}'], False),
    (['read', 'not json'], False),
])
def test_the_host_command_writes_the_cache_except_in_check_mode(argv, write):
    assert bytecode.command_writes(argv) is write


def test_allow_writes_switches_the_installed_finder(monkeypatch):
    finder = bytecode._Finder(write=False)  # pylint: disable=protected-access
    monkeypatch.setattr(sys, 'meta_path', [finder] + sys.meta_path)
    bytecode.allow_writes(True)
    assert finder._write is True  # pylint: disable=protected-access
    bytecode.allow_writes(False)
    assert finder._write is False  # pylint: disable=protected-access
