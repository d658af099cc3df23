# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every bench's --smoke mode runs in the suite, so that no bench can rot: each bench/bench_*.py (found by glob, so a
new bench is included without a change here) runs with tiny sizes against one shared lab of two hosts, and must exit
0 and print ``invariants: ok`` (its own checks of what it built: namespaces, links, nft elements, no-op runs with
changed=0). Their timings are printed, never asserted. A bench with a second mode worth keeping alive runs its smoke
once more in that mode (EXTRA_MODES: bench_bridge_network.py --dual-stack)."""

from __future__ import annotations

import glob
import os
import sys

import pytest

from labkit import ROOT, lab, run

BENCHES = sorted(glob.glob(os.path.join(ROOT, 'bench', 'bench_*.py')))
# (bench, its extra options, the test id's suffix): a second smoke of a bench in another mode.
EXTRA_MODES = [('bench_bridge_network.py', ['--dual-stack'], 'dual-stack')]
CASES = [(b, []) for b in BENCHES] + [(os.path.join(ROOT, 'bench', name), extra) for name, extra, dummy in EXTRA_MODES]
IDS = [os.path.basename(b)[:-3] for b in BENCHES] + ['%s-%s' % (name[:-3], suffix) for name, dummy, suffix in EXTRA_MODES]


@pytest.fixture(scope='module', name='bench_lab')
def fixture_bench_lab():
    """One lab for every bench of this file (LINUXNET_ITEST_LAB + '-bs'; the benches reuse it with --keep, and wipe
    its hosts' network state before they start). Its hosts boot from lab.py's prerequisites layer, so the benches'
    run of the prerequisites role finds everything in place."""
    name = os.environ.get('LINUXNET_ITEST_LAB', 'itest') + '-bs'
    lab('up', '--name', name, '--hosts', '2', '--layer=prerequisites')
    yield name
    if not os.environ.get('LINUXNET_ITEST_KEEP'):
        lab('down', '--name', name)


def test_benches_found():
    assert len(BENCHES) >= 9, BENCHES


@pytest.mark.parametrize('bench,extra', CASES, ids=IDS)
def test_bench_smoke(bench, extra, bench_lab):
    proc = run([sys.executable, bench, '--smoke', '--lab', bench_lab, '--keep'] + extra, capture_output=True, text=True, check=False,
               timeout=1200)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    verdicts = [line for line in proc.stdout.splitlines() if line.startswith('invariants: ')]
    assert verdicts and all(line.startswith('invariants: ok') for line in verdicts), out[-6000:]
    print(proc.stdout)
