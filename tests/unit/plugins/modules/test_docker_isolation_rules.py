# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker_isolation: the forward chain's rules: the mark for host firewalls (docs/host-firewalls.md), published ports
across networks; no kernel needed."""

from __future__ import annotations

import os
import re

from ansible_collections.linuxnet.container.plugins.module_utils._parts import docker_isolation as iso

DOCS = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'docs', 'host-firewalls.md')


def forward_rules():
    return [(rule_id, expr) for chain, rule_id, expr in iso.RULES if chain == 'forward']


def test_the_mark_comes_before_every_verdict():
    ids = [rule_id for rule_id, _expr in forward_rules()]
    # An accept in the user chain ends the chain: what it accepts must carry the mark already.
    assert ids[:2] == ['mark-in', 'mark-out'] and ids[2] == 'user'
    for rule_id, expr in forward_rules()[:2]:
        keys = [next(iter(e)) for e in expr]
        assert keys == ['match', 'mangle'], rule_id  # no verdict: the packet goes on through the chain
        assert expr[0]['match']['right'] == '@bridges'


def test_the_mark_keeps_the_other_bits():
    mangle = forward_rules()[0][1][1]['mangle']
    assert mangle['key'] == {'meta': {'key': 'mark'}}
    assert mangle['value'] == {'|': [{'meta': {'key': 'mark'}}, 0x10000000]}
    assert iso.FORWARD_MARK == 0x10000000
    assert {r[1][0]['match']['left']['meta']['key'] for r in forward_rules()[:2]} == {'iifname', 'oifname'}


def test_the_docs_accept_the_bit_the_chain_sets():
    with open(DOCS) as handle:
        text = handle.read()
    lines = re.findall(r'<!-- tested: nftables forward -->\n```nft\n(.*?)\n```', text)
    assert lines == ['meta mark & %#x == %#x accept' % (iso.FORWARD_MARK, iso.FORWARD_MARK)]
    assert '--mark %#x/%#x' % (iso.FORWARD_MARK, iso.FORWARD_MARK) in text
    # The chain runs before a host firewall's filter-priority chains.
    assert iso.CHAINS['forward']['prio'] < 0


def test_published_ports_pass_isolation_but_not_internal_or_icc():
    ids = [rule_id for rule_id, _expr in forward_rules()]
    # Internal networks and icc=false are dropped before; isolation between networks comes after.
    assert ids.index('icc') < ids.index('published') and ids.index('internal-in') < ids.index('published')
    assert ids.index('published') == ids.index('isolation') - 1
    expr = dict(forward_rules())['published']
    assert {'match': {'op': 'in', 'left': {'ct': {'key': 'status'}}, 'right': 'dnat'}} in expr
    assert [e['match']['right'] for e in expr if 'match' in e][:2] == ['@bridges', '@bridges'] and expr[-1] == {'accept': None}
