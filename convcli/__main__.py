"""``python -m convcli``."""

from .cli import main

main()
