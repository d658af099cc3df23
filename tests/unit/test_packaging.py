# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built collection tarball ships what users need and nothing that is development-only."""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DEV_ONLY = re.compile(r'^(bench|lab|extensions|tests|scripts|\.ci|\.build|\.venv)(/|$)'
                      r'|^(changelogs/fragments|changelogs/\.plugin-cache\.yaml|Makefile|ansible\.cfg|constraints\.txt'
                      r'|requirements-dev\.txt|\.ansible-lint|\.gitignore)$')
REQUIRED = ['docs', 'roles', 'plugins', 'playbooks', 'meta', 'README.md', 'LICENSE', 'changelogs/changelog.yaml',
            'requirements.txt', 'bindep.txt', 'meta/execution-environment.yml', 'MANIFEST.json', 'FILES.json']
DEV_TOOLS = ('molecule', 'ansible-lint', 'pytest', 'scapy', 'antsibull', 'ansible-core')


@pytest.fixture(scope='module')
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp('dist')
    subprocess.run(['ansible-galaxy', 'collection', 'build', '--output-path', str(out), ROOT],
                   check=True, capture_output=True, text=True)
    (path,) = glob.glob(str(out / '*.tar.gz'))
    with tarfile.open(path) as tar:
        yield {'names': {m.name.lstrip('./'): m for m in tar.getmembers()},
               'files': {m.name.lstrip('./'): tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}}


def test_no_dev_only_paths(tarball):
    names = tarball['names']
    assert sorted(n for n in names if DEV_ONLY.search(n)) == []


def test_required_paths_present(tarball):
    names = tarball['names']
    assert [r for r in REQUIRED if r not in names] == []


def test_runtime_requirements_hold_no_dev_tooling(tarball):
    files = tarball['files']
    reqs = files['requirements.txt'].decode()
    pkgs = [re.split(r'[=<>!~ ;\[]', line.strip(), maxsplit=1)[0].lower()
            for line in reqs.splitlines() if line.strip() and not line.startswith('#')]
    assert sorted(pkgs) == ['jmespath', 'netaddr', 'pyroute2']
    assert not [p for p in pkgs if p.startswith(DEV_TOOLS)]


def test_shipped_text_cites_no_dev_only_material(tarball):
    """Nothing shipped points at the project's internal SPEC.md, SEEDS.md or ../shared."""
    files = tarball['files']
    pattern = re.compile(rb'SPEC\.md|SEEDS\.md|\.\./shared')
    assert sorted(n for n, data in files.items() if b'\0' not in data and pattern.search(data)) == []


def test_ansible_builder_create_yields_runtime_only_context(tarball, tmp_path):
    """ansible-builder create (offline: it only writes the build context) from the EE files the tarball ships, found
    as ansible-builder's introspection finds them: the collection's meta/execution-environment.yml names them."""
    files = tarball['files']
    shipped = tmp_path / 'collection'
    for name, data in files.items():
        (shipped / name).parent.mkdir(parents=True, exist_ok=True)
        (shipped / name).write_bytes(data)
    deps = yaml.safe_load(files['meta/execution-environment.yml'])['dependencies']
    ee = tmp_path / 'execution-environment.yml'
    ee.write_text(yaml.safe_dump({'version': 3, 'dependencies': {
        'python': str(shipped / deps['python']), 'system': str(shipped / deps['system'])}}))
    ctx = tmp_path / 'context'
    builder = os.path.join(os.path.dirname(sys.executable), 'ansible-builder')
    subprocess.run([builder, 'create', '-f', str(ee), '-c', str(ctx), '--output-filename', 'Containerfile'],
                   check=True, capture_output=True, text=True)
    assert (ctx / 'Containerfile').is_file()
    copied = {p.name: p.read_text() for p in (ctx / '_build').iterdir() if p.is_file()}
    assert 'pyroute2' in copied['requirements.txt'] and 'openssh-client' in copied['bindep.txt']
    assert not [t for t in DEV_TOOLS if t in copied['requirements.txt']]
