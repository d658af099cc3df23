# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benches' smoke modes run in the suite, so that they cannot rot (their timings are printed, never asserted)."""

from __future__ import annotations

import os
import sys

from labkit import ROOT, run


def test_bench_restore_smoke():
    name = os.environ.get('LINUXNET_ITEST_LAB', 'itest') + '-bench'
    proc = run([sys.executable, os.path.join(ROOT, 'bench', 'bench_restore.py'), '--smoke', '--name', name],
               capture_output=True, text=True, check=False, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'flush-to-restored, best' in proc.stdout and 'namespaces back after the reboot: yes' in proc.stdout, proc.stdout
