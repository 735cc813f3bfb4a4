"""Per-patient views of a comparison: extent, classification report, slide maps.

The methods of :class:`ComparisonResult` that read the patients (and the patch
positions given to :func:`compare_models` as ``coords``) live here, with the
pure functions behind them.
"""

import warnings

import numpy as np
from sklearn.utils import Bunch

from skbreast.model_selection._classification import classification_table
from skbreast.model_selection._compare_checks import scalar
from skbreast.model_selection._format import Table

#: Fewest patches of a patient shown as a slide map in the report.
MIN_MAP_PATCHES = 10


def check_coords(coords, n_samples):
    """Return ``coords`` as an int array of shape (n_samples, 2), or None.

    Examples
    --------
    >>> from skbreast.model_selection._result_patients import check_coords
    >>> check_coords([[0, 50], [100, 50]], 2).shape
    (2, 2)
    """
    if coords is None:
        return None
    coords = np.asarray(coords)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(
            "coords must have shape (n_samples, 2): the (x, y) pixel position of "
            f"every patch; got shape {coords.shape}."
        )
    if len(coords) != n_samples:
        raise ValueError(
            f"coords has {len(coords)} rows for {n_samples} samples: give one "
            "(x, y) position per sample of X."
        )
    if not np.issubdtype(coords.dtype, np.number) or not np.isfinite(coords).all():
        raise ValueError("coords must hold finite numbers (pixel positions).")
    if (coords < 0).any():
        raise ValueError("coords must be non-negative pixel positions.")
    return coords.astype(np.int64)


def _pearson(true_share, predicted_share, confidence_level):
    """Pearson's r of the shares over patients, with its interval and p-value."""
    from scipy.stats import pearsonr

    out = Bunch(
        statistic=np.nan,
        ci_low=np.nan,
        ci_high=np.nan,
        pvalue=np.nan,
        n_patients=len(true_share),
        note="",
    )
    if len(true_share) < 3:
        out.note = "fewer than 3 patients"
    elif np.ptp(true_share) == 0 or np.ptp(predicted_share) == 0:
        which = "true" if np.ptp(true_share) == 0 else "predicted"
        out.note = f"every patient has the same {which} share"
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = pearsonr(true_share, predicted_share)
        out.statistic, out.pvalue = float(res.statistic), float(res.pvalue)
        try:
            ci = res.confidence_interval(confidence_level)
            out.ci_low, out.ci_high = float(ci.low), float(ci.high)
        except (AttributeError, ValueError):  # old SciPy, or too few patients
            out.note = "no interval"
    return out


def extent_rows(pooled, confidence_level=0.95):
    """Return the Table of :meth:`ComparisonResult.patient_extent` of ``pooled``."""
    patients, inverse = np.unique(pooled.groups, return_inverse=True)
    inverse = inverse.ravel()
    n = np.bincount(inverse, minlength=len(patients))
    true_share = np.bincount(inverse, weights=pooled.is_positive) / n
    predicted = np.bincount(inverse, weights=pooled.predicted_positive) / n
    table = Table(
        {
            "patient": [scalar(v) for v in patients],
            "images": [int(v) for v in n],
            "true_share": [float(v) for v in true_share],
            "predicted_share": [float(v) for v in predicted],
        }
    )
    table.correlation = _pearson(true_share, predicted, confidence_level)
    return table


def slide_map_picks(pooled, min_patches=MIN_MAP_PATCHES):
    """Return the best and the worst patient for slide maps, by Brier score.

    Each patient's Brier score is the mean squared error of its pooled
    out-of-fold probabilities; patients with at least ``min_patches`` patches
    and both classes are preferred, then those with enough patches, then all.
    Returns a Bunch ``best``, ``worst`` (patient ids), ``brier`` (``{patient:
    score}``) and ``rule`` (which patients were eligible, in words).
    """
    patients, inverse = np.unique(pooled.groups, return_inverse=True)
    inverse = inverse.ravel()
    n = np.bincount(inverse, minlength=len(patients))
    error = (pooled.y_score - pooled.is_positive) ** 2
    brier = np.bincount(inverse, weights=error, minlength=len(patients)) / n
    positives = np.bincount(inverse, weights=pooled.is_positive, minlength=len(n))
    both = (positives > 0) & (positives < n)
    rule = f"patients with at least {min_patches} patches and both classes"
    eligible = (n >= min_patches) & both
    if not eligible.any():
        rule = f"patients with at least {min_patches} patches"
        eligible = n >= min_patches
    if not eligible.any():
        rule, eligible = "all patients", np.ones(len(n), dtype=bool)
    candidates = np.flatnonzero(eligible)
    order = candidates[np.argsort(brier[candidates], kind="stable")]
    return Bunch(
        best=scalar(patients[order[0]]),
        worst=scalar(patients[order[-1]]),
        brier={scalar(p): float(b) for p, b in zip(patients, brier)},
        rule=rule,
    )


class PatientMethods:
    """The per-patient methods of :class:`ComparisonResult` (a mixin)."""

    def patient_extent(self, name=None, *, confidence_level=0.95):
        """How much of each patient's tissue is positive: true and predicted.

        For each patient the share of its images that are positive and the
        share predicted positive (the pooled out-of-fold predictions, at the
        threshold of :func:`compare_models`), and over patients the Pearson
        correlation of the two: does the model see how much of the slide is
        diseased, not only whether?

        Parameters
        ----------
        name : str, default=None
            The model; may be omitted when there is one.
        confidence_level : float, default=0.95
            Level of the correlation's interval (Fisher's z, from
            :func:`scipy.stats.pearsonr`).

        Returns
        -------
        table : Table
            Columns ``patient``, ``images``, ``true_share`` and
            ``predicted_share``, one row per patient (sorted by id); its
            ``correlation`` attribute is a Bunch of ``statistic`` (Pearson's
            r), ``ci_low``, ``ci_high``, ``pvalue``, ``n_patients`` and
            ``note`` (why r or its interval is NaN: fewer than 3 patients, or
            a constant share).

        Raises
        ------
        ValueError
            If no patients were given to :func:`compare_models`.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skbreast.model_selection import compare_models
        >>> rng = np.random.RandomState(0)
        >>> groups = np.repeat(np.arange(12), 10)
        >>> y = (rng.rand(120) < (groups + 1) / 13).astype(int)
        >>> X = rng.normal(size=(120, 2)) + 2 * y[:, None]
        >>> result = compare_models([LogisticRegression()], X, y, groups=groups,
        ...                         cv=3, random_state=0)
        >>> table = result.patient_extent()
        >>> len(table["patient"]), table["images"][0]
        (12, 10)
        >>> bool(table.correlation.statistic > 0.5)
        True
        """
        name = self._check_name(name)
        if self.groups is None:
            raise ValueError(
                "patient_extent needs patients: pass groups to compare_models."
            )
        with self._timed():
            return extent_rows(self.pooled(name), confidence_level)

    def classification_report(self, name=None):
        """scikit-learn's classification report of the pooled predictions.

        Precision, recall, F1 score and support of every class, with the
        accuracy and the macro and weighted averages, on the pooled
        out-of-fold predictions (see :meth:`pooled`); classes by their labels,
        ``pos_label`` last. The reports of the command line use the same
        table.

        Parameters
        ----------
        name : str, default=None
            The model; may be omitted when there is one.

        Returns
        -------
        table : Table
            Columns ``class``, ``precision``, ``recall``, ``f1_score`` and
            ``support``; rows the two classes, ``accuracy`` (in
            ``f1_score``), ``macro avg`` and ``weighted avg``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from skbreast.model_selection import compare_models
        >>> rng = np.random.RandomState(0)
        >>> y = np.where(np.arange(60) % 2, "idc", "non_idc")
        >>> X = rng.normal(size=(60, 2)) + (y == "idc")[:, None]
        >>> result = compare_models([LogisticRegression()], X, y,
        ...                         groups=np.arange(60) // 3, cv=3,
        ...                         pos_label="idc", random_state=0)
        >>> result.classification_report()["class"]
        ['non_idc', 'idc', 'accuracy', 'macro avg', 'weighted avg']
        """
        pooled = self.pooled(self._check_name(name))
        labels = [self.neg_label, self.pos_label]
        return classification_table(
            pooled.y_true,
            pooled.y_pred,
            labels=labels,
            target_names=[str(v) for v in labels],
        )

    def plot_slide_map(self, patient, name=None, **kwargs):
        """Draw one patient's slide map from the pooled out-of-fold predictions.

        The patches of ``patient`` laid back out at the positions given to
        :func:`compare_models` as ``coords``: the ground truth beside the
        probability of ``pos_label`` that the split's model (which never saw
        this patient) gave each patch, on one colour scale. The report draws
        each model's best and worst patient the same way.

        Parameters
        ----------
        patient : object
            The patient's id, as in ``groups`` (see :meth:`patient_table`).
        name : str, default=None
            The model; may be omitted when there is one.
        **kwargs
            Passed on to :func:`skbreast.plotting.plot_slide_map` (e.g.
            ``patch_size``, ``axes``, ``cmap``).

        Returns
        -------
        fig : matplotlib Figure
            The figure holding the two maps and the colour bar.

        Raises
        ------
        ValueError
            If no patients or no ``coords`` were given to :func:`compare_models`,
            the model gives no probabilities, or ``patient`` is not one of the
            patients.

        See Also
        --------
        skbreast.plotting.plot_slide_map : The plot for any positions and scores.
        """
        from skbreast.plotting import plot_slide_map

        name = self._check_name(name)
        if self.groups is None or self.coords is None:
            raise ValueError(
                "plot_slide_map needs patients and patch positions: pass groups "
                "and coords to compare_models."
            )
        if self.score_kind[name] != "predict_proba":
            raise ValueError(
                f"plot_slide_map needs probabilities, but {name!r} gives "
                f"{self.score_kind[name]} scores."
            )
        pooled = self.pooled(name)
        mine = np.asarray(pooled.groups) == patient
        if not mine.any():
            raise ValueError(
                f"Patient {patient!r} has no pooled prediction; the patients are "
                "listed by patient_table()."
            )
        kwargs.setdefault("title", f"{name}: patient {patient}")
        kwargs.setdefault("label", f"probability of {self.pos_label}")
        return plot_slide_map(
            np.asarray(self.coords)[pooled.index[mine]],
            pooled.y_score[mine],
            pooled.is_positive[mine].astype(int),
            **kwargs,
        )
