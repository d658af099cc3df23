# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/docker-to-inventory.md has a row for every key the validation accepts, every network mode and driver."""

from __future__ import annotations

import os
import re

import pytest

from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.topology import (
    CONTAINER_KEYS,
    DRIVERS,
    ENDPOINT_KEYS,
    NETWORK_KEYS,
    PUBLISH_KEYS,
)

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'docs', 'docker-to-inventory.md')


def rows():
    """The inventory column of every table row: what the page says users write."""
    with open(DOC) as handle:
        return [line.split('|')[2] for line in handle if line.startswith('| ') and line.count('|') >= 4]


@pytest.mark.parametrize('key', sorted(NETWORK_KEYS | CONTAINER_KEYS | ENDPOINT_KEYS | PUBLISH_KEYS))
def test_every_key_has_a_row(key):
    assert any(re.search(r'[`{ ,]%s:' % re.escape(key), column) or '`%s`' % key in column for column in rows()), key


@pytest.mark.parametrize('value', ['network_mode: host', 'network_mode: none', 'network_mode: "container:', 'network_mode: bridge']
                         + ['driver: %s' % driver for driver in DRIVERS])
def test_every_mode_and_driver_has_a_row(value):
    assert any(value in column for column in rows()), value
