# Two commands on a fresh Debian machine with only Python: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test fuzz hunt-files debian-packages bench clean

# setup.py builds the exporter's C reader (a compiler and Python's headers: build-packages.txt,
# installed first when missing); a changed source is built again
$(STAMP): pyproject.toml setup.py exporters/snmp/_ber.c build-packages.txt
	bash scripts/install-debian-packages.sh build-packages.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

debian-packages:
	bash scripts/install-debian-packages.sh debian-packages.txt

## demo: load the Gelsenkirchen inventory into the embedded SQLite database and summarise it
demo: $(STAMP)
	$(BIN)/netops db upgrade
	$(BIN)/netops inventory seed
	$(BIN)/netops inventory stats
	$(BIN)/netops report --out out/netops-report.html

## test: install what the tests need (Debian packages included) and run them all
test: $(STAMP) debian-packages
	$(BIN)/python -m pytest --hypothesis-profile=ci

## fuzz: hunt with fresh random seeds (not part of `make test`); FUZZ_ROUNDS=N repeats the hunt
FUZZ_ROUNDS ?= 1
fuzz: $(STAMP)
	for round in $$(seq $(FUZZ_ROUNDS)); do \
	  $(BIN)/python -m pytest -m hypothesis --hypothesis-profile=hunt --hypothesis-show-statistics -q || exit 1; \
	done

## hunt-files: every path a user gives, fed awkward paths and contents, as the installed netops (not part of `make test`)
HUNT_JOBS ?= 2
hunt-files: $(STAMP)
	$(BIN)/python -m tests.hunt_paths --jobs $(HUNT_JOBS)

clean:
	rm -rf $(VENV) .pytest_cache
