"""Class rebalancing inside training: imbalanced-learn samplers applied to indices.

Resampling sample indices instead of images means an over-sampled epoch repeats
indices, never pixels, so 4-D arrays and file lists alike are rebalanced without a
copy, and every epoch draws a fresh sample.
"""

import numpy as np
from sklearn.base import clone

# Samplers whose choice of samples depends on the labels alone. Samplers that look at
# the features (NearMiss, Tomek links, SMOTE, ...) would see only indices here, so
# they belong in an imbalanced-learn pipeline on flattened images instead.
_INDEX_SAMPLERS = ("RandomUnderSampler", "RandomOverSampler")

_PIPELINE_HINT = (
    "Use it in an imbalanced-learn pipeline on flattened images instead: "
    "imblearn.pipeline.make_pipeline({name}(), CNNClassifier(input_shape=(H, W, C))) "
    "with X of shape (n_samples, H * W * C). Give SMOTE float32 pixels "
    "(X.astype('float32')): imbalanced-learn blends uint8 pixels in uint8 "
    "arithmetic, which wraps around."
)


def check_sampler(sampler):
    """Check that ``sampler`` can rebalance by index; raise a ValueError otherwise."""
    name = type(sampler).__name__
    if name not in _INDEX_SAMPLERS:
        raise ValueError(
            f"sampler={name}(...) cannot be applied inside fit: only samplers that "
            f"select samples by label ({', '.join(_INDEX_SAMPLERS)}) can, because "
            "the estimator resamples indices, not images. "
            + _PIPELINE_HINT.format(name=name)
        )
    if getattr(sampler, "shrinkage", None) is not None:
        raise ValueError(
            "sampler=RandomOverSampler(shrinkage=...) generates perturbed samples, "
            "which cannot be done by index. " + _PIPELINE_HINT.format(name=name)
        )


def make_resampler(sampler, labels):
    """Return ``resample(indices, rng)`` drawing a rebalanced set of indices.

    Parameters
    ----------
    sampler : imbalanced-learn sampler
        Cloned and re-seeded for every draw, so the parameter is never fitted.
    labels : ndarray of shape (n_samples,)
        Original labels of all samples, so that a ``sampling_strategy`` dict keyed
        by the user's labels works.
    """
    check_sampler(sampler)

    def resample(indices, rng):
        seed = None if rng is None else int(rng.integers(np.iinfo(np.int32).max))
        drawn = clone(sampler).set_params(random_state=seed)
        columns = np.asarray(indices).reshape(-1, 1)
        resampled, _ = drawn.fit_resample(columns, labels[indices])
        return resampled[:, 0]

    return resample


def patient_balancer(y, groups):
    """Return ``resample(indices, rng)`` weighing the patients of each class equally.

    Each epoch draws, for every class, as many images as the given indices hold
    (so the class balance stays as it is, or as a ``sampler`` before it made it),
    with replacement: a patient first, uniformly among that class's patients, then
    one of the patient's images of that class. A patient with 72 images then
    weighs as much as one with 10, so a few image-rich patients cannot dominate
    what the network learns.

    Parameters
    ----------
    y : ndarray of int
        Encoded labels of all samples.
    groups : ndarray of int
        Encoded patient of every sample.
    """
    y = np.asarray(y)
    groups = np.asarray(groups)

    def resample(indices, rng):
        rng = np.random.default_rng() if rng is None else rng
        indices = np.asarray(indices)
        drawn = []
        for label in np.unique(y[indices]):
            members = indices[y[indices] == label]
            patients, inverse, counts = np.unique(
                groups[members], return_inverse=True, return_counts=True
            )
            # P(image) = 1 / (n_patients * images of its patient): uniform over
            # patients, then uniform within the patient.
            p = 1.0 / (len(patients) * counts[inverse])
            drawn.append(rng.choice(members, size=len(members), p=p / p.sum()))
        return np.concatenate(drawn)

    return resample
