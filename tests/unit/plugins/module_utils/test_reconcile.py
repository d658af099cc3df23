# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The read -> plan -> apply flow, on an in-memory 'kernel'."""

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT, Plan, Reconciler


class FakeModule:
    def __init__(self, check_mode):
        self.check_mode = check_mode
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


class DictReconciler(Reconciler):
    """Objects are {name: {'mtu': int}} in a dict that plays the kernel."""

    kind = 'thing'

    def __init__(self, module, kernel, sabotage=False):
        super().__init__(module)
        self.kernel = kernel
        self.sabotage = sabotage
        self.reads = 0

    def read(self, desired):
        self.reads += 1
        return {k: (dict(self.kernel[k]) if k in self.kernel else ABSENT) for k in desired}

    def plan(self, desired, current):
        plan, predicted = Plan(), {}
        for key, want in desired.items():
            have = current[key]
            if want is ABSENT:
                predicted[key] = ABSENT
                if have is not ABSENT:
                    plan.add(key, 'delete %s' % key, lambda k=key: self.kernel.pop(k))
                continue
            predicted[key] = dict(want)
            if have != want:
                plan.add(key, 'set %s' % key, lambda k=key, w=want: self._set(k, w))
        return plan, predicted

    def _set(self, key, want):
        self.kernel[key] = dict(want, mtu=want['mtu'] - 1) if self.sabotage else dict(want)


def test_check_mode_changes_nothing_and_predicts_real():
    kernel = {'a': {'mtu': 1500}, 'gone': {'mtu': 1}}
    desired = {'a': {'mtu': 1450}, 'b': {'mtu': 9000}, 'gone': ABSENT}
    check = DictReconciler(FakeModule(True), kernel).run(desired)
    assert kernel == {'a': {'mtu': 1500}, 'gone': {'mtu': 1}}
    real = DictReconciler(FakeModule(False), kernel).run(desired)
    assert kernel == {'a': {'mtu': 1450}, 'b': {'mtu': 9000}}
    for key in ('changed', 'actions', 'after', 'diff'):
        assert check[key] == real[key], key
    assert real['diff'] == {'before': {'a': {'mtu': 1500}, 'gone': {'mtu': 1}},
                            'after': {'a': {'mtu': 1450}, 'b': {'mtu': 9000}}}


def test_second_run_changes_nothing_and_reads_once():
    kernel = {'a': {'mtu': 1450}}
    rec = DictReconciler(FakeModule(False), kernel)
    result = rec.run({'a': {'mtu': 1450}})
    assert result['changed'] is False
    assert result['actions'] == []
    assert rec.reads == 1  # no re-read when nothing was applied


def test_a_state_the_kernel_did_not_reach_fails():
    kernel = {}
    with pytest.raises(LinuxnetError, match='thing a did not converge: mtu expected 1450, kernel reports 1449'):
        DictReconciler(FakeModule(False), kernel, sabotage=True).run({'a': {'mtu': 1450}})


def test_warnings_reach_the_module():
    module = FakeModule(True)

    class Warns(DictReconciler):
        def plan(self, desired, current):
            plan, predicted = super().plan(desired, current)
            plan.warnings.append('careful')
            return plan, predicted

    Warns(module, {}).run({'a': {'mtu': 1}})
    assert module.warnings == ['careful']


class PartialReconciler(DictReconciler):
    """Re-reads after apply only the objects the plan changed (read_after)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read_keys = []

    def read(self, desired):
        self.read_keys.append(sorted(desired))
        return super().read(desired)

    def read_after(self, desired, keys):
        return self.read({k: desired[k] for k in keys})


def test_read_after_reads_only_what_the_plan_changed_and_keeps_the_rest():
    kernel = {'k%03d' % n: {'mtu': 1500} for n in range(100)}
    kernel['gone'] = {'mtu': 1}
    desired = {key: {'mtu': 1500} for key in kernel if key != 'gone'}
    desired.update({'k007': {'mtu': 1450}, 'new': {'mtu': 9000}, 'gone': ABSENT})
    rec = PartialReconciler(FakeModule(False), kernel)
    result = rec.run(desired)
    assert rec.read_keys == [sorted(desired), ['gone', 'k007', 'new']]
    assert result['after']['k007'] == {'mtu': 1450} and result['after']['new'] == {'mtu': 9000}
    assert result['after']['gone'] is ABSENT and result['after']['k050'] == {'mtu': 1500}
    assert result['diff']['after'] == {'k007': {'mtu': 1450}, 'new': {'mtu': 9000}}


def test_read_after_still_catches_a_state_the_kernel_did_not_reach():
    kernel = {'a': {'mtu': 1500}, 'b': {'mtu': 1500}}
    with pytest.raises(LinuxnetError, match='thing b did not converge: mtu expected 1450, kernel reports 1449'):
        PartialReconciler(FakeModule(False), kernel, sabotage=True).run({'a': {'mtu': 1500}, 'b': {'mtu': 1450}})


def test_an_object_read_after_leaves_out_counts_as_absent():
    class Forgetful(PartialReconciler):
        def read_after(self, desired, keys):
            return {}

    with pytest.raises(LinuxnetError, match='thing a did not converge: expected it present, the kernel reports it absent'):
        Forgetful(FakeModule(False), {}).run({'a': {'mtu': 1500}})
