"""The figures of a comparison: ROC curves and reliability diagrams."""


class ResultPlotsMixin:
    """Figures of :class:`ComparisonResult`: ROC curves and calibration.

    A mixin of :class:`~skbreast.model_selection.ComparisonResult`, in a module of
    its own so that each part of the result stays readable; it reads the
    result's predictions, folds and cache and adds no state.
    """

    def plot_roc(self, ax=None):
        """Plot every model's ROC curves: per fold, and their mean with a band.

        Folds with one class (no ROC curve) are left out.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a figure.

        Returns
        -------
        ax : matplotlib Axes

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skbreast.model_selection import compare_models
        >>> rng = np.random.RandomState(0)
        >>> y = np.arange(40) % 2
        >>> X = rng.normal(size=(40, 2)) + y[:, None]
        >>> result = compare_models([LogisticRegression()], X, y,
        ...                         groups=np.arange(40) // 2, cv=4, random_state=0)
        >>> ax = result.plot_roc()
        >>> len(ax.get_lines())  # 4 folds, their mean, and the chance line
        6
        """
        from skbreast.plotting import plot_roc_comparison

        folds = {}
        for name in self.names:
            p = self.predictions[name]
            pairs = []
            for k in range(self.n_splits):
                mine = p["split"] == k
                positive = p["y_true"][mine] == self.pos_label
                if 0 < positive.sum() < len(positive):
                    pairs.append((positive, p["y_score"][mine]))
            if pairs:
                folds[name] = pairs
        if not folds:
            raise ValueError("No split has both classes in its test set: no ROC curve.")
        ax = plot_roc_comparison(folds, pos_label=True, ax=ax)
        ax.set_title(
            f"ROC curves of {self.n_splits} splits (thin) and their mean (±1 sd)"
        )
        return ax

    def plot_calibration(self, ax=None, *, n_bins=10, strategy="uniform"):
        """Plot a reliability diagram of every model with probabilities.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a figure with a histogram of the
            probabilities below.
        n_bins : int, default=10
            Bins of the diagram (and of the ECE in the legend).
        strategy : {"uniform", "quantile"}, default="uniform"
            Equal-width or equal-mass bins.

        Returns
        -------
        ax : matplotlib Axes
            The reliability diagram.

        Raises
        ------
        ValueError
            If no model has ``predict_proba``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skbreast.model_selection import compare_models
        >>> rng = np.random.RandomState(0)
        >>> y = np.arange(40) % 2
        >>> X = rng.normal(size=(40, 2)) + y[:, None]
        >>> result = compare_models([LogisticRegression()], X, y,
        ...                         groups=np.arange(40) // 2, cv=4, random_state=0)
        >>> ax = result.plot_calibration()
        >>> ax.get_xlabel()
        'Mean predicted probability of 1'
        """
        from skbreast.model_selection._plots import plot_reliability

        curves = {}
        skipped = []
        with self._timed():
            from skbreast.model_selection._calibration import calibration_summary

            for name in self.names:
                if self.score_kind[name] != "predict_proba":
                    skipped.append(name)
                    continue
                p = self.pooled(name)
                curves[name] = (
                    calibration_summary(
                        p.is_positive,
                        p.y_score,
                        n_bins=n_bins,
                        strategy=strategy,
                        pos_label=True,
                    ),
                    p.y_score,
                )
        if not curves:
            raise ValueError(
                "No model has predict_proba: a reliability diagram needs probabilities."
            )
        return plot_reliability(curves, skipped, self.pos_label, ax=ax)
