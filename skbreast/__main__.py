"""``python -m skbreast``: the ``skbreast`` console script."""

import sys

from skbreast.cli import main

if __name__ == "__main__":
    sys.exit(main())
