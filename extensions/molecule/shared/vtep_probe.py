#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test probe: print, as JSON, what the kernel holds of the VTEP filter table (nft -j, not the module).

Output: {"tables": ["inet foreign", ...], "vtep": null or {"sets": {name: [elements]},
"chains": {name: {type, hook, prio, policy}}, "rules": [{"chain", "comment", "packets", "expr"}],
"members": [[address, vni], ...] (the pairs of source and VNI in the rules' anonymous sets, sorted)}}.
Run on a lab host by Molecule (ansible.builtin.script); with an argument, inside that named namespace.

usage: vtep_probe.py [NETNS]
"""

from __future__ import annotations

import json
import subprocess
import sys

from pyroute2 import netns


def nft(*args):
    proc = subprocess.run(['nft', '-j'] + list(args), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return None
    return [item for item in json.loads(proc.stdout)['nftables'] if 'metainfo' not in item]


def main():
    if len(sys.argv) > 1:
        netns.setns(sys.argv[1], flags=0)
    tables = sorted('%s %s' % (t['table']['family'], t['table']['name']) for t in nft('list', 'tables') or [])
    out = {'tables': tables, 'vtep': None}
    listing = nft('list', 'table', 'inet', 'linuxnet_vtep')
    if listing is not None:
        vtep = {'sets': {}, 'chains': {}, 'rules': [], 'members': []}
        for item in listing:
            kind, body = next(iter(item.items()))
            if kind == 'set':
                vtep['sets'][body['name']] = sorted(body.get('elem', []), key=str)
            elif kind == 'chain':
                vtep['chains'][body['name']] = {k: body.get(k) for k in ('type', 'hook', 'prio', 'policy')}
            elif kind == 'rule':
                counter = next((e['counter'] for e in body['expr'] if 'counter' in e), None)
                vtep['rules'].append({'chain': body['chain'], 'comment': body.get('comment'),
                                      'packets': counter['packets'] if counter else None,
                                      'expr': [e for e in body['expr'] if 'counter' not in e]})
                for match in (e['match'] for e in body['expr'] if 'match' in e and 'concat' in e['match']['left']):
                    vtep['members'].extend(elem['concat'] for elem in match['right'].get('set', []))
        vtep['members'].sort()
        out['vtep'] = vtep
    print(json.dumps(out, sort_keys=True))


if __name__ == '__main__':
    main()
