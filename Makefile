# Every target creates/refreshes the local virtualenv first, so each works on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
EXTRAS ?= gcp,btlm,train,dev

.PHONY: venv test demo bench lint fixtures clean

$(STAMP): setup.cfg pyproject.toml setup.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

# The fixtures hold ~100 documents: the demo holds out 10 % (SlimPajama: 0.17 %) so that the
# validation/test split and decontamination have something to show.
demo: $(STAMP)
	$(VENV)/bin/slimpajama dedup --input fixtures/rp --output demo-out/sp --overwrite
	$(VENV)/bin/slimpajama mix --input demo-out/sp --mixture slimpajama-627b --output demo-out/mix --holdout 0.1 --overwrite
	$(VENV)/bin/slimpajama tokenize --input demo-out/mix --output demo-out/tok --overwrite
	$(VENV)/bin/slimpajama train-smoke demo-out/tok --steps 50

bench: $(STAMP)
	$(PY) -m slimpajama.bench all

lint: $(STAMP)
	$(VENV)/bin/ruff check slimpajama tests pipelines fixtures

fixtures: $(STAMP)
	$(PY) fixtures/generate.py

clean:
	rm -rf $(VENV) demo-out build *.egg-info
