# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A bare Debian host (system Python, no pyroute2, no pip, no nftables, no mirror) gets what the modules need from
the prerequisites role, offline: check mode predicts and changes nothing, a real run installs, the next run changes
nothing, a changed pin changes the host, and the modules then run under the host's own /usr/bin/python3."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from labkit import Lab, ROOT, lab_name

HOST = 'docker-node1'
PREREQUISITES = os.path.join(ROOT, 'playbooks', 'prerequisites.yml')


@pytest.fixture(scope='module')
def bare():
    running = Lab(lab_name('prereq'), 1, prepare=False)
    yield running
    running.down()


def diff_has(out, sign, pin):
    """--diff shows the recorded pins, one per line of the record (a JSON list): ``+    "pyroute2==0.9.7",``."""
    return re.search(r'^%s\s+"%s",?$' % (re.escape(sign), re.escape(pin)), out, re.M) is not None


def host_state(lab):
    """What the role could change on the host: its files, the OS packages, the virtualenv's packages."""
    return lab.ssh(HOST, 'find /opt -printf "%p %s\\n" | sort; '
                         'dpkg-query --show --showformat="${db:Status-Abbrev}${Package} ${Version}\\n" '
                         'nftables iproute2 python3-apt 2>&1; '
                         'test -x /opt/linuxnet-container/venv/bin/pip && '
                         '/opt/linuxnet-container/venv/bin/pip list --format=json --disable-pip-version-check || true')


def run(lab, tmp_path, *extra):
    proc = lab.playbook(PREREQUISITES, tmp_path, extra=list(extra))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr
    recap = [line for line in proc.stdout.splitlines() if line.startswith(HOST) and 'changed=' in line][-1]
    return int(recap.split('changed=')[1].split()[0]), proc.stdout


def test_a_module_on_a_bare_host_names_the_role(bare, tmp_path):
    status, res = bare.ansible(HOST, 'linuxnet.container.netns', {'name': 'nolib'}, tmp_path)[HOST]
    assert status == 'failed'
    assert 'pyroute2>=0.9' in res['msg'] and 'linuxnet.container.prerequisites' in res['msg'], res['msg']
    assert 'nolib' not in bare.namespaces(HOST)


def test_prerequisites_offline_check_real_idempotent(bare, tmp_path):
    before = host_state(bare)
    assert 'pyroute2' not in before and 'ii nftables' not in before.replace('ii  ', 'ii ')
    changed, out = run(bare, tmp_path, '--check', '--diff')
    assert changed > 0 and 'would install nftables' in out and diff_has(out, '+', 'pyroute2==0.9.7'), out
    assert host_state(bare) == before, 'check mode changed the host'

    changed, out = run(bare, tmp_path, '--diff')
    assert changed > 0
    after = host_state(bare)
    packages = {p['name']: p['version'] for p in json.loads(after.splitlines()[-1])}
    assert packages['pyroute2'] == '0.9.7' and packages['netaddr'] == '1.3.0', packages
    assert bare.ssh(HOST, 'nft --version').startswith('nftables')
    # The system Python stays as it was: no pyroute2 there.
    assert 'ModuleNotFoundError' in bare.ssh(HOST, '/usr/bin/python3 -c "import pyroute2" 2>&1 || true')

    changed, _out = run(bare, tmp_path, '--check')
    assert changed == 0
    changed, _out = run(bare, tmp_path)
    assert changed == 0
    assert host_state(bare) == after


def task_block(out, name):
    """The output of the task whose name starts with ``name``."""
    match = re.search(r'^TASK \[linuxnet\.container\.prerequisites : %s.*?(?=^TASK \[|^PLAY RECAP)' % re.escape(name), out, re.M | re.S)
    return match.group(0) if match else ''


def test_the_record_reads_the_host_live(bare, tmp_path):
    """The record is an executable script: the shell command that starts the role runs it (no module, no Python) and
    reads through it which OS packages are installed and whether the virtualenv still has its Python. A run with
    matching pins makes no other call (no setup, no package query: the rest is one skipped include), yet a package
    removed or a virtualenv broken by hand is put back."""
    run(bare, tmp_path)  # installed (by the tests above, or now when this one runs alone)
    changed, out = run(bare, tmp_path)
    assert changed == 0 and 'skipping: [%s]' % HOST in task_block(out, 'Install, update or check'), out
    assert 'ok: [%s]' % HOST in task_block(out, 'Read what this role installed last time'), out
    assert not task_block(out, "Read the host's OS family") and not task_block(out, 'Which of the OS packages'), out
    record = json.loads(bare.ssh(HOST, '/opt/linuxnet-container/facts.d/linuxnet_prerequisites.fact'))
    assert record['python'] == '/opt/linuxnet-container/venv/bin/python', record
    assert sorted(record['os_query']) == ['ii iproute2', 'ii nftables'], record

    bare.ssh(HOST, 'dpkg --remove nftables >/dev/null 2>&1; rm -f /opt/linuxnet-container/venv/bin/python')
    record = json.loads(bare.ssh(HOST, '/opt/linuxnet-container/facts.d/linuxnet_prerequisites.fact'))
    assert record['python'] == '' and 'ii nftables' not in record['os_query'], record
    changed, out = run(bare, tmp_path, '--check')
    assert changed > 0 and 'would install nftables' in out, out
    changed, out = run(bare, tmp_path)
    assert changed > 0
    assert bare.ssh(HOST, 'nft --version').startswith('nftables')
    assert bare.ssh(HOST, '/opt/linuxnet-container/venv/bin/python -c "import pyroute2; print(pyroute2.__version__)"').strip() == '0.9.7'
    changed, out = run(bare, tmp_path)
    assert changed == 0, out


def test_modules_find_the_virtualenv_on_their_own(bare, tmp_path):
    status, res = bare.ansible(HOST, 'linuxnet.container.netns', {'name': 'withlib'}, tmp_path)[HOST]
    assert status == 'ok' and res['changed'], res
    assert 'withlib' in bare.namespaces(HOST)
    status, res = bare.ansible(HOST, 'linuxnet.container.netns', {'name': 'withlib', 'state': 'absent'}, tmp_path)[HOST]
    assert status == 'ok' and res['changed'], res


def test_a_changed_pin_changes_the_host(bare, tmp_path):
    older = json.dumps({'__prerequisites_python_requirements': ['pyroute2==0.9.6', 'netaddr==1.3.0']})
    changed, out = run(bare, tmp_path, '--check', '--diff', '-e', older)
    assert changed > 0 and diff_has(out, '-', 'pyroute2==0.9.7') and diff_has(out, '+', 'pyroute2==0.9.6'), out
    changed, _out = run(bare, tmp_path, '-e', older)
    assert changed > 0
    assert '0.9.6' in bare.ssh(HOST, '/opt/linuxnet-container/venv/bin/python -c "import pyroute2; print(pyroute2.__version__)"')
    changed, _out = run(bare, tmp_path)
    assert changed > 0
    assert '0.9.7' in bare.ssh(HOST, '/opt/linuxnet-container/venv/bin/python -c "import pyroute2; print(pyroute2.__version__)"')


def test_prerequisites_from_a_package_index(tmp_path):
    """The default source: pip on the host installs from a package index (here a PEP 503 index the lab serves on its
    underlay, as a fleet's local mirror would), with python3-venv from the OS packages."""
    lab = Lab(lab_name('prereq-index'), 1, prepare=False)
    server = None
    try:
        wheels = tmp_path / 'wheels'
        subprocess.run([sys.executable, '-m', 'pip', 'download', '--quiet', '--disable-pip-version-check',
                        '--only-binary=:all:', '--dest', str(wheels), 'pyroute2==0.9.7', 'netaddr==1.3.0'], check=True)
        simple = tmp_path / 'index' / 'simple'
        for wheel in wheels.iterdir():
            project = simple / re.sub(r'[-_.]+', '-', wheel.name.split('-')[0]).lower()
            project.mkdir(parents=True, exist_ok=True)
            shutil.copy(wheel, project / wheel.name)
            (project / 'index.html').write_text('<html><body><a href="%s">%s</a></body></html>\n' % (wheel.name, wheel.name))
        server = subprocess.Popen(['nsenter', '--net=/proc/%d/ns/net' % lab.state['switch_pid'], '--', sys.executable,
                                   '-m', 'http.server', '--bind', lab.state['router'], '8001',
                                   '--directory', str(tmp_path / 'index')],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        index = ['-e', 'linuxnet_prerequisites_source=index',
                 '-e', 'linuxnet_prerequisites_index_url=http://%s:8001/simple/' % lab.state['router'],
                 # A plain-HTTP mirror: pip ignores it unless told to trust it.
                 '-e', json.dumps({'linuxnet_prerequisites_pip_args': ['--trusted-host', lab.state['router']]})]
        changed, out = run(lab, tmp_path, '--check', *index)
        assert changed > 0 and 'would install' in out and 'python3-venv' in out, out
        changed, _out = run(lab, tmp_path, *index)
        assert changed > 0
        assert lab.ssh(HOST, 'dpkg-query --show --showformat="\\${db:Status-Abbrev}" python3-venv').startswith('ii')
        changed, _out = run(lab, tmp_path, *index)
        assert changed == 0
        status, res = lab.ansible(HOST, 'linuxnet.container.netns', {'name': 'indexed'}, tmp_path)[HOST]
        assert status == 'ok' and res['changed'], res
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        lab.down()
