# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One step of a pure plan, as plain data (pure): what the parts' planners and the kernel layer's link-attribute
planner (_kernel/links.py) return, and what _converge/reconcile.Plan.of_actions turns into a Plan. It lives below
both, so that the kernel layer does not import the converge layer."""

from __future__ import annotations


def action(kind, key, description, phase=0, **fields):
    """One step of a pure plan, as plain data: what to do (``kind``), to which object (``key``), what ``actions``
    shows (``description``; None: a step of the action before it, not listed), when (``phase``, see Plan.add), and
    the fields the dispatcher that applies it needs (namespace, link name, index, attributes to set, ...)."""
    out = {'kind': kind, 'key': key, 'description': description, 'phase': phase}
    out.update(fields)
    return out
