# The one entry point. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MODEL := models/rhizotomy.tar.gz
SPACY_META := build/spacy/en_rhizotomy/meta.json
SAFETY_MODEL := build/safety/classifier.joblib
TEACHBACK_MODEL := build/teachback/classifier.joblib
RESULTS := results
RASA_PORT ?= 5005
ACTIONS_PORT ?= 5055
CONSOLE_PORT ?= 5080

# Quiet TensorFlow and library deprecation chatter; errors still show.
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONWARNINGS := ignore
export PYTHONPATH := $(CURDIR)
# No telemetry or crash reports leave the machine: this assistant handles patient messages.
export RASA_TELEMETRY_ENABLED := false

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# --- set-up -----------------------------------------------------------------------------

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt scripts/find-python.sh
	@python=$$(scripts/find-python.sh) || exit 1; \
	if [ ! -x $(PY) ]; then echo "==> creating $(VENV) with $$python"; "$$python" -m venv $(VENV); fi
	@echo "==> installing pinned Python packages (first time: about 2 minutes)"
	@$(PY) -m pip install --quiet --upgrade pip==24.3.1 wheel >/dev/null || { echo "error: could not upgrade pip in $(VENV)"; exit 1; }
	@$(PY) -m pip install --quiet --progress-bar off -r requirements.txt -r requirements-dev.txt -c constraints.txt \
		|| { echo "error: pip install failed (see the lines above); nothing else was changed"; exit 1; }
	@touch $@

.PHONY: venv
venv: $(VENV)/.installed ## Create the virtual environment with pinned packages

$(SPACY_META): $(VENV)/.installed content/entity_patterns.yml bot/language/pipeline.py
	@echo "==> building the spaCy pipeline (blank English + lookup lemmatizer + entity ruler)"
	@$(PY) -m bot pipeline build

$(SAFETY_MODEL): $(VENV)/.installed $(SPACY_META) $(wildcard data/safety/train/*.yml data/nlu/*.yml data/nlu/es/*.yml data/teachback/train/*.yml) content/red_flags.yml bot/language/red_flags.py bot/language/matching.py bot/language/safety_model.py bot/language/classifier.py
	@echo "==> training the safety net's learned layer (data/safety/train/)"
	@$(PY) -m bot safety train

.PHONY: safety
safety: $(SAFETY_MODEL) ## Train the safety net's learned layer (when its training data changed)

$(TEACHBACK_MODEL): $(VENV)/.installed $(wildcard data/teachback/train/*.yml) bot/language/teachback_model.py bot/language/classifier.py
	@echo "==> training the teach-back judge's learned layer (data/teachback/train/)"
	@$(PY) -m bot teachback train

.PHONY: teachback
teachback: $(TEACHBACK_MODEL) ## Train the teach-back judge's learned layer (when its training answers changed)

.PHONY: spacy
spacy: $(SPACY_META) ## Build the project's own spaCy pipeline

.PHONY: model
model: $(SPACY_META) $(SAFETY_MODEL) $(TEACHBACK_MODEL) ## Train the Rasa model (skipped when Rasa's fingerprint says nothing changed)
	@echo "==> training the model if data, domain, config or content changed (about 1 minute)"
	@$(BIN)/rasa train --fixed-model-name rhizotomy --quiet 2>&1 | grep -vE "^\s*$$|tensorflow|oneDNN|cuda|cpu_feature|TensorRT|rebuild TensorFlow|xla_computation" || true
	@test -f $(MODEL) || { echo "error: training did not produce $(MODEL)"; exit 1; }

.PHONY: widget
widget: $(VENV)/.installed ## Build the website widget bundle (npm ci + esbuild)
	@scripts/build-widget.sh

# --- run --------------------------------------------------------------------------------

.PHONY: run
run: model widget ## Set up everything and start the action server, the Rasa server and the care-team console
	@scripts/run.sh $(RASA_PORT) $(ACTIONS_PORT) $(CONSOLE_PORT)

.PHONY: console
console: $(VENV)/.installed ## Start only the care-team console (http://127.0.0.1:5080/; accounts: python -m bot staff add)
	@$(PY) -m bot console serve --port $(CONSOLE_PORT)

.PHONY: actions
actions: $(VENV)/.installed ## Start only the action server (127.0.0.1; callers need ACTION_SERVER_TOKEN)
	@$(PY) -m bot actions --port $(ACTIONS_PORT)

# --- quality ----------------------------------------------------------------------------

.PHONY: lint
lint: $(VENV)/.installed ## ruff (lint and format) and mypy, tests included
	@echo "==> ruff"
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check . >/dev/null || { $(BIN)/ruff format --check .; echo "run: .venv/bin/ruff format ."; exit 1; }
	@echo "==> mypy"
	@$(BIN)/mypy

.PHONY: format
format: $(VENV)/.installed ## Format the code (ruff format) and fix what ruff can
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

.PHONY: validate
validate: $(VENV)/.installed ## rasa data validate --fail-on-warnings
	@echo "==> rasa data validate --fail-on-warnings"
	@$(BIN)/rasa data validate --fail-on-warnings --quiet

.PHONY: test
test: ## Set up (venv, models, widget, PostgreSQL, Chromium), then every check: lint, data, pytest, NLU and safety evaluations, test stories
	@scripts/test.sh

.PHONY: evaluate
evaluate: model ## NLU held-out accuracy, red-flag recall and false alarms, teach-back accuracy
	@scripts/evaluate.sh

# --- speed and scale ---------------------------------------------------------------------

.PHONY: bench
bench: model ## Load test (C=20 x N=20, REST and socket.io) against a stock rasa init bot; appends to bench/results.md
	@$(PY) -m bench run $(BENCH_ARGS)

.PHONY: profile
profile: model ## Where one message's time goes (NLU, policies, actions, tracker store)
	@$(PY) -m bench profile --cprofile

.PHONY: scale-test
scale-test: model ## Two Rasa servers + an action server on PostgreSQL and Redis behind nginx (loopback)
	@scripts/scale-test.sh

.PHONY: clean
clean: ## Remove built artefacts (keeps the venv and var/ data)
	rm -rf build models $(RESULTS) .pytest_cache .mypy_cache .ruff_cache widget/dist

.PHONY: transcript
transcript: model ## Record a full patient conversation over REST (docs/conversation.md and the README)
	@$(PY) -m devtools.transcript --out docs/conversation.md --readme README.md --spanish-out docs/conversation.es.md
