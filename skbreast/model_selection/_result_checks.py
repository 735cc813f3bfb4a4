"""The shortcut checks of a comparison: trivial baselines and the colour check."""

from sklearn.utils import Bunch


class ShortcutChecksMixin:
    """Shortcut checks of :class:`ComparisonResult`: baselines and colour.

    A mixin of :class:`~skbreast.model_selection.ComparisonResult`, in a module of
    its own so that each part of the result stays readable; it reads the
    result's predictions, folds and cache and adds no state.
    """

    def _shortcut(self, confidence_level, n_resamples):
        from skbreast.model_selection._shortcuts import (
            shortcut_rows,
            shortcut_sentence,
        )

        key = ("shortcut", confidence_level, n_resamples)
        if key not in self._cache:
            if not self.baselines:
                raise ValueError(
                    "The comparison ran no baselines: pass baselines=True to "
                    "compare_models."
                )
            with self._timed():
                table = shortcut_rows(self, confidence_level, n_resamples)
                warning = shortcut_sentence(table, external=self.external is not None)
            self._cache[key] = Bunch(table=table, warning=warning)
        return self._cache[key]

    def shortcut_check(self, *, confidence_level=0.95, n_resamples=2000):
        """Whether a trivial baseline does as well as the models, per baseline.

        A baseline *fires* when it separates the classes itself (the lower
        end of its ROC AUC interval is above 0.5) and either reaches the best
        model's pooled ROC AUC within the comparison's uncertainty (the paired
        bootstrap interval of ``best − baseline``, resampling patients, includes
        0 or lies below it; the corrected t-test's interval when the bootstrap
        has none) or reaches 0.85 on its own (pooled, or as the mean over
        folds). The best model is the one with the highest pooled ROC AUC.

        Parameters
        ----------
        confidence_level : float, default=0.95
            Level of the intervals.
        n_resamples : int, default=2000
            Bootstrap resamples (the same draws as :meth:`summary`).

        Returns
        -------
        table : Table
            One row per baseline: ``baseline``, ``roc_auc_mean`` and
            ``roc_auc_sd`` over folds, the pooled ``roc_auc`` with ``ci_low``
            and ``ci_high``, ``best_model`` and ``best_roc_auc``, the pooled
            ``difference`` best − baseline with ``difference_ci_low`` and
            ``difference_ci_high``, ``fires`` and ``reason`` (in words).

        Raises
        ------
        ValueError
            If :func:`compare_models` ran no baselines.

        See Also
        --------
        shortcut_warning : The verdict in words.

        Examples
        --------
        >>> import warnings
        >>> import numpy as np
        >>> from sklearn.dummy import DummyClassifier
        >>> from skbreast.model_selection import compare_models
        >>> rng = np.random.RandomState(0)
        >>> groups = np.repeat(np.arange(20), 4)
        >>> y = groups % 2
        >>> images = rng.randint(0, 80, (80, 8, 8, 3)).astype(np.uint8)
        >>> images[y == 1, :, :, 0] += 120  # the classes differ in redness only
        >>> with warnings.catch_warnings(record=True):  # the shortcut warning
        ...     result = compare_models([DummyClassifier()], images, y,
        ...                             groups=groups, cv=4, random_state=0,
        ...                             baselines=True)
        >>> check = result.shortcut_check()
        >>> check["baseline"], check["fires"]
        (['colour-histogram', 'thumbnail'], [True, True])
        >>> result.summary().warnings == [result.shortcut_warning]
        True
        """
        return self._shortcut(confidence_level, n_resamples).table

    @property
    def shortcut_warning(self):
        """The shortcut warning in words, or None (95% intervals, 2,000 resamples).

        Set when :meth:`shortcut_check` finds a baseline that does as well as
        the models; None when none does or no baselines were run.
        """
        if not self.baselines:
            return None
        return self._shortcut(0.95, 2000).warning

    def colour_sensitivity(self):
        """Return the colour check: each model's ROC AUC change under colour changes.

        For every fold, the fold's model scored the test images as they are,
        stain-normalised to the training fold's target and under strong HED
        colour jitter (see ``colour_check`` of :func:`compare_models`). A
        model whose mean change of ROC AUC, in either direction, exceeds the
        standard deviation of its ROC AUC over folds (and 0.01) is flagged as
        colour-dependent: its score depends on the stain more than on which
        patients it was tested on.

        Returns
        -------
        table : Table
            One row per model, then per baseline: ``model``, ``role``,
            ``roc_auc_mean``, ``roc_auc_sd`` (the fold-to-fold spread), the
            mean and sd over folds of ``normalised_change`` and
            ``jittered_change`` (variant − original), ``colour_dependent``
            (None where undefined) and ``verdict`` in words.

        Raises
        ------
        ValueError
            If :func:`compare_models` ran without ``colour_check=True``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn.preprocessing import FunctionTransformer
        >>> from skbreast.model_selection import compare_models
        >>> rng = np.random.RandomState(0)
        >>> groups = np.repeat(np.arange(20), 4)
        >>> y = groups % 2
        >>> images = rng.randint(60, 200, (80, 8, 8, 3)).astype(np.uint8)
        >>> images[y == 1, :, :, 0] -= 50  # the classes differ in colour
        >>> mean_colour = FunctionTransformer(lambda X: X.mean(axis=(1, 2)))
        >>> result = compare_models(
        ...     {"colour": make_pipeline(mean_colour, LogisticRegression())},
        ...     images, y, groups=groups, cv=4, random_state=0,
        ...     colour_check=True)
        >>> table = result.colour_sensitivity()
        >>> table["colour_dependent"], table["normalised_change"][0] < -0.5
        ([True], True)
        >>> result.colour_dependent
        {'colour': True}
        """
        if self.colour_scores is None:
            raise ValueError(
                "The comparison ran no colour check: pass colour_check=True to "
                "compare_models."
            )
        from skbreast.model_selection._shortcuts import colour_table

        key = ("colour",)
        if key not in self._cache:
            self._cache[key] = colour_table(self)
        return self._cache[key]

    @property
    def colour_dependent(self):
        """``{model: True, False or None}`` from :meth:`colour_sensitivity`, or None."""
        if self.colour_scores is None:
            return None
        table = self.colour_sensitivity()
        return dict(zip(table["model"], table["colour_dependent"]))
