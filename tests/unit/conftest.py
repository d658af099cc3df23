# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.linuxnet.container`` importable when pytest runs from the checkout."""

from __future__ import annotations

import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_COLLECTIONS = os.path.join(_ROOT, '.build', 'collections')
_MARKER = os.path.join('ansible_collections', 'linuxnet', 'container')

if _MARKER not in _ROOT and os.path.isdir(os.path.join(_COLLECTIONS, _MARKER)) and _COLLECTIONS not in sys.path:
    sys.path.insert(0, _COLLECTIONS)
