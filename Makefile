# linuxnet.container — the two commands of the README, and their parts.
#   make lab        install what is needed, start the lab, converge playbooks/site.yml, show the result
#   make lab-down   stop the lab (removes every namespace, process, link, mount and file it made)
#   make test       every test: unit, sanity, lint, docs, build, integration, Molecule scenarios
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV        ?= .venv
BIN         := $(CURDIR)/$(VENV)/bin
PY          := $(BIN)/python
LAB_NAME    ?= lab
LAB_HOSTS   ?= 3
BUILD       := $(CURDIR)/.build
SANITY_ROOT := $(BUILD)/sanity/ansible_collections/linuxnet/container

export PATH := $(BIN):$(PATH)
# Every target follows LAB_NAME: the shipped lab inventory reads the lab's ssh config from it.
export LINUXNET_LAB_NAME := $(LAB_NAME)
export ANSIBLE_COLLECTIONS_PATH := $(BUILD)/collections
export ANSIBLE_FORCE_COLOR := 0
export NO_COLOR := 1
export PYTHONDONTWRITEBYTECODE := 1
# The lab suites run side by side on two CPUs: a loaded lab host may answer ssh late, or its control master may break.
# Ansible then retries the connection, and waits 30 s (not 10) for a host's banner.
export ANSIBLE_SSH_RETRIES ?= 3
export ANSIBLE_TIMEOUT ?= 30

.PHONY: help deps lab lab-up lab-down lab-show inspect test units lint sanity docs build lab-suites integration molecule constraints clean

help:
	@sed -n '2,5p' Makefile | sed 's/^# *//'

deps:
	@bash scripts/bootstrap.sh

# ---- the lab: the embedded default --------------------------------------------------------
lab: deps lab-up
	ansible-playbook -i playbooks/inventories/lab playbooks/site.yml
	@echo; echo "==== Networks, containers, addresses and published ports (docker network inspect, read from the kernels) ===="
	@$(MAKE) --no-print-directory inspect
	@echo; echo "==== What the lab hosts hold now (read from their kernels) ===="
	@$(PY) lab/lab.py show --name $(LAB_NAME)

inspect:
	@ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_DISPLAY_OK_HOSTS=true \
	  ansible-playbook -i playbooks/inventories/lab playbooks/inspect.yml -e linuxnet_topology_path=$(BUILD)/topology.svg \
	  | sed -n '/^ok: .* => *$$/,/^$$/p'

lab-up: deps
	$(PY) lab/lab.py up --name $(LAB_NAME) --hosts $(LAB_HOSTS)

lab-down:
	@if [ -x $(PY) ]; then $(PY) lab/lab.py down --name $(LAB_NAME); else python3 lab/lab.py down --name $(LAB_NAME); fi

lab-show:
	$(PY) lab/lab.py show --name $(LAB_NAME)

# ---- tests ---------------------------------------------------------------------------------
# The static checks (lint, sanity, docs) are CPU work; the lab suites mostly wait on lab hosts: they run side by side.
test: deps units build
	@rm -f $(BUILD)/static.log $(BUILD)/static.rc $(BUILD)/integration.log $(BUILD)/molecule.d/summary
	@( rc=0; $(MAKE) --no-print-directory lint sanity docs > $(BUILD)/static.log 2>&1 || rc=$$?; echo $$rc > $(BUILD)/static.rc ) & \
	  lrc=0; $(MAKE) --no-print-directory lab-suites || lrc=$$?; wait; \
	  echo "==== ansible-lint, ansible-test sanity, ansible-doc (ran beside the lab suites): $(BUILD)/static.log ===="; \
	  cat $(BUILD)/static.log; src=$$(cat $(BUILD)/static.rc); \
	  echo "==== summary: what failed, if anything (full logs above) ===="; \
	  grep -E '^(FAILED|ERROR) |(passed|failed|errors?) in [0-9]' $(BUILD)/integration.log 2>/dev/null | cut -c1-300 || true; \
	  cat $(BUILD)/molecule.d/summary 2>/dev/null || true; \
	  echo "lab suites exit $$lrc, lint/sanity/docs exit $$src"; [ "$$lrc" = 0 ] && [ "$$src" = 0 ]
	@echo "make test: all suites passed"

# The integration tests and the Molecule scenarios boot labs of their own names, so they run side by side: Molecule's
# output is kept in .build/molecule.log and printed when both are done.
lab-suites: build
	@rm -f $(BUILD)/molecule.log $(BUILD)/molecule.rc
	@( rc=0; $(MAKE) --no-print-directory molecule > $(BUILD)/molecule.log 2>&1 || rc=$$?; echo $$rc > $(BUILD)/molecule.rc ) & \
	  irc=0; $(MAKE) --no-print-directory integration || irc=$$?; wait; \
	  echo "==== Molecule scenarios (ran beside the integration tests): $(BUILD)/molecule.log ===="; \
	  cat $(BUILD)/molecule.log; mrc=$$(cat $(BUILD)/molecule.rc); \
	  echo "integration exit $$irc, molecule exit $$mrc"; [ "$$irc" = 0 ] && [ "$$mrc" = 0 ]

units:
	$(PY) -m pytest -q tests/unit

lint:
	ansible-lint --profile production --strict

sanity:
	@bash scripts/bootstrap.sh --sanity
	rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_ROOT)
	rsync -a --exclude-from=scripts/sanity-exclude.txt ./ $(SANITY_ROOT)/
	cd $(SANITY_ROOT) && git init -q && git add -A && \
	  ansible-test sanity --python 3.11 --color no --requirements

docs:
	@for m in $$(ls plugins/modules/*.py | xargs -n1 basename | sed 's/\.py$$//'); do \
	  ansible-doc linuxnet.container.$$m > /dev/null || { echo "ansible-doc failed for $$m"; exit 1; }; \
	  echo "ansible-doc linuxnet.container.$$m: ok"; done
	@for r in $$(ls roles 2>/dev/null); do \
	  ansible-doc -t role linuxnet.container.$$r > /dev/null || { echo "ansible-doc failed for role $$r"; exit 1; }; \
	  echo "ansible-doc -t role linuxnet.container.$$r: ok"; done

build:
	rm -rf $(BUILD)/dist && mkdir -p $(BUILD)/dist
	ansible-galaxy collection build --output-path $(BUILD)/dist --force .

# The test files run side by side (pytest-xdist, whole files per worker): each worker boots labs of its own,
# and most of a test's time is spent waiting on lab hosts, so three workers fit two CPUs.
ITEST_WORKERS ?= 3
# Its output is also kept in .build/integration.log: `make test` ends with the lines that name what failed.
integration: build
	$(PY) -m pytest -q -n $(ITEST_WORKERS) --dist loadfile --durations=40 tests/integration 2>&1 | tee $(BUILD)/integration.log

# The scenarios boot labs of their own names (mol-SCENARIO), so they run side by side too: MOLECULE_WORKERS at a time,
# longest first, each into a log of its own (.build/molecule.d), all printed when they are done.
MOLECULE_WORKERS ?= 2
MOLECULE_ORDER   := vtep veth_bridge vxlan macvlan overlay isolation default ports bridge_network
molecule:
	@rm -rf $(BUILD)/molecule.d && mkdir -p $(BUILD)/molecule.d
	@scenarios="$(MOLECULE_ORDER) $$(ls extensions/molecule/*/molecule.yml | xargs -n1 dirname | xargs -n1 basename)"; \
	  scenarios=$$(echo $$scenarios | tr ' ' '\n' | awk '!seen[$$0]++ && system("test -f extensions/molecule/" $$0 "/molecule.yml") == 0'); \
	  rc=0; echo "$$scenarios" | xargs -P $(MOLECULE_WORKERS) -I{} sh -c \
	    'start=$$(date +%s); if molecule test -s {} > $(BUILD)/molecule.d/{}.log 2>&1; then r=passed; else r=FAILED; fi; \
	     echo "molecule scenario {}: $$r in $$(( $$(date +%s) - start )) s" | tee -a $(BUILD)/molecule.d/summary; [ $$r = passed ]' || rc=$$?; \
	  for s in $$scenarios; do echo "==== molecule scenario $$s ===="; cat $(BUILD)/molecule.d/$$s.log; done; \
	  echo "==== molecule scenarios, $(MOLECULE_WORKERS) at a time ===="; cat $(BUILD)/molecule.d/summary; exit $$rc

constraints:
	$(PY) -m pip freeze | grep -v '^-e' | sed '1i # Full pinned set, from pip freeze of requirements-dev.txt on Python 3.11 (regenerate with: make constraints)' > constraints.txt

clean: lab-down
	rm -rf $(BUILD)
