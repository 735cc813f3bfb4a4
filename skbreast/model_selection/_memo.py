"""``memoized``: cache a method's value per arguments, in its instance.

:func:`functools.cached_property` caches what takes no argument; the statistics
of a comparison take a model, a confidence level or a number of resamples, so
each such method keeps its own dict in the instance: it pickles with the result
and goes with it (:func:`functools.lru_cache` on a method would keep every
instance alive).
"""

import functools
import inspect


def memoized(method):
    """Decorate ``method`` to compute once per (normalised) arguments."""
    signature = inspect.signature(method)
    attribute = f"_{method.__name__.lstrip('_')}_memo"

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        key = tuple(bound.arguments.values())[1:]
        memo = self.__dict__.setdefault(attribute, {})
        try:
            return memo[key]
        except KeyError:
            memo[key] = method(self, *args, **kwargs)
            return memo[key]
        except TypeError:
            # An unhashable argument (a list for a metric name): no cache, so
            # that the method's own check raises its own message.
            return method(self, *args, **kwargs)

    return wrapper
