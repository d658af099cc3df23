# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for tests against a real lab: start it, run Ansible against it, read its kernels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(ROOT, 'lab', 'lab.py')
VENV_BIN = os.path.dirname(sys.executable)
STATE_ROOT = '/var/lib/linuxnet-lab'


def lab_name(suffix):
    """A lab name of this run: LINUXNET_ITEST_LAB (default itest) and a suffix, so that two runs on one machine
    (a developer's beside CI's, or helpers side by side) never share a lab."""
    return '%s-%s' % (os.environ.get('LINUXNET_ITEST_LAB', 'itest'), suffix)


def run(*args, **kwargs):
    """subprocess.run with stdin from /dev/null: ssh sets O_NONBLOCK on a stdin it inherits and, when its
    connection drops (a reboot), leaves it so for every later process of the session, which Ansible refuses."""
    kwargs.setdefault('stdin', subprocess.DEVNULL)
    return subprocess.run(*args, **kwargs)  # pylint: disable=subprocess-run-check


# ssh's own failures (exit 255) under load: its control master broke ("mux_client_request_session: read from master
# failed"), or the banner came late. Every Ansible run of the tests retries them itself, and waits longer than its
# default 10 s for a loaded host's banner (the Makefile sets the same for Molecule).
SSH_ATTEMPTS = 3
os.environ.setdefault('ANSIBLE_SSH_RETRIES', '3')
os.environ.setdefault('ANSIBLE_TIMEOUT', '30')


def ssh(config, host, command, check=True):
    """Run ``command`` on a lab host; a transport failure (exit 255 with ssh's own message) is retried, never a
    failure of the command itself."""
    for attempt in range(SSH_ATTEMPTS):
        proc = run(['ssh', '-F', config, host, command], capture_output=True, text=True, check=False)
        transport = proc.returncode == 255 and any(word in proc.stderr for word in (
            'mux_client', 'banner exchange', 'Connection timed out', 'Connection reset', 'Connection closed',
            'Broken pipe', 'kex_exchange_identification'))
        if not transport or attempt == SSH_ATTEMPTS - 1:
            break
        time.sleep(2 * (attempt + 1))
    if check and proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, proc.stdout, proc.stderr)
    return proc


def lab(*args):
    return run([sys.executable, LAB] + list(args), check=True, capture_output=True, text=True).stdout


def recording(path):
    """The environment that makes Ansible append every task result to ``path`` (tests/integration/callback_plugins)."""
    return {'LINUXNET_RECORD': str(path), 'ANSIBLE_CALLBACKS_ENABLED': 'linuxnet_record', 'ANSIBLE_LOAD_CALLBACK_PLUGINS': '1',
            'ANSIBLE_CALLBACK_PLUGINS': os.path.join(ROOT, 'tests', 'integration', 'callback_plugins')}


class Lab:
    """A running lab: its hosts' PIDs, and helpers to run Ansible and read kernel state."""

    def __init__(self, name, hosts, prepare=True):
        """Start the lab. With ``prepare`` its hosts boot from lab.py's prerequisites layer: what
        playbooks/prerequisites.yml installs on a bare host of the image (offline), captured once per version
        of the role; without, they are bare (the tests of the role itself)."""
        self.name = name
        lab('up', '--name', name, '--hosts', str(hosts), *(['--layer=prerequisites'] if prepare else []))
        self.inventory = os.path.join(STATE_ROOT, name, 'inventory.json')
        self.refresh()

    def refresh(self):
        """Re-read the lab's state (a host's PID changes when it reboots)."""
        self.state = json.loads(lab('status', '--name', self.name))
        self.hosts = {h['name']: h for h in self.state['hosts']}

    def down(self):
        lab('down', '--name', self.name)

    def reboot(self, *hosts, hard=False):
        lab('reboot', '--name', self.name, *(['--hard'] if hard else []), *hosts)
        self.refresh()

    def firewall(self, how, *hosts):
        """Reload hosts' firewalls as an operator would: flush, restart, reload (nftables.service), firewalld."""
        lab('firewall', '--name', self.name, '--how', how, *hosts)

    def pid(self, host):
        return self.hosts[host]['pid']

    def machine_pid(self, host, pid):
        """The PID on this machine of the process a lab host knows as ``pid`` (hosts have their own PID
        namespace), or None once it has ended."""
        ns = os.stat('/proc/%d/ns/pid' % self.pid(host)).st_ino
        for entry in os.listdir('/proc'):
            if not entry.isdigit():
                continue
            try:
                with open('/proc/%s/status' % entry) as handle:
                    nspid = next((line.split()[1:] for line in handle if line.startswith('NSpid:')), [])
                if len(nspid) > 1 and int(nspid[-1]) == pid and os.stat('/proc/%s/ns/pid' % entry).st_ino == ns:
                    return int(entry)
            except (OSError, ValueError):
                continue
        return None

    def proc(self, host, pid):
        """/proc/PID on this machine of the process a lab host knows as ``pid``."""
        found = self.machine_pid(host, pid)
        if found is None:
            raise AssertionError('no process %d on lab host %s' % (pid, host))
        return '/proc/%d' % found

    def host_path(self, host, path):
        """A path as the lab host sees it (its private mounts), through /proc/PID/root."""
        return '/proc/%d/root%s' % (self.pid(host), path)

    def namespaces(self, host):
        path = self.host_path(host, '/run/netns')
        return sorted(os.listdir(path)) if os.path.isdir(path) else []

    def ssh(self, host, command):
        return ssh(os.path.join(STATE_ROOT, self.name, 'ssh_config'), host, command).stdout

    def ansible(self, pattern, module, args, tmp_path, check=False, env=None, extra=()):
        """Run one module ad hoc; return {host: (status, result)} from the recording callback."""
        record = tmp_path / ('record-%d.jsonl' % len(list(tmp_path.glob('record-*'))))
        cmd = [os.path.join(VENV_BIN, 'ansible'), '-i', self.inventory, pattern, '-m', module,
               '-a', json.dumps(args)] + (['--check'] if check else []) + list(extra)
        run_env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING='False', **recording(record))
        run_env.setdefault('ANSIBLE_COLLECTIONS_PATH', os.path.join(ROOT, '.build', 'collections'))
        run_env.update(env or {})
        proc = run(cmd, capture_output=True, text=True, env=run_env, cwd=str(tmp_path), check=False)
        results = {}
        if record.exists():
            for line in record.read_text().splitlines():
                entry = json.loads(line)
                results[entry['host']] = (entry['status'], entry['result'])
        if not results:
            raise AssertionError('ansible recorded nothing (rc %d): %s %s' % (proc.returncode, proc.stdout, proc.stderr))
        return results

    def recorded_playbook(self, playbook, tmp_path, inventory=None, extra=()):
        """Run a playbook; return (process, {host: {task name: result}}) from the recording callback (a role's task
        is named "ROLE : NAME": the name alone is kept)."""
        record = tmp_path / ('record-%d.jsonl' % len(list(tmp_path.glob('record-*'))))
        proc = self.playbook(playbook, tmp_path, inventory=inventory, extra=list(extra), env=recording(record))
        results = {}
        for line in record.read_text().splitlines() if record.exists() else []:
            entry = json.loads(line)
            results.setdefault(entry['host'], {})[entry['task'].rsplit(' : ', 1)[-1]] = entry['result']
        return proc, results

    def playbook(self, playbook, tmp_path, inventory=None, extra=(), env=None):
        cmd = [os.path.join(VENV_BIN, 'ansible-playbook'), '-i', inventory or self.inventory, playbook] + list(extra)
        env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING='False', **(env or {}))
        env.setdefault('ANSIBLE_COLLECTIONS_PATH', os.path.join(ROOT, '.build', 'collections'))
        return run(cmd, capture_output=True, text=True, env=env, cwd=str(tmp_path), check=False)
