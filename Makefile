# The team's habits. Every target builds its own virtual environment in .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint format bench samples gallery clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Runtime install (what `make demo` needs).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# Development install (tests, lint); implies the runtime one.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	rm -rf out && mkdir -p out/valid out/same
	$(BIN)/convcli apply -k sharpen --compare sample_images/scene.jpg out/sharpen-valid.png
	$(BIN)/convcli apply -k sharpen --padding same sample_images/scene.jpg out/sharpen-same.png
	$(BIN)/convcli apply -k outline --padding same --size 224 sample_images/checkerboard.png out/outline-224.png
	$(BIN)/convcli apply -k blur --padding same sample_images/shapes.png out/blur-shapes.png
	@echo "Outputs written to out/"

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The README's picture: every built-in kernel on one sample image.
gallery: $(VENV)/.installed
	mkdir -p docs
	$(BIN)/convcli gallery --overwrite --size 256x192 sample_images/scene.jpg docs/gallery.png

samples: $(VENV)/.installed
	$(BIN)/python scripts/make_samples.py sample_images

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis .ruff_cache
