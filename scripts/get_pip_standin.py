#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for ansible-test's get-pip bootstrap script, for machines that cannot download it.

ansible-test runs ``python get_pip.py [pip options] pip==X ...`` inside each fresh virtualenv.
This does the same with what every CPython ships: ``ensurepip`` puts a pip into the virtualenv,
then that pip installs the requested packages from the package index. scripts/bootstrap.sh copies
it into ansible-test's cache only when the real download is unreachable.
"""

from __future__ import annotations

import subprocess
import sys

# get-pip.py options that pip install does not know.
_GET_PIP_ONLY = {'--no-setuptools', '--no-wheel'}


def main():
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'])
    args = [arg for arg in sys.argv[1:] if arg not in _GET_PIP_ONLY]
    subprocess.check_call([sys.executable, '-m', 'pip', 'install', '--quiet'] + args)


if __name__ == '__main__':
    main()
