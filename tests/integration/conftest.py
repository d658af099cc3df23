# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the integration tests."""

from __future__ import annotations

import pytest

from labkit import Lab


@pytest.fixture(scope='session')
def lab2():
    """A two-host lab shared by the tests of a session."""
    running = Lab('itest', 2)
    yield running
    running.down()
