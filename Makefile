# RadioMatch - developer and CI entry points.
#
#   make setup    apt packages (only those missing) + the test venv .venv (only when
#                 requirements-test.txt changed); quick when already done
#   make test     the whole test suite under pytest-qgis, headless
#   make demo     both algorithms through qgis_process on demo/data -> demo/output
#   make package  dist/radiomatch-<version>.zip for "Install from ZIP" / plugins.qgis.org
#   make translations  pylupdate5 (update i18n/*.ts from the plugin sources), then lrelease
#   make lint     pyflakes over the plugin, tests, demo and scripts
#   make quality  the correctness benchmark: known-truth cases scored, table into README.md
#   make clean    remove the venv, dist/, build/, demo/output and caches
#
# Everything Python runs on Debian's /usr/bin/python3 (the one that can import qgis) or
# on .venv, created from it with --system-site-packages. Never on the python3 first on PATH.

SHELL := /bin/bash
.DEFAULT_GOAL := help

SYSTEM_PYTHON := /usr/bin/python3
VENV          := .venv
VENV_PYTHON   := $(VENV)/bin/python
VENV_STAMP    := $(VENV)/.requirements-test.stamp

APT_PACKAGES := qgis python3-qgis qgis-providers python3-rasterio python3-scipy \
                python3-distributed python3-venv python3-pytest python3-pyflakes \
                pyqt5-dev-tools qttools5-dev-tools

# Run apt as root directly (CI), through sudo otherwise.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

LINT_PATHS := $(wildcard __init__.py plugin.py algorithms core test demo scripts)

# Translations: the plugin's Qt-side sources (core/ never imports Qt), the .ts files under
# i18n/ (committed) and the compiled .qm files next to them (built, ignored by git).
I18N_SOURCES := __init__.py plugin.py $(sort $(wildcard algorithms/*.py))
TS_FILES     := $(wildcard i18n/*.ts)
QM_FILES     := $(TS_FILES:.ts=.qm)
PYLUPDATE    := pylupdate5
LRELEASE     := lrelease

PYTEST_ARGS ?=

.PHONY: help setup apt-packages test demo package lint clean bench quality translations qm

help:
	@sed -n '3,12p' Makefile | sed 's/^# \{0,1\}//'

setup: apt-packages $(VENV_STAMP)

# Install only what is missing: a dpkg-query per package, no apt-get when all are there.
apt-packages:
	@missing=""; \
	for pkg in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' "$$pkg" 2>/dev/null | grep -q '^install ok installed$$' \
	    || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing apt packages:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $(SUDO) apt-get update -q && \
	  $(SUDO) apt-get install -y -q --no-install-recommends $$missing </dev/null; \
	else \
	  echo "setup: apt packages present"; \
	fi

# The venv sees Debian's qgis, rasterio, scipy and pytest; pip adds only pytest-qgis.
$(VENV_PYTHON): | apt-packages
	$(SYSTEM_PYTHON) -m venv --system-site-packages $(VENV)

$(VENV_STAMP): requirements-test.txt | $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install --disable-pip-version-check -q -r requirements-test.txt
	$(VENV_PYTHON) -c "import qgis.core, rasterio, scipy, distributed, pytest, pytest_qgis"
	@touch $@
	@echo "setup: $(VENV) ready"

test: setup qm
	QT_QPA_PLATFORM=offscreen $(VENV_PYTHON) -m pytest test -p no:cacheprovider $(PYTEST_ARGS)

demo: setup
	bash demo/run_demo.sh

package:
	$(SYSTEM_PYTHON) scripts/package.py

# pylupdate5 keeps the existing translations, adds new source strings as unfinished and
# (-noobsolete) drops the ones no longer in the code; translate the new ones in i18n/*.ts.
translations: apt-packages
	$(PYLUPDATE) -noobsolete $(I18N_SOURCES) -ts i18n/radiomatch_fr.ts
	$(MAKE) qm

qm: $(QM_FILES)

i18n/%.qm: i18n/%.ts
	$(LRELEASE) -silent $< -qm $@

# Speed and memory benchmark (generates its data under test/bench/work, writes
# test/bench/results.json); e.g. make bench BENCH_ARGS="--size 2048 --count 9".
bench: apt-packages
	$(SYSTEM_PYTHON) test/bench/run.py $(BENCH_ARGS)

# Correctness benchmark against a known truth (generates its data under test/quality/work,
# writes test/quality/results.json and the table in README.md); e.g.
# make quality QUALITY_ARGS="--cases cloud --no-readme".
quality: apt-packages
	$(SYSTEM_PYTHON) test/quality/run.py $(QUALITY_ARGS)

lint: setup
	$(SYSTEM_PYTHON) -m pyflakes $(LINT_PATHS)

clean:
	rm -rf $(VENV) dist build demo/output .pytest_cache
	rm -f i18n/*.qm
	rm -f demo/data/*.aux.xml
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
