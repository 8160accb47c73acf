# The team's habits. Every target builds its own virtual environment in .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck format bench fuzz huge parity samples gallery explain-demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The C source of the optional compiled band loop: a change rebuilds it.
NATIVE := setup.py convcli/engine/_fused.c

# Runtime install (what `make demo` needs).
$(VENV)/.installed: pyproject.toml $(NATIVE) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# Development install (tests, lint, and the Dask extra its tests run); implies the runtime one.
$(VENV)/.installed-dev: pyproject.toml $(NATIVE) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,dask]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	rm -rf out
	$(BIN)/convcli apply -k sharpen -p valid --compare --name '{stem}-{kernel}-{padding}.png' sample_images out/
	$(BIN)/convcli apply -k sharpen -p same --name '{stem}-{kernel}-{padding}.png' sample_images out/
	$(BIN)/convcli apply -k blur -p same --name '{stem}-{kernel}-{padding}.png' sample_images out/
	$(BIN)/convcli apply -k outline -p same --size 224 --name '{stem}-{kernel}-224.png' sample_images out/
	$(BIN)/convcli apply -k sobel-x -p valid --json --name '{stem}-{kernel}-{padding}.png' 'sample_images/*.png' out/ > out/sobel-x.json
	@echo "Outputs written to out/ (and a --json report in out/sobel-x.json):"
	@ls out

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# Longer fuzzing than make test's bounded run (tests/test_fuzz.py).
fuzz: $(VENV)/.installed-dev
	CONVCLI_FUZZ_EXAMPLES=$${CONVCLI_FUZZ_EXAMPLES:-3000} $(BIN)/python -m pytest -q tests/test_fuzz.py

# A 10000x10000 image end to end, with its peak memory (about 2.5 GB).
huge: $(VENV)/.installed-dev
	CONVCLI_HUGE=1 $(BIN)/python -m pytest -q -s -m huge tests/test_memory.py

# Benchmark install: the reference engines (SciPy, OpenCV), never runtime dependencies.
# ImageMagick is bench_cli.py's outside anchor, never a dependency: installed here when
# the machine allows it (Debian's apt-get, as root); otherwise its rows say "not installed".
$(VENV)/.installed-bench: pyproject.toml $(NATIVE) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench,dask]'
	@mogrify -version 2>/dev/null | grep -q ImageMagick || { [ "$$(id -u)" = 0 ] \
		&& command -v apt-get >/dev/null && (apt-get install -y -qq imagemagick >/dev/null 2>&1 \
		|| (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq imagemagick >/dev/null 2>&1)); } \
		|| echo "make bench: ImageMagick not installed; its rows will say so"
	touch $(VENV)/.installed $@

# Not part of `make test`: minutes of timing, printed as tables of ratios (bench_layer.py
# compares with TensorFlow when the parity extra is installed: `make parity` installs it).
# OPENBLAS_CORETYPE/L2_SIZE may be set on this workplace to keep old OpenBLAS
# builds correct; they slow a current numpy, so they are unset for timing only.
BENCH_ENV := env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE
bench: $(VENV)/.installed-bench
	$(BENCH_ENV) $(BIN)/python benchmarks/bench_engine.py
	$(BENCH_ENV) $(BIN)/python benchmarks/bench_cli.py
	$(BENCH_ENV) $(BIN)/python benchmarks/bench_layer.py
	@if [ -f benchmarks/bench_batch.py ]; then $(BENCH_ENV) $(BIN)/python benchmarks/bench_batch.py; fi
	$(BENCH_ENV) $(BIN)/python benchmarks/bench_jobs.py
	$(BENCH_ENV) $(BIN)/python benchmarks/bench_dask.py

# TensorFlow itself, to check that convcli computes a Conv2D layer's and pooling's numbers
# (tests/parity/). Not part of `make test`: TensorFlow is a large download.
$(VENV)/.installed-parity: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,dask,parity]'
	touch $(VENV)/.installed $(VENV)/.installed-dev $@

parity: $(VENV)/.installed-parity
	CONVCLI_PARITY=1 TF_CPP_MIN_LOG_LEVEL=2 $(BIN)/python -m pytest -q tests/parity

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The README's picture: every built-in kernel on one sample image.
gallery: $(VENV)/.installed
	mkdir -p docs
	$(BIN)/convcli gallery --overwrite --size 256x192 sample_images/scene.jpg docs/gallery.png
	$(BIN)/python scripts/make_bank.py docs/first-layer.npy
	$(BIN)/convcli gallery --overwrite -k docs/first-layer.npy --activation relu sample_images/scene.jpg docs/first-layer.png

# The README's explain transcript and animation, from sample_images/.
EXPLAIN_AT := --size 224 --at 128,2 sample_images/scene.jpg
explain-demo: $(VENV)/.installed
	mkdir -p docs
	COLUMNS=80 $(BIN)/convcli explain -k sharpen $(EXPLAIN_AT)
	$(BIN)/convcli explain -k sharpen -p same --animate docs/explain.gif --overwrite \
		$(EXPLAIN_AT) > /dev/null

samples: $(VENV)/.installed
	$(BIN)/python scripts/make_samples.py sample_images

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis .ruff_cache build
	rm -f convcli/engine/_fused*.so
