# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The roles' argument specs, the code and docs/inventory.md name the same variables and keys, and Ansible's own
argument-spec validation refuses a typo key or a wrong type when a role is used directly, and passes every
inventory of the repository."""

from __future__ import annotations

import ast
import copy
import functools
import glob
import os
import re
import subprocess
import sys
import warnings

import jinja2
import jinja2.nodes
import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.linuxnet.container.plugins.plugin_utils._plan import topology as _topology
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.inventory import inventory_problems

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = ('bridge_network', 'overlay_network', 'prerequisites', 'etcd_cluster')
# The roles that read the inventory's networks and containers (overlay_network through its dependency, bridge_network).
NETWORK_ROLES = ('bridge_network', 'overlay_network')
# Python that reads a host's variables for the network roles (the plan filter of bridge_network, the validation): the
# filters and module_utils; modules get their arguments, not host variables.
PLANNERS = ('plugins/filter/*.py', 'plugins/module_utils/**/*.py', 'plugins/plugin_utils/**/*.py')
# Jinja expressions without braces.
CONDITIONALS = ('when', 'that', 'failed_when', 'changed_when', 'until')
VARIABLE = re.compile(r'^linuxnet_[a-z0-9_]+$')
DOC = os.path.join(ROOT, 'docs', 'inventory.md')
# A documented key: a table row whose first cell is the key's path in backticks, like | `linuxnet_networks[].subnet` |.
DOC_ROW = re.compile(r'^\|\s*`([a-z0-9_.\[\]]+)`\s*\|', re.M)


@functools.lru_cache(maxsize=None)
def _spec_file(role):
    with open(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')) as handle:
        return yaml.safe_load(handle)


def spec(role, entry='main'):
    return copy.deepcopy(_spec_file(role)['argument_specs'][entry]['options'])


def key_paths(options, prefix=''):
    """{'linuxnet_networks', 'linuxnet_networks[].subnet', ...}: every option and suboption of a spec, as a path."""
    paths = set()
    for name, option in options.items():
        path = prefix + name
        paths.add(path)
        if option.get('options'):
            paths |= key_paths(option['options'], path + ('[].' if option.get('type') == 'list' else '.'))
    return paths


def code_key_paths():
    """The same paths for what the code accepts (_topology's key sets)."""
    dns = {key for key, _field in _topology.DNS_KEYS}
    paths = {'linuxnet_networks', 'linuxnet_containers'} | {'linuxnet_' + key for key in dns}
    paths |= {'linuxnet_networks[].' + key for key in _topology.NETWORK_KEYS}
    paths |= {'linuxnet_containers[].' + key for key in _topology.CONTAINER_KEYS}
    paths |= {'linuxnet_containers[].networks[].' + key for key in _topology.ENDPOINT_KEYS}
    paths |= {'linuxnet_containers[].ports[].' + key for key in _topology.PUBLISH_KEYS}
    return paths


def _strings(node, key=None):
    """(key, string) of every string of a YAML document."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield from _strings(value, name)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value, key)
    elif isinstance(node, str):
        yield key, node


def _parse(env, key, text):
    """The Jinja tree of one YAML string (a bare expression under when, that, ...)."""
    with warnings.catch_warnings():  # Jinja decodes string literals such as the role's regex '^ii\s+' with escapes
        warnings.simplefilter('ignore', DeprecationWarning)
        return env.parse('{{ %s }}' % text if key in CONDITIONALS else text)


def template_variables(paths):
    """The linuxnet_* variables that the Jinja of these YAML files reads and does not define itself."""
    env = jinja2.Environment()
    found, defined = set(), set()
    for path in paths:
        with open(path) as handle:
            documents = yaml.safe_load(handle)
        for key, text in _strings(documents):
            tree = _parse(env, key, text)
            stored = {node.name for node in tree.find_all(jinja2.nodes.Name) if node.ctx != 'load'}
            found |= {node.name for node in tree.find_all(jinja2.nodes.Name) if node.ctx == 'load'} - stored
        defined |= {name for name, _value in _defined(documents)}
    return {name for name in found - defined if VARIABLE.match(name)}


def _defined(node):
    """(name, value) of what a playbook or vars file defines: vars, registered results, set_fact."""
    if isinstance(node, list):
        for item in node:
            yield from _defined(item)
    elif isinstance(node, dict):
        for key in ('vars', 'ansible.builtin.set_fact', 'set_fact'):
            if isinstance(node.get(key), dict):
                yield from node[key].items()
        if isinstance(node.get('register'), str):
            yield node['register'], None
        for key in ('tasks', 'pre_tasks', 'post_tasks', 'block', 'rescue', 'always'):
            yield from _defined(node.get(key))


def python_host_variables():
    """The linuxnet_* variables the planners read from a host's variables: hv.get('linuxnet_x'), and
    read_dns(..., prefix='linuxnet_'), which reads linuxnet_ + each DNS key."""
    found = set()
    for path in sorted(path for pattern in PLANNERS for path in glob.glob(os.path.join(ROOT, pattern))):
        with open(path) as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Attribute) and node.func.attr == 'get' and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and VARIABLE.match(arg.value):
                    found.add(arg.value)
            for keyword in node.keywords:
                if keyword.arg == 'prefix' and isinstance(keyword.value, ast.Constant) and keyword.value.value == 'linuxnet_':
                    found |= {'linuxnet_' + key for key, _field in _topology.DNS_KEYS}
    return found


def role_files(role):
    return sorted(glob.glob(os.path.join(ROOT, 'roles', role, '*', '*.yml')))


def role_variables(role):
    """Every linuxnet_* variable a role reads: its own YAML, its dependencies' and, for the network roles, the planners'."""
    found = template_variables(path for path in role_files(role) if '/meta/' not in path)
    if role in NETWORK_ROLES:
        found |= python_host_variables()
    with open(os.path.join(ROOT, 'roles', role, 'meta', 'main.yml')) as handle:
        for dependency in yaml.safe_load(handle).get('dependencies') or []:
            found |= role_variables(dependency['role'].rsplit('.', 1)[-1])
    return found


def published_results():
    """The linuxnet_* results a role of the collection sets for the roles that run after it (set_fact), for example
    linuxnet_prerequisites_record: read by a later role, they are not its inputs."""
    found = set()
    for role in ROLES:
        for path in role_files(role):
            with open(path) as handle:
                found |= {name for name, _value in _defined(yaml.safe_load(handle)) if VARIABLE.match(name)}
    return found


def playbook_variables():
    """The linuxnet_* variables the playbooks read that no role spec has (they belong to the playbooks)."""
    found = template_variables(glob.glob(os.path.join(ROOT, 'playbooks', '*.yml')))
    return found - set().union(*(spec(role) for role in ROLES))


def documented_paths():
    with open(DOC) as handle:
        return DOC_ROW.findall(handle.read())


# ---- the specs, the code and the docs name the same keys -----------------------------------------------------------


@pytest.mark.parametrize('role', NETWORK_ROLES)
def test_spec_keys_are_the_keys_the_code_accepts(role):
    options = spec(role)
    paths = key_paths(options)
    code = code_key_paths()
    assert code - paths == set(), 'in the code (_topology.py) but not in the spec of %s' % role
    assert {p for p in paths if p.startswith(('linuxnet_networks', 'linuxnet_containers'))} - code == set(), \
        'in the spec of %s but not in the code (_topology.py)' % role
    # Each mixed list (names or dicts, strings or dicts) is raw, with the dict form's keys as suboptions.
    containers = options['linuxnet_containers']['options']
    assert containers['networks']['elements'] == containers['ports']['elements'] == 'raw'
    assert options['linuxnet_networks']['elements'] == options['linuxnet_containers']['elements'] == 'dict'


def test_overlay_network_takes_the_options_of_bridge_network():
    """overlay_network runs bridge_network first with the same variables: the two specs must not drift apart."""
    assert spec('overlay_network') == spec('bridge_network')


@pytest.mark.parametrize('role', ROLES)
def test_spec_names_every_variable_the_role_reads(role):
    used = role_variables(role) - published_results()
    options = set(spec(role))
    assert used - options == set(), 'read by %s but not in its spec' % role
    assert options - used == set(), 'in the spec of %s but read nowhere' % role


# overlay_network has no task of its own (its dependency, bridge_network, converges everything), and its spec is
# bridge_network's (test_overlay_network_takes_the_options_of_bridge_network).
@pytest.mark.parametrize('role', [role for role in ROLES if role != 'overlay_network'])
def test_spec_defaults_are_the_defaults_of_the_code(role):
    """Every literal default the role's Jinja gives a variable (| default(...)) is the spec's default."""
    options = spec(role)
    env = jinja2.Environment()
    checked = 0
    for path in role_files(role):
        if '/meta/' in path:
            continue
        with open(path) as handle:
            strings = list(_strings(yaml.safe_load(handle)))
        for key, text in strings:
            tree = _parse(env, key, text)
            for node in tree.find_all(jinja2.nodes.Filter):
                if node.name != 'default' or not isinstance(node.node, jinja2.nodes.Name) or not node.args:
                    continue
                name = node.node.name
                if not VARIABLE.match(name) or not isinstance(node.args[0], (jinja2.nodes.Const, jinja2.nodes.List)):
                    continue
                assert name in options, name
                # A list that may be null or empty has no default in the spec (null must pass): the code's is [].
                default = options[name].get('default', [] if options[name]['type'] == 'list' else None)
                assert default == node.args[0].as_const(), \
                    '%s: %s defaults to %r in the code' % (role, name, node.args[0].as_const())
                checked += 1
    assert checked, 'no literal default found in %s: the test reads nothing' % role


def test_docs_name_every_variable_and_key():
    """docs/inventory.md documents each variable of every role and playbook and each key, as a table row."""
    rows = documented_paths()
    assert len(rows) == len(set(rows)), 'documented twice: %s' % sorted({r for r in rows if rows.count(r) > 1})
    expected = code_key_paths() | playbook_variables()
    for role in ROLES:
        expected |= key_paths(spec(role))
    assert expected - set(rows) == set(), 'not in docs/inventory.md'
    assert set(rows) - expected == set(), 'in docs/inventory.md but neither in the code nor in a spec'


def test_docs_stay_inside_the_collection():
    with open(DOC) as handle:
        text = handle.read()
    assert not re.search(r'SPEC\.md|SEEDS\.md|\.\./shared|\]\(\.\./', text)
    for role in ROLES:
        with open(os.path.join(ROOT, 'roles', role, 'meta', 'argument_specs.yml')) as handle:
            assert not re.search(r'SPEC\.md|SEEDS\.md|\.\./shared', handle.read()), role


# ---- every inventory of the repository passes the specs ------------------------------------------------------------


def _validate(options, values):
    """Error messages of Ansible's role argument-spec validation (what validate_argument_spec does)."""
    provided = {name: value for name, value in values.items() if name in options}
    return ArgumentSpecValidator(options).validate(provided, validate_role_argument_spec=True).error_messages


def _linuxnet_mappings(node, where):
    """(where, {variable: value}) of every mapping that sets linuxnet_* variables, templated values left out."""
    if isinstance(node, dict):
        found = {k: v for k, v in node.items() if isinstance(k, str) and VARIABLE.match(k)
                 and not (isinstance(v, str) and '{{' in v)}
        if found:
            yield where, found
        for key, value in node.items():
            yield from _linuxnet_mappings(value, '%s.%s' % (where, key))
        # The overlay scenario templates linuxnet_containers from these (per host, and per host name in a dict).
        for key in ('__overlay_base', '__overlay_fleet'):
            if key in node:
                fleets = node[key].values() if isinstance(node[key], dict) else [node[key]]
                for containers in fleets:
                    yield '%s.%s' % (where, key), {'linuxnet_containers': containers}
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _linuxnet_mappings(value, '%s[%d]' % (where, index))


def repository_inventories():
    paths = sorted(glob.glob(os.path.join(ROOT, 'playbooks', 'inventories', '**', '*.yml'), recursive=True)
                   + glob.glob(os.path.join(ROOT, 'extensions', 'molecule', '**', '*.yml'), recursive=True))
    for path in paths:
        with open(path) as handle:
            for document in yaml.safe_load_all(handle):
                yield from _linuxnet_mappings(document, os.path.relpath(path, ROOT))


def test_every_inventory_of_the_repository_passes_the_specs():
    checked = []
    for where, values in repository_inventories():
        for role in ROLES:
            assert _validate(spec(role), values) == [], '%s (%s)' % (where, role)
        checked.append(where)
    assert len([w for w in checked if 'linuxnet_containers' in w or 'host_vars' in w]) >= 5, checked


# What the code takes as unset or as a boolean must pass too (an empty YAML value is null).
LENIENT = {
    'linuxnet_networks': [{'name': 'front', 'subnet': '173.20.0.0/16', 'icc': 'no', 'mtu': '1450', 'internal': 'True',
                           'dns': '192.0.2.53', 'publish_allow': None, 'gateway': None, 'ip_range': None},
                          {'name': 'ov', 'driver': 'overlay', 'vni': 300, 'mtu': 1400},
                          {'name': 'mv', 'driver': 'macvlan', 'parent': 'eth0', 'subnet': '198.51.100.0/24'}],
    'linuxnet_containers': [{'name': 'web', 'networks': ['front', {'name': 'ov', 'aliases': None}], 'links': None,
                             'ports': ['8080:80', {'publish': '8443:443', 'allow': []}], 'dns': None},
                            {'name': 'side', 'network_mode': 'container:web', 'networks': None, 'ports': None}],
    'linuxnet_dns': None, 'linuxnet_dns_search': '.', 'linuxnet_dns_options': [], 'linuxnet_publish_allow': None,
    'linuxnet_kill_holders': 'yes', 'linuxnet_persist': 'false', 'linuxnet_state': 'absent',
    'linuxnet_vtep_address': '192.0.2.11',
}


@pytest.mark.parametrize('values', [LENIENT, {'linuxnet_networks': None, 'linuxnet_containers': None}])
def test_what_the_code_accepts_passes_the_specs(values):
    assert inventory_problems({'h1': values}, ['h1']) == []
    for role in NETWORK_ROLES:
        assert _validate(spec(role), values) == []


# ---- Ansible refuses typos and wrong types when a role is used directly ---------------------------------------------

PLAYBOOK = '''---
- name: The role, as a user's playbook includes it
  hosts: all
  connection: local
  gather_facts: false
  roles:
    - role: linuxnet.container.%s
'''
# Each host holds one mistake of a user who runs the role directly (no inventory_problems before it), and the message
# (a regular expression: ansible-core 2.17 names types as <class 'str'>, 2.19 as str).
MISTAKES = {
    'typo-network': ({'linuxnet_networks': [{'name': 'front', 'subnt': '173.20.0.0/16'}]},
                     r'linuxnet_networks\.subnt\. Supported parameters include'),
    'typo-container': ({'linuxnet_containers': [{'name': 'web', 'netwroks': ['front']}]},
                       r'linuxnet_containers\.netwroks\. Supported parameters include'),
    'wrong-type': ({'linuxnet_networks': [{'name': 'ov', 'driver': 'overlay', 'vni': 'many'}]},
                   r"argument 'vni' is of type .*str.* found in 'linuxnet_networks'.* convert to int"),
    'wrong-bool': ({'linuxnet_networks': [{'name': 'front', 'icc': 'maybe'}]},
                   r"argument 'icc' is of type .*str.* found in 'linuxnet_networks'.* convert to bool"),
    'wrong-driver': ({'linuxnet_networks': [{'name': 'front', 'driver': 'ipvlan'}]},
                     r'value of driver must be one of: bridge, overlay, macvlan, got: ipvlan'),
    'wrong-list': ({'linuxnet_containers': {'name': 'web'}},
                   r"argument 'linuxnet_containers' is of type .*dict.* convert to list"),
}


def _run_validation(tmp_path, role, host_vars):
    """ansible-playbook with the role on local hosts, stopped right after the role's argument-spec validation:
    that task is tagged always, the role's own tasks are not, so a tag nothing has runs it alone."""
    inventory = tmp_path / 'inventory'
    (inventory / 'host_vars').mkdir(parents=True)
    (inventory / 'hosts.yml').write_text(yaml.safe_dump({'all': {'hosts': {host: {} for host in host_vars}}}))
    for host, values in host_vars.items():
        (inventory / 'host_vars' / ('%s.yml' % host)).write_text(yaml.safe_dump(values))
    playbook = tmp_path / 'play.yml'
    playbook.write_text(PLAYBOOK % role)
    env = dict(os.environ, ANSIBLE_FORCE_COLOR='0', NO_COLOR='1', ANSIBLE_NOCOLOR='1',
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.build', 'collections'),
               ANSIBLE_CALLBACK_RESULT_FORMAT='json', ANSIBLE_CALLBACK_FORMAT_PRETTY='false',
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', str(inventory),
                           str(playbook), '--tags', 'linuxnet-argument-specs-only', '--check'],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120, check=False)
    return proc, proc.stdout + proc.stderr


def _host_output(output, host):
    """The lines Ansible printed about one host."""
    return '\n'.join(line for line in output.splitlines() if '[%s]' % host in line)


def test_role_used_directly_refuses_typos_and_wrong_types(tmp_path):
    proc, output = _run_validation(tmp_path, 'overlay_network', {host: values for host, (values, _message) in MISTAKES.items()})
    assert proc.returncode != 0, output
    for host, (_values, message) in MISTAKES.items():
        lines = _host_output(output, host)
        assert 'Validation of arguments failed' in lines and re.search(message, lines), (host, message, output)
    assert re.search(r'PLAY RECAP', output) and all(re.search(r'%s\s*:.*failed=1' % h, output) for h in MISTAKES), output


def test_role_used_directly_passes_a_valid_inventory(tmp_path):
    """The lab inventory, as each host sees it, through every role (overlay_network validates bridge_network too)."""
    hosts = {}
    lab = os.path.join(ROOT, 'playbooks', 'inventories', 'lab')
    with open(os.path.join(lab, 'group_vars', 'all', 'networks.yml')) as handle:
        common = yaml.safe_load(handle)
    for path in sorted(glob.glob(os.path.join(lab, 'host_vars', '*.yml'))):
        with open(path) as handle:
            hosts[os.path.basename(path)[:-4]] = dict(common, **yaml.safe_load(handle))
    hosts['lenient'] = LENIENT
    assert len(hosts) >= 4
    proc, output = _run_validation(tmp_path, 'overlay_network', hosts)
    assert proc.returncode == 0, output
    for host in hosts:  # bridge_network's validation and overlay_network's, nothing else
        assert re.search(r'^%s\s*: ok=2 .* failed=0 ' % host, output, re.M), output
    proc, output = _run_validation(tmp_path / 'prerequisites', 'prerequisites',
                                   {'p': {'linuxnet_prerequisites_source': 'offline', 'linuxnet_restore_watch': 'false'}})
    assert proc.returncode == 0 and re.search(r'^p\s*: ok=1 .* failed=0 ', output, re.M), output


def test_prerequisites_refuses_a_wrong_source(tmp_path):
    proc, output = _run_validation(tmp_path, 'prerequisites', {'p': {'linuxnet_prerequisites_source': 'pypi'}})
    assert proc.returncode != 0
    assert 'value of linuxnet_prerequisites_source must be one of: index, offline, got: pypi' in output, output


# An example of docs/inventory.md: a yaml block that begins with "# valid" or "# wrong"; a wrong one is followed by a
# text block with the messages it gets.
DOC_BLOCK = re.compile(r'^```yaml\n# (valid|wrong)\n(.*?)^```\n(?:^```text\n(.*?)^```\n)?', re.M | re.S)


def doc_examples():
    with open(DOC) as handle:
        return DOC_BLOCK.findall(handle.read())


def test_doc_examples_get_the_messages_they_quote():
    """Each valid example passes both checks; each wrong one gets exactly the messages the docs quote for it."""
    examples = doc_examples()
    assert sum(kind == 'wrong' for kind, _yaml, _text in examples) >= 30, 'the examples were not found'
    for kind, text, quoted in examples:
        values = yaml.safe_load(text)
        messages = inventory_problems({'h1': values}, ['h1']) + _validate(spec('bridge_network'), values)
        if kind == 'valid':
            assert messages == [], text
        else:
            assert quoted and set(quoted.splitlines()) <= set(messages), (text, messages)
