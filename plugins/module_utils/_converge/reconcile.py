# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One read -> plan -> apply flow for every module.

A module subclasses :class:`Reconciler` and writes three things:

* ``read(desired)``: the current state of the objects it manages, as plain
  normalised dicts keyed by object name (never kernel handles);
* ``plan(desired, current)``: a :class:`Plan` of changes, each with a
  description and a callable that performs it, plus the predicted state;
* the callables themselves.

A part can plan purely instead: a function of the desired state, the current state and the facts ``read()``
gathered (plain data) returns the action records (_common/action.py) and the predicted state, and ``plan()`` turns them into
a :class:`Plan` with :meth:`Plan.of_actions` and a dispatcher that applies one action with the handles it is given.
Such a planner is tested with no kernel.

``run()`` does the same thing in check mode and for real, except that only a
real run calls the changes. After a real run the state is read again (all of it, or
only what the plan changed, see ``read_after``) and must equal the prediction: a module never reports success on a state the kernel did
not reach. ``changed``, the diff and the returned state therefore agree between
check mode and a real run.
"""

from __future__ import annotations

import copy

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError


class Change:
    """One step of a plan."""

    __slots__ = ('key', 'description', 'apply', 'phase')

    def __init__(self, key, description, apply, phase=0):
        self.key = key
        self.description = description
        self.apply = apply
        self.phase = phase


class Plan:
    """The ordered changes to go from the current state to the desired one."""

    @classmethod
    def of_actions(cls, actions, apply, warnings=()):
        """The Plan of pure :func:`action` records: each change calls ``apply(action)``."""
        plan = cls()
        for act in actions:
            plan.add(act['key'], act['description'], lambda a=act: apply(a), act.get('phase', 0))
        plan.warnings.extend(warnings)
        return plan

    def __init__(self):
        self.changes = []
        self.warnings = []

    def add(self, key, description, apply, phase=0):
        """One change. ``description`` (None: a step of the change before it, not listed) goes to ``actions``.
        Changes run phase by phase, in the order they were added within a phase: phase 1 runs after every phase-0
        change of every object (e.g. set up links once all are created and their indexes read with one dump)."""
        self.changes.append(Change(key, description, apply, phase))

    def __bool__(self):
        return bool(self.changes)

    @property
    def keys(self):
        seen = {}
        for change in self.changes:
            seen.setdefault(change.key, None)
        return list(seen)


ABSENT = None  # state of an object that does not exist


class Reconciler:
    """Base class: subclasses implement read() and plan()."""

    #: singular noun for messages ("network namespace", "veth pair", ...)
    kind = 'object'

    def __init__(self, module, netlink=None):
        self.module = module
        self.netlink = netlink
        self.check_mode = module.check_mode

    # -- to implement -------------------------------------------------------
    def read(self, desired):
        """Return {key: state-dict or ABSENT} for every key of ``desired`` (and any it prunes)."""
        raise NotImplementedError

    def plan(self, desired, current):
        """Return (Plan, predicted) where predicted is {key: state-dict or ABSENT}."""
        raise NotImplementedError

    def comparable(self, state):
        """The part of a state that must match the prediction after apply (override to drop volatile fields)."""
        return state

    def read_after(self, desired, keys):
        """The state after apply of the objects the plan changed (``keys``), or None to read everything again.

        A subclass that can read a few objects on their own returns {key: state} for ``keys`` (a key it leaves out
        is absent); the other objects keep the state read before, which the plan left as it was. Adding one
        container to a host with hundreds then re-reads one namespace, not all of them.
        """
        return None

    # -- the flow ----------------------------------------------------------
    def run(self, desired):
        current = self.read(desired)
        plan, predicted = self.plan(desired, current)
        if plan and not self.check_mode:
            for change in sorted(plan.changes, key=lambda change: change.phase):
                change.apply()
            if self.netlink is not None:
                self.netlink.flush()  # pipelined writes: their errors surface here at the latest
                self.netlink.invalidate()  # and nothing read before the changes is reused after them
            fresh = self.read_after(desired, plan.keys)
            if fresh is None:
                after = self.read(desired)
            else:
                after = dict(current)
                for key in plan.keys:
                    after[key] = fresh.get(key, ABSENT)
            self._verify(predicted, after, plan)
        else:
            after = predicted
        return self._result(current, after, plan)

    def _verify(self, predicted, after, plan):
        for key in plan.keys:
            want = predicted.get(key, ABSENT)
            have = after.get(key, ABSENT)
            if want is ABSENT or have is ABSENT:
                if (want is ABSENT) != (have is ABSENT):
                    raise LinuxnetError(
                        '%s %s did not converge: expected it %s, the kernel reports it %s. '
                        'Something else changed it during the run; run the task again'
                        % (self.kind, key, 'absent' if want is ABSENT else 'present',
                           'absent' if have is ABSENT else 'present'))
                continue
            want_c, have_c = self.comparable(want), self.comparable(have)
            if want_c != have_c:
                fields = sorted(k for k in set(want_c) | set(have_c) if want_c.get(k) != have_c.get(k))
                raise LinuxnetError(
                    '%s %s did not converge: %s' % (
                        self.kind, key, '; '.join('%s expected %r, kernel reports %r'
                                                  % (f, want_c.get(f), have_c.get(f)) for f in fields)))

    def diff_view(self, before, after):
        """The before/after of one changed object as --diff shows it (override to trim large objects)."""
        return before, after

    def _result(self, before, after, plan):
        diff = {'before': {}, 'after': {}}
        for key in plan.keys:
            old, new = self.diff_view(before.get(key, ABSENT), after.get(key, ABSENT))
            if old is not ABSENT:
                diff['before'][key] = old
            if new is not ABSENT:
                diff['after'][key] = new
        for warning in plan.warnings:
            self.module.warn(warning)
        # A copy, so that the result never shares objects with the reconciler's state; a caller that drops the
        # objects (host_network with return_objects=false) is spared it: at 500 containers it cost 4% of a converge.
        keep = copy.deepcopy if getattr(self.module, 'return_objects', True) else (lambda state: state)
        return {
            'changed': bool(plan),
            'actions': [c.description for c in plan.changes if c.description is not None],
            'before': keep(before),
            'after': keep(after),
            'diff': diff,
        }


class TableReconciler(Reconciler):
    """The reconciler of one nftables table in one namespace (docker_isolation, port_map, vtep_filter); ``commands``
    keeps the transaction a run applied, for the module's result."""

    kind = 'nftables table'

    def __init__(self, module, netlink, ns):
        super().__init__(module, netlink)
        self.ns = ns
        self.commands = []
        self.table = None

    def converge(self, desired):
        """run(), returning (its result without before and after, the state after): the parts report the table's
        state in fields of their own."""
        result = self.run(desired)
        after = result.pop('after')
        result.pop('before')
        return result, after
