# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The O(expect) option of the modules that need namespaces or bridges an earlier task creates."""

    DOCUMENTATION = r'''
options:
  expect:
    description:
      - Check mode only. Namespaces and bridges that an earlier task of the same run creates, so that check mode
        predicts this task as the real run will do it, after the earlier tasks. In check mode
        M(linuxnet.container.netns) and M(linuxnet.container.bridge) only predict what they would create, so
        without it a task that needs their namespaces or bridges fails with "does not exist".
      - In check mode, a listed namespace that does not exist is read as an empty namespace (no links, addresses
        or routes), so everything in it is predicted as created; it is never created nor opened. A listed link
        that does not exist is read as an existing, empty bridge with the kernel's defaults (up, MTU 1500, no
        ports), so it validates as a master; its index is a placeholder.
      - Listed objects that exist are read from the kernel as usual. What is not listed is read as it is.
      - Ignored outside check mode; a real run still fails on a missing namespace or bridge. The entries are
        validated in both modes.
      - Two names of one namespace that do not exist yet (see O(linuxnet.container.netns#module:share)) count as two
        namespaces here.
    type: dict
    suboptions:
      namespaces:
        description:
          - Network namespaces an earlier task of this run creates, in the forms the module's namespace options
            take (a name as C(ip netns) uses, an absolute path of a namespace file, or C(pid:N)).
        type: list
        elements: str
      links:
        description:
          - Bridges an earlier task of this run creates (like M(linuxnet.container.bridge) with the same names).
        type: list
        elements: dict
        suboptions:
          name:
            description: Name of the bridge, like C(docker0) or C(br0).
            type: str
            required: true
          namespace:
            description:
              - Network namespace of the bridge, in the same forms as O(expect.namespaces). Omitted, the namespace
                the module runs in (the host's).
            type: str
          addresses:
            description:
              - Addresses (with prefix) the earlier task gives the bridge. Their connected routes count when this
                task looks up which link a destination leaves through (M(linuxnet.container.port_map) sets
                C(route_localnet) on the bridges that lead to published containers).
            type: list
            elements: str
'''
