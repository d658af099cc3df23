# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One part of linuxnet.container.host_network: its arguments validated as its own module would validate them, and
what its reconciler needs of AnsibleModule. Apart from module.py so that the host-local command (apply, read) does
not import AnsibleModule and what comes with it."""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError


class PartModule:
    """What a reconciler needs of AnsibleModule, for one part of linuxnet.container.host_network.

    ``params`` are the part's arguments as its own module would see them (validated, defaults filled in); warnings
    go to the real module with the part's name in front.
    """

    def __init__(self, name, params, check_mode, warn, return_objects=True):
        self.name = name
        self.params = params
        self.check_mode = check_mode
        self._warn = warn
        self.return_objects = return_objects  # false: the caller drops the objects of the result (Reconciler._result)

    def warn(self, warning):
        self._warn('%s: %s' % (self.name, warning))


def validate_part(name, spec, params):
    """A part's arguments checked against its module's spec: (validated parameters, error messages)."""
    spec = dict(spec)
    validator = ArgumentSpecValidator(spec.pop('argument_spec'), **spec)
    result = validator.validate(params)
    messages = [('unsupported parameters: %s' if isinstance(error, UnsupportedError) else '%s') % error
                for error in result.errors]
    return result.validated_parameters, ['%s: %s' % (name, message) for message in messages]
