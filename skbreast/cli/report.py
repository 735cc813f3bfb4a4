"""Write a benchmark's comparison as report.html, report.md, metrics.json and CSVs.

The report is :meth:`skbreast.model_selection.ComparisonResult.write_report`; the
command adds its run information and Grad-CAM heat maps over the worst-scored
images of models that support them.
"""


def gradcam_heatmaps(estimator, images):
    """Grad-CAM maps of ``images`` by a fitted skbreast ``estimator``.

    Raises (and the report notes it) for models Grad-CAM cannot explain, or on a
    Keras backend other than TensorFlow.
    """
    from skbreast.inspection import gradcam

    return gradcam(estimator, images)


def write_report(result, out, *, X, meta, random_state=None):
    """Write the report files into ``out``; return the path of report.html.

    Parameters
    ----------
    result : ComparisonResult
        From :func:`skbreast.model_selection.compare_models` (with
        ``return_estimator=True`` for Grad-CAM).
    out : path-like
        Output folder, created if missing.
    X : ndarray
        The images compared (for the thumbnails of the worst-scored images).
    meta : dict
        ``command``, ``versions``, ``data`` (a summary dict), ``warnings`` (list of
        str), ``settings`` (dict), ``params``, ``protocol`` and ``timing``, added to
        the reports.
    random_state : int or None
        The run's random state.
    """
    return result.write_report(
        out, X=X, explain=gradcam_heatmaps, meta={**meta, "random_state": random_state}
    )
