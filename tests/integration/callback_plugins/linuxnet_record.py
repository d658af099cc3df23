# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test callback: append every task result, as one JSON line, to the file in LINUXNET_RECORD."""

from __future__ import annotations

DOCUMENTATION = r'''
name: linuxnet_record
type: aggregate
short_description: Record task results as JSON lines (tests only)
description:
  - Appends host, task name, status and the module result of every task to the file named by the
    environment variable E(LINUXNET_RECORD).
author: linuxnet.container contributors
'''

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'linuxnet_record'
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        path = os.environ.get('LINUXNET_RECORD')
        if not path:
            return
        entry = {'host': result._host.get_name(), 'task': result._task.get_name(), 'status': status,
                 'result': result._result}
        with open(path, 'a') as handle:
            handle.write(json.dumps(entry, default=str) + '\n')

    def v2_runner_on_ok(self, result):
        self._record(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, 'failed')

    def v2_runner_on_unreachable(self, result):
        self._record(result, 'unreachable')
