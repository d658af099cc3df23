# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Kernel errors as messages a user can act on: what failed, on which object, and the fix (private)."""

from __future__ import annotations

import errno
import os
from contextlib import contextmanager

from ansible_collections.linuxnet.container.plugins.module_utils._kernel import pyroute2_root  # noqa: F401  pylint: disable=unused-import

try:
    from pyroute2.netlink.exceptions import NetlinkError
except ImportError:  # pragma: no cover - exercised by the missing-library test

    class NetlinkError(Exception):  # type: ignore[no-redef]
        """Stand-in so ``except NetlinkError`` stays valid without pyroute2."""

        code = 0


class LinuxnetError(Exception):
    """An error the user can act on: what failed, on which object, and how to fix it."""

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details


# errno -> (what it means, what to do). Messages name the object; the hint names the fix.
_ERRNO_HINTS = {
    errno.EPERM: ('operation not permitted',
                  'managing network objects needs CAP_NET_ADMIN: run the task as root (become: true)'),
    errno.EACCES: ('permission denied',
                   'run the task as root (become: true)'),
    errno.EEXIST: ('already exists',
                   'another object already uses that name or address: pick another one or remove the existing object'),
    errno.ENODEV: ('no such device',
                   'the interface does not exist (it vanished or was never created): check the name and its namespace'),
    errno.ENOENT: ('not found',
                   'the object does not exist: check its name and namespace'),
    errno.EOPNOTSUPP: ('not supported by this kernel',
                       'the kernel lacks this link kind or feature: load its module (modprobe) or use a kernel that has it'),
    errno.ERANGE: ('value out of range',
                   'a numeric value (MTU, VNI, ID) is outside what the kernel accepts for this object'),
    errno.EINVAL: ('invalid argument',
                   'the kernel rejected a value: check addresses, prefix lengths, MTU and names'),
    errno.EBUSY: ('device or resource busy',
                  'the object is in use (enslaved, or held by another process): release it first'),
    errno.EADDRNOTAVAIL: ('address not available',
                          'the address is not configured on that interface'),
    errno.ENETUNREACH: ('network unreachable',
                        'the gateway is not on a connected subnet of that interface: add the address first'),
    errno.ENOSPC: ('no space left',
                   'a kernel table is full (too many entries): raise the limit or remove unused objects'),
}


def explain(err, obj, action):
    """Turn a NetlinkError/OSError into a message naming the object and the fix."""
    code = getattr(err, 'code', None) or getattr(err, 'errno', None) or 0
    meaning, hint = _ERRNO_HINTS.get(code, (os.strerror(code) if code else str(err), None))
    msg = '%s: cannot %s: %s (errno %s)' % (obj, action, meaning, code)
    if hint:
        msg += '. Fix: ' + hint
    return msg


@contextmanager
def netlink_errors(obj, action):
    """Re-raise kernel errors inside the block as LinuxnetError with a hint."""
    try:
        yield
    except LinuxnetError:
        raise
    except (NetlinkError, OSError) as err:
        raise LinuxnetError(explain(err, obj, action), errno=getattr(err, 'code', None) or getattr(err, 'errno', None))


def is_gone(err):
    """True for the errors a delete raises when the object is already gone."""
    code = getattr(err, 'code', None) or getattr(err, 'errno', None)
    return code in (errno.ENODEV, errno.ENOENT, errno.ESRCH)
