# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The attributes every module of the collection shares; each module adds its own check_mode and diff_mode."""

    # The modules that converge kernel state.
    DOCUMENTATION = r'''
attributes:
  idempotent:
    support: full
    description: A second run with the same arguments reports no change and writes nothing (no netlink or nftables write).
  platform:
    support: full
    platforms: posix
    description: Linux only.
'''

    # linuxnet.container.network_info: reads only.
    INFO = r'''
attributes:
  idempotent:
    support: full
    description: It never changes anything and always reports C(changed=false).
  platform:
    support: full
    platforms: posix
    description: Linux only.
'''
