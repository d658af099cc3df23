# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the integration tests."""

from __future__ import annotations

import os

import pytest

from labkit import Lab


@pytest.fixture(scope='session')
def lab2():
    """A two-host lab shared by the tests of a session (named by LINUXNET_ITEST_LAB, default itest, so that runs
    beside another lab on the same machine do not collide). Under pytest-xdist every worker is a session of its
    own, with a lab of its own: its name ends with the worker's id."""
    name = os.environ.get('LINUXNET_ITEST_LAB', 'itest')
    worker = os.environ.get('PYTEST_XDIST_WORKER')
    running = Lab(name + '-' + worker if worker else name, 2)
    yield running
    if not os.environ.get('LINUXNET_ITEST_KEEP'):  # kept up for the next run, while a test is being written
        running.down()
