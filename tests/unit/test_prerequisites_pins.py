# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The prerequisites role installs on the hosts exactly the versions the project pins and tests with."""

from __future__ import annotations

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pins(path):
    with open(os.path.join(ROOT, path)) as handle:
        return dict(re.findall(r'^([A-Za-z0-9_.-]+)==(\S+)', handle.read(), flags=re.M))


def test_role_pins_match_requirements():
    with open(os.path.join(ROOT, 'roles', 'prerequisites', 'vars', 'main.yml')) as handle:
        role_vars = yaml.safe_load(handle)
    role = dict(pin.split('==') for pin in role_vars['__prerequisites_python_requirements'])
    project = pins('requirements.txt')
    assert set(role) == {'pyroute2', 'netaddr'}
    assert {name: project[name] for name in role} == role


def test_module_looks_where_the_role_installs():
    with open(os.path.join(ROOT, 'roles', 'prerequisites', 'vars', 'main.yml')) as handle:
        role_vars = yaml.safe_load(handle)
    from ansible_collections.linuxnet.container.plugins.module_utils._converge import module as _module
    assert _module.COLLECTION_PYTHON == role_vars['__prerequisites_venv'] + '/bin/python'
