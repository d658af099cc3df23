# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters that read the collection's inventory contract on the controller."""

from __future__ import annotations

from ansible_collections.linuxnet.container.plugins.module_utils._inventory import (
    inventory_problems,
    namespaces_for,
)


def _inventory_problems(hostvars, hosts):
    return inventory_problems(hostvars, list(hosts))


def _container_namespaces(containers):
    return [{'name': name} for name in namespaces_for(containers)]


class FilterModule:
    """linuxnet.container filters."""

    def filters(self):
        return {
            'inventory_problems': _inventory_problems,
            'container_namespaces': _container_namespaces,
        }
