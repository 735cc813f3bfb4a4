"""The ``skbreast`` console script and the report engine behind it."""

from skbreast.cli.main import main

__all__ = ["main"]
