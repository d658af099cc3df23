# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""pyroute2's package root, loaded on first use of one of its own names (private).

``import pyroute2`` runs the package's ``__init__``, which imports every protocol the library has (NDB, IPDB,
conntrack, ethtool, WireGuard, nl80211, ...): 110-120 ms of a lab host's CPU in every module call, twice per host
and run, for code the collection never calls. The collection imports what it uses from the submodules that define
it (``pyroute2.iproute.linux``, ``pyroute2.netlink...``), and importing this module first registers the package as
a module whose ``__init__`` runs only when a name of the root itself is asked for (PEP 562): a submodule imported
through the root (``from pyroute2 import netns``) loads alone, and any other name (``pyroute2.IPRoute``) loads the
whole root as before. Where pyroute2 is imported already, or is missing, nothing is done (the importers report a
missing library).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

PACKAGE = 'pyroute2'


def _lazy_root():
    if PACKAGE in sys.modules:
        return
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        return
    root = importlib.util.module_from_spec(spec)

    def __getattr__(name):  # pylint: disable=invalid-name
        if name.startswith('__'):
            raise AttributeError(name)
        if importlib.util.find_spec('%s.%s' % (PACKAGE, name)) is not None:
            return importlib.import_module('%s.%s' % (PACKAGE, name))
        # A name of the root: run its __init__ now, into this same module object, once.
        del root.__getattr__
        spec.loader.exec_module(root)
        try:
            return root.__dict__[name]
        except KeyError:
            raise AttributeError("module %r has no attribute %r" % (PACKAGE, name)) from None

    root.__getattr__ = __getattr__
    sys.modules[PACKAGE] = root


_lazy_root()
