#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the AnsiballZ payload of every module, as ansible's own builder makes it (no lab).

For each module in plugins/modules: the payload's size (the whole payload Ansible sends, and the collection's own
files in its zip, uncompressed), how many of the collection's files it packs, and the time ansible's
module_common.modify_module took to build it (the first build of each module in this process, ZIP_DEFLATED).
The floor of each column is the smallest module's.

--smoke checks, never timings: no payload packs a file under plugins/plugin_utils (the controller's planning, which
no module ships), and no payload packs a file of the collection that the module does not import (directly or
through what it imports: the import statements of the collection's files, read with ast).

--compare-ref REF also prints the same table for the collection at git ref REF (git archive into a temporary
collections path, built by a second process of this bench), e.g. the commit before module_utils was reorganised.

    .venv/bin/python bench/bench_payload.py [--compare-ref b85e53f] [--smoke]
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

import _bench

PREFIX = 'ansible_collections/linuxnet/container/'


def collection_root(collections):
    return os.path.join(collections, 'ansible_collections', 'linuxnet', 'container')


def _target(root, dotted):
    """The collection file a dotted name stands for (module or package), or None."""
    if not dotted.startswith('ansible_collections.linuxnet.container.'):
        return None
    path = os.path.join(root, *dotted.split('.')[3:])
    for candidate in (path + '.py', os.path.join(path, '__init__.py')):
        if os.path.isfile(candidate):
            return candidate
    return None


def imports_of(root, path):
    """The collection files a file imports (every import statement, also those inside try or a function)."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    package = os.path.relpath(os.path.dirname(path), os.path.dirname(os.path.dirname(os.path.dirname(root))))
    package = package.replace(os.sep, '.')
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')
                base = '.'.join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            names.append(base)
            names += ['%s.%s' % (base, alias.name) for alias in node.names]
    return {t for t in (_target(root, name) for name in names) if t}


def closure(root, path):
    """Every collection file ``path`` imports, directly or not (with the packages' __init__.py on the way)."""
    seen, todo = set(), [path]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo += imports_of(root, current)
    out = {'__init__.py'}  # the collection's own package
    for found in seen:
        rel = os.path.relpath(found, root)
        out.add(rel)
        parts = rel.split(os.sep)[:-1]
        for depth in range(1, len(parts) + 1):
            out.add(os.path.join(*(parts[:depth] + ['__init__.py'])))
    return out


def measure(collections):
    """One row per module: (name, payload bytes, collection bytes, collection files, build seconds, packed files)."""
    root = collection_root(collections)
    rows = []
    for name in sorted(f[:-3] for f in os.listdir(os.path.join(root, 'plugins', 'modules')) if f.endswith('.py') and f != '__init__.py'):
        path = _bench.module_path(name, collections)
        started = time.perf_counter()
        data = _bench.ansiballz(name, {}, path=path, collections=collections)
        elapsed = time.perf_counter() - started
        with zipfile.ZipFile(io.BytesIO(_bench.payload_zip(data))) as archive:
            ours = [i for i in archive.infolist() if i.filename.startswith(PREFIX)]
        packed = sorted(i.filename[len(PREFIX):] for i in ours)
        rows.append({'module': name, 'payload': len(data), 'collection_bytes': sum(i.file_size for i in ours),
                     'files': len(ours), 'seconds': elapsed, 'packed': packed,
                     'imports': sorted(closure(root, os.path.join(root, 'plugins', 'modules', name + '.py')))})
    return rows


def print_table(title, rows):
    print(title)
    print('  %-18s %12s %18s %8s %10s' % ('module', 'payload B', 'collection B', 'files', 'build s'))
    floor = {k: min(r[k] for r in rows) for k in ('payload', 'collection_bytes', 'files', 'seconds')}
    for row in rows:
        print('  %-18s %12d %18d %8d %10.3f' % (row['module'], row['payload'], row['collection_bytes'], row['files'], row['seconds']))
    print('  %-18s %12d %18d %8d %10.3f' % ('total', sum(r['payload'] for r in rows), sum(r['collection_bytes'] for r in rows),
                                            sum(r['files'] for r in rows), sum(r['seconds'] for r in rows)))
    print('  %-18s %12s %18s %8s %10s   (largest / smallest module)' % (
        'ratio', *('%.2f' % (max(r[k] for r in rows) / floor[k]) if floor[k] else '-'
                   for k in ('payload', 'collection_bytes', 'files', 'seconds'))))


def at_ref(ref):
    """The rows of the collection at git ref ``ref``, from a second process on a git archive of it."""
    tmp = tempfile.mkdtemp(prefix='bench-payload-')
    try:
        root = collection_root(tmp)
        os.makedirs(root)
        archive = subprocess.run(['git', '-C', _bench.ROOT, 'archive', ref], capture_output=True, check=True).stdout
        subprocess.run(['tar', '-x', '-C', root], input=archive, check=True)
        proc = _bench.run([sys.executable, os.path.abspath(__file__), '--collections', tmp, '--json'],
                          env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=tmp))
        if proc.returncode != 0:
            raise SystemExit('bench_payload at %s failed: %s' % (ref, proc.stderr[-2000:]))
        return json.loads(proc.stdout)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    parser = _bench.parser(__doc__, 'unused')  # --lab and --keep are accepted and unused: no lab here
    parser.add_argument('--compare-ref', help='also the table of the collection at this git ref')
    parser.add_argument('--collections', default=_bench.COLLECTIONS, help=argparse.SUPPRESS)
    parser.add_argument('--json', action='store_true', help=argparse.SUPPRESS)
    opts = parser.parse_args()
    rows = measure(opts.collections)
    if opts.json:
        print(json.dumps(rows))
        return 0
    print_table('bench_payload: AnsiballZ payloads of linuxnet.container (this worktree), ZIP_DEFLATED', rows)
    if opts.compare_ref:
        before = at_ref(opts.compare_ref)
        print_table('bench_payload: the same at %s' % opts.compare_ref, before)
        print('  change of the totals, this worktree / %s: payload %.2f, collection bytes %.2f, files %.2f' % (
            opts.compare_ref, *(sum(r[k] for r in rows) / sum(r[k] for r in before) for k in ('payload', 'collection_bytes', 'files'))))
    inv = _bench.Invariants()
    for row in rows:
        inv.equal('%s packs no plugin_utils file' % row['module'], [f for f in row['packed'] if f.startswith('plugins/plugin_utils/')], [])
        inv.equal('%s packs only what it imports' % row['module'], sorted(set(row['packed']) - set(row['imports'])), [])
    return inv.report()


if __name__ == '__main__':
    sys.exit(main())
