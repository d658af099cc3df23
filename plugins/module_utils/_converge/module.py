# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The boundary every module's main() goes through: library check, one try/except, one exit."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.common.respawn import has_respawned, probe_interpreters_for_module
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.netlink import (
    HAS_PYROUTE2,
    Netlink,
    PYROUTE2_IMPORT_ERROR,
    PYROUTE2_REQUIREMENT,
)

# Where the linuxnet.container.prerequisites role installs pyroute2 (a virtualenv of the collection's own), and
# interpreters worth trying after it when the one Ansible picked lacks the library (distribution packages).
COLLECTION_PYTHON = '/opt/linuxnet-container/venv/bin/python'
_SYSTEM_PYTHONS = ['/usr/bin/python3', '/usr/libexec/platform-python', '/usr/bin/python']


def _respawn_payload():
    try:
        from ansible.module_utils._internal._ansiballz import _respawn  # ansible-core 2.19 and later
        return _respawn.create_payload()
    except ImportError:
        from ansible.module_utils.common.respawn import _create_payload  # ansible-core 2.17 and 2.18
        return _create_payload()


def respawn_module(interpreter):
    """Run this module again under ``interpreter`` and exit with its status, as ansible's respawn_module does.

    Not ansible's own: it writes the whole payload (the module's arguments with it) into a pipe before it starts
    the new interpreter, and blocks forever once that is more than a pipe holds (64 KiB, a host_network call for
    about a hundred containers). Here the child reads it while it is written.
    """
    status = subprocess.run([interpreter, '--'], input=to_bytes(_respawn_payload()), check=False).returncode
    sys.exit(status)  # pylint: disable=ansible-bad-function


def ensure_pyroute2(module):
    """Fail with what to install (or re-run under the collection's virtualenv, or a system Python, that has it)."""
    if HAS_PYROUTE2:
        return
    if not has_respawned():
        if os.access(COLLECTION_PYTHON, os.X_OK):
            respawn_module(COLLECTION_PYTHON)  # does not return
        interpreter = probe_interpreters_for_module(_SYSTEM_PYTHONS, 'pyroute2')
        if interpreter:
            respawn_module(interpreter)  # does not return
    module.fail_json(
        msg=missing_required_lib(PYROUTE2_REQUIREMENT,
                                 reason='to talk netlink to the kernel. Fix: run the linuxnet.container.prerequisites '
                                        'role on this host (playbooks/site.yml does), which installs it in %s; or '
                                        'pip install "%s" into the Python that ansible_python_interpreter names'
                                        % (COLLECTION_PYTHON.rsplit('/bin/', 1)[0], PYROUTE2_REQUIREMENT)),
        exception=PYROUTE2_IMPORT_ERROR)


def run_module(module, body):
    """Run ``body(netlink)`` and exit with its result dict, turning LinuxnetError into fail_json."""
    ensure_pyroute2(module)
    # At hundreds of containers the cyclic collector's passes over the decoded netlink messages (pyroute2's
    # attributes point back at their message) took 40% of a run that changes nothing, and freed next to nothing
    # (max RSS ~100 MB either way at 500). Rarer passes, none over the imports: the same speed as no collector,
    # and memory stays bounded on hosts with thousands.
    gc.freeze()
    gc.set_threshold(50000, 50, 1000)
    try:
        with Netlink() as netlink:
            result = body(netlink)
    except LinuxnetError as err:
        module.fail_json(msg=err.msg, **{k: v for k, v in err.details.items() if v is not None})
    except Exception as err:  # pylint: disable=broad-except
        module.fail_json(msg='unexpected error: %s: %s' % (type(err).__name__, err),
                         exception=traceback.format_exc())
    module.exit_json(**result)


def run_impl(impl):
    """main() of a module whose code lives in module_utils/_parts/<module>.py, so that host_network can run it too.

    ``impl.module_spec()`` returns the module's AnsibleModule keyword arguments; ``impl.run(module, netlink)`` does
    one run and returns the result. ``module`` needs only ``params``, ``check_mode`` and ``warn()``.
    """
    module = AnsibleModule(supports_check_mode=True, **impl.module_spec())
    run_module(module, lambda netlink: impl.run(module, netlink))
