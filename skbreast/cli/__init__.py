"""The ``skbreast`` console script and the report engine behind it.

One module per command (:mod:`~skbreast.cli.benchmark`), the shared parts
(:mod:`~skbreast.cli.common`, :mod:`~skbreast.cli.data`,
:mod:`~skbreast.cli.estimators`), the cross-validation engine
(:mod:`~skbreast.cli.engine`) and the report writer (:mod:`~skbreast.cli.report`).
A thin face over the public Python API.
"""

from skbreast.cli.main import main

__all__ = ["main"]
