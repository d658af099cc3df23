# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The marked blocks of docs/examples: YAML, each path once, every inventory valid for the controller-side validation."""

from __future__ import annotations

import glob
import os
import re

import pytest
import yaml

from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.inventory import inventory_problems

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MARKED = re.compile(r'<!-- example: (\S+) -->\n```yaml\n(.*?)```', re.S)


def blocks():
    found = []
    for page in sorted(glob.glob(os.path.join(ROOT, 'docs', 'examples', '*.md'))):
        with open(page) as handle:
            found.extend((os.path.basename(page), path, text) for path, text in MARKED.findall(handle.read()))
    return found


def test_every_page_has_a_marked_block_and_paths_are_unique():
    paths = [path for _page, path, _text in blocks()]
    assert len(paths) == len(set(paths)), paths
    pages = {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, 'docs', 'examples', 's[1-8]-*.md'))}
    assert len(pages) == 8 and pages <= {page for page, _path, _text in blocks()}
    assert 'converge.yml' in paths


@pytest.mark.parametrize('page,path,text', [b for b in blocks() if b[1].endswith('/inventory.yml')])
def test_example_inventory_is_valid(page, path, text):
    data = yaml.safe_load(text)['all']
    common = data.get('vars') or {}
    hostvars = {host: dict(common, **(hv or {})) for host, hv in data['hosts'].items()}
    assert inventory_problems(hostvars, list(hostvars)) == [], (page, path)


@pytest.mark.parametrize('page,path,text', [b for b in blocks() if not b[1].endswith('/inventory.yml')])
def test_example_playbook_is_a_list_of_plays(page, path, text):
    plays = yaml.safe_load(text)
    assert isinstance(plays, list) and all('name' in play for play in plays), (page, path)
