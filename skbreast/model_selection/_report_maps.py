"""The slide maps of the comparison report: each model's best and worst patient.

With the patch positions given to :func:`compare_models` (``coords``) and
patients, every model with probabilities gets two figures,
:func:`skbreast.plotting.plot_slide_map` of the patient its pooled out-of-fold
probabilities fit best and worst (per-patient Brier score).
"""

from sklearn.utils import Bunch

from skbreast.model_selection._result_patients import slide_map_picks


def patient_maps(coords, groups, is_positive, y_score, *, pos_label, name):
    """Return ``(maps, rule)``: the slide maps of the best and worst patient.

    ``maps`` lists ``(which, caption, figure)`` for ``"best"`` and, when it is
    another patient, ``"worst"``; ``rule`` says which patients were eligible.
    Raises ValueError when a patient's patches share a cell of the map.
    """
    import numpy as np

    from skbreast.plotting import plot_slide_map

    pooled = Bunch(
        groups=np.asarray(groups),
        is_positive=np.asarray(is_positive, dtype=bool),
        y_score=np.asarray(y_score, dtype=float),
    )
    picks = slide_map_picks(pooled)
    shown = [("best", picks.best)]
    if picks.worst != picks.best:
        shown.append(("worst", picks.worst))
    maps = []
    for which, patient in shown:
        mine = pooled.groups == patient
        caption = (
            f"{name}: {which} patient {patient} (Brier score "
            f"{picks.brier[patient]:.3f}, {int(mine.sum())} patches)"
        )
        fig = plot_slide_map(
            np.asarray(coords)[mine],
            pooled.y_score[mine],
            pooled.is_positive[mine].astype(int),
            title=caption,
            label=f"probability of {pos_label}",
        )
        maps.append((which, caption, fig))
    return maps, picks.rule


def slide_map_figures(result):
    """Return ``({file name: figure}, {model: Bunch(files, note, rule)})``.

    ``files`` lists ``(file name, caption)`` of the model's maps; ``note`` says
    why a model has none. Empty without ``coords`` or patients.
    """
    figures, info = {}, {}
    if result.coords is None or result.groups is None:
        return figures, info
    for name in result.names:
        entry = info[name] = Bunch(files=[], note="", rule="")
        if result.score_kind[name] != "predict_proba":
            entry.note = "no slide maps: the model gives no probabilities."
            continue
        pooled = result.pooled(name)
        try:
            maps, entry.rule = patient_maps(
                result.coords[pooled.index],
                pooled.groups,
                pooled.is_positive,
                pooled.y_score,
                pos_label=result.pos_label,
                name=name,
            )
        except ValueError as exc:
            entry.note = f"no slide maps: {exc}"
            continue
        for which, caption, fig in maps:
            fname = f"slide_map_{which}_{name}.png"
            figures[fname] = fig
            entry.files.append((fname, caption))
    return figures, info
