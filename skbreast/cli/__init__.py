"""The ``skbreast`` console script.

One module per command: :mod:`~skbreast.cli.train`, :mod:`~skbreast.cli.predict`,
:mod:`~skbreast.cli.evaluate`, :mod:`~skbreast.cli.info`,
:mod:`~skbreast.cli.export` and :mod:`~skbreast.cli.benchmark`; the shared parts
(:mod:`~skbreast.cli.common`, :mod:`~skbreast.cli.data`,
:mod:`~skbreast.cli.estimators`), the benchmark's engine (:mod:`~skbreast.cli.engine`)
and its report writer (:mod:`~skbreast.cli.report`). A thin face over the public
Python API.
"""

from skbreast.cli.main import main

__all__ = ["main"]
