"""``python -m convcli``."""

from .cli import main

# Guarded: a local Dask cluster's worker processes (``--scheduler local:N``)
# start by spawning, which imports the main module again under another name.
if __name__ == "__main__":
    main()
