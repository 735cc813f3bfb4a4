"""The package version, in a module of its own so that anything may import it.

Persistence and the command line record it without importing the package's
``__init__``, and the build reads it from here (``pyproject.toml``).
"""

__version__ = "0.1.0.dev0"
