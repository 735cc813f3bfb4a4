"""What ``skbreast benchmark`` cross-validates: the splits and the metrics.

The work is done by :func:`skbreast.model_selection.compare_models`; this module maps
the command's options to its arguments, so that the command and a notebook run the
same comparison. Its metrics are those ``compare_models`` reports by default:
every metric of the registry, :func:`skbreast.metrics.get_metric_names`.
"""

from skbreast.cli.common import CLIError

#: Timings reported per model beside the metrics.
TIME_METRICS = ("fit_time", "predict_time")
#: The published protocol of the BreakHis paper (Spanhol et al., 2016).
SPANHOL = {"n_splits": 5, "test_size": 0.3}
PROTOCOLS = ("kfold", "spanhol")


def make_cv(protocol, n_splits, n_repeats, groups, random_state):
    """Return ``(cv, n_repeats)`` for :func:`~skbreast.model_selection.compare_models`.

    ``"kfold"``: ``n_splits`` folds (stratified, by patient when patients are
    known), repeated ``n_repeats`` times. ``"spanhol"``: five random
    patient-disjoint 70/30 trials; it needs patients.
    """
    from skbreast.model_selection import PatientShuffleSplit

    if protocol == "spanhol":
        if groups is None:
            raise CLIError(
                "--protocol spanhol splits by patient, and this data has no patient "
                "ids: use a layout with patients (BreakHis, IDC) or --protocol kfold."
            )
        return PatientShuffleSplit(**SPANHOL, random_state=random_state), 1
    return n_splits, n_repeats


def run_comparison(
    estimators,
    X,
    y,
    groups,
    *,
    protocol,
    cv,
    n_repeats,
    random_state,
    n_jobs,
    baselines=True,
    colour_check=True,
    test=None,
    coords=None,
    pos_label=None,
):
    """Cross-validate ``estimators`` for the benchmark; return the result.

    ``baselines`` and ``colour_check`` are the shortcut checks of
    :func:`~skbreast.model_selection.compare_models`; ``test`` is ``None`` or an
    external test set ``(X_test, y_test, groups_test)``; ``coords`` the slide
    position of every patch (IDC), for the report's slide maps; ``pos_label``
    the positive class (None: the greater label).
    """
    from skbreast.model_selection import compare_models

    splitter, n_repeats = make_cv(protocol, cv, n_repeats, groups, random_state)
    X_test, y_test, groups_test = (None, None, None) if test is None else test
    return compare_models(
        estimators,
        X,
        y,
        groups=groups,
        cv=splitter,
        n_repeats=n_repeats,
        random_state=random_state,
        n_jobs=n_jobs,
        return_estimator=True,
        baselines=baselines,
        colour_check=colour_check,
        X_test=X_test,
        y_test=y_test,
        groups_test=groups_test,
        coords=coords,
        pos_label=pos_label,
        verbose=1,
    )
