"""The estimator classes that :func:`skbreast.load` may rebuild, by name.

Classes join with :func:`skbreast._persistence.register` when they are defined, so
persistence learns them without importing the estimator modules: the estimators
import persistence, never the other way round.
"""

_CLASSES = {}


def add(cls):
    """Record ``cls`` under its name; a second class of the same name is refused."""
    known = _CLASSES.get(cls.__name__)
    if known is not None and known is not cls:
        raise ValueError(
            f"An estimator class named {cls.__name__!r} is registered already "
            f"({known.__module__}.{known.__qualname__}): file names classes by name."
        )
    _CLASSES[cls.__name__] = cls


def registered_classes():
    """Return ``{name: class}`` of every registered estimator class."""
    return dict(_CLASSES)
