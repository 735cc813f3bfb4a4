"""Known-value, invariant and bad-input tests of skbreast.model_selection's statistics.

The known values are worked by hand from the published formulas (in the comments),
and checked against explicit loops written here independently of the vectorised
code under test.
"""

import math
from functools import partial

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.calibration import calibration_curve
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.utils._param_validation import InvalidParameterError

from skbreast.model_selection import (
    bootstrap_ci,
    calibration_summary,
    corrected_ttest,
    delong_roc_variance,
    delong_test,
    expected_calibration_error,
    operating_points,
    sensitivity_at_specificity,
    specificity_at_sensitivity,
)

# --- DeLong -------------------------------------------------------------------------

# Samples: 3 positives then 2 negatives.
Y_HAND = [1, 1, 1, 0, 0]
A_HAND = [0.9, 0.6, 0.4, 0.5, 0.2]
B_HAND = [0.8, 0.5, 0.3, 0.5, 0.1]  # the second positive ties the first negative


def test_delong_hand_worked_case():
    # psi(X, Y) = 1, 1/2, 0 for X >, =, < Y; m = 3 positives, n = 2 negatives.
    # Model a: V10 = [1, 1, 1/2], V01 = [2/3, 1], AUC = 5/6.
    #   S10 = var([1, 1, .5], ddof=1) = 1/12, S01 = var([2/3, 1], ddof=1) = 1/18,
    #   var(AUC_a) = S10/m + S01/n = 1/36 + 1/36 = 1/18.
    # Model b: V10 = [1, 3/4, 1/2], V01 = [1/2, 1], AUC = 3/4.
    #   S10 = 1/16, S01 = 1/8, var(AUC_b) = 1/48 + 1/16 = 1/12.
    # Covariance: S10_ab = 1/2 [(1/6)(1/4) + 0 + (-1/3)(-1/4)] = 1/16,
    #   S01_ab = (-1/6)(-1/4) + (1/6)(1/4) = 1/12, cov = 1/48 + 1/24 = 1/16.
    # var(a - b) = 1/18 + 1/12 - 2/16 = 1/72, difference 1/12,
    # z = (1/12) / sqrt(1/72) = 1/sqrt(2), p = 2 (1 - Phi(1/sqrt 2)) = erfc(1/2).
    result = delong_test(Y_HAND, A_HAND, B_HAND)
    assert result.auc_a == pytest.approx(5 / 6)
    assert result.auc_b == pytest.approx(3 / 4)
    assert result.difference == pytest.approx(1 / 12)
    np.testing.assert_allclose(
        result.covariance, [[1 / 18, 1 / 16], [1 / 16, 1 / 12]], rtol=1e-12
    )
    assert result.variance == pytest.approx(1 / 72)
    assert result.standard_error == pytest.approx(math.sqrt(1 / 72))
    assert result.z == pytest.approx(1 / math.sqrt(2))
    assert result.p_value == pytest.approx(math.erfc(0.5))
    assert result.reason is None
    half = 1.959963984540054 * math.sqrt(1 / 72)
    np.testing.assert_allclose(
        result.confidence_interval, (1 / 12 - half, 1 / 12 + half)
    )

    single = delong_roc_variance(Y_HAND, A_HAND)
    assert single.auc == pytest.approx(5 / 6)
    assert single.variance == pytest.approx(1 / 18)
    assert single.standard_error == pytest.approx(math.sqrt(1 / 18))
    # The upper limit 5/6 + 1.96 sqrt(1/18) exceeds 1 and is clipped.
    low, high = single.confidence_interval
    assert low == pytest.approx(5 / 6 - 1.959963984540054 * math.sqrt(1 / 18))
    assert high == 1.0
    assert delong_roc_variance(Y_HAND, B_HAND).variance == pytest.approx(1 / 12)


def _delong_by_loops(y, scores):
    """DeLong (1988) from its definitions: pairwise psi, explicit sums."""
    pos = [i for i in range(len(y)) if y[i] == 1]
    neg = [j for j in range(len(y)) if y[j] == 0]
    m, n = len(pos), len(neg)

    def psi(x, z):
        return 1.0 if x > z else 0.5 if x == z else 0.0

    v10 = [[sum(psi(s[i], s[j]) for j in neg) / n for i in pos] for s in scores]
    v01 = [[sum(psi(s[i], s[j]) for i in pos) / m for j in neg] for s in scores]
    auc = [sum(v) / m for v in v10]
    k = len(scores)
    cov = [[0.0] * k for _ in range(k)]
    for r in range(k):
        for t in range(k):
            s10 = sum((v10[r][i] - auc[r]) * (v10[t][i] - auc[t]) for i in range(m)) / (
                m - 1
            )
            s01 = sum((v01[r][j] - auc[r]) * (v01[t][j] - auc[t]) for j in range(n)) / (
                n - 1
            )
            cov[r][t] = s10 / m + s01 / n
    return auc, cov


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_delong_matches_explicit_loops(seed):
    rng = np.random.RandomState(seed)
    y = (rng.rand(40) < 0.4).astype(int)
    y[:2], y[2:4] = 0, 1
    # Rounded scores: many ties, which the midranks must handle.
    a = np.round(y + rng.normal(size=40), 1)
    b = np.round(0.5 * y + rng.normal(size=40), 1)
    auc, cov = _delong_by_loops(y.tolist(), [a.tolist(), b.tolist()])
    result = delong_test(y, a, b)
    assert result.auc_a == pytest.approx(auc[0])
    assert result.auc_b == pytest.approx(auc[1])
    assert result.auc_a == pytest.approx(roc_auc_score(y, a))
    np.testing.assert_allclose(result.covariance, cov, rtol=1e-10)
    variance = cov[0][0] + cov[1][1] - 2 * cov[0][1]
    assert result.variance == pytest.approx(variance)
    z = (auc[0] - auc[1]) / math.sqrt(variance)
    assert result.z == pytest.approx(z)
    assert result.p_value == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))
    assert delong_roc_variance(y, a).variance == pytest.approx(cov[0][0])
    swapped = delong_test(y, b, a)
    assert swapped.z == pytest.approx(-result.z)
    assert swapped.p_value == pytest.approx(result.p_value)


def test_delong_string_labels():
    labels = np.where(np.array(Y_HAND) == 1, "malignant", "benign")
    result = delong_test(labels, A_HAND, B_HAND, pos_label="malignant")
    assert result.z == pytest.approx(1 / math.sqrt(2))


def test_delong_identical_scores():
    result = delong_test(Y_HAND, A_HAND, A_HAND)
    assert result.difference == 0
    assert (result.z, result.p_value) == (0.0, 1.0)
    assert "identical" in result.reason


def test_delong_one_class_is_na_not_a_crash():
    result = delong_test([1, 1, 1], [0.2, 0.5, 0.9], [0.1, 0.4, 0.3])
    assert np.isnan(result.auc_a) and np.isnan(result.p_value)
    assert "one class" in result.reason
    single = delong_roc_variance([0, 0], [0.2, 0.4])
    assert np.isnan(single.auc) and "one class" in single.reason


def test_delong_one_positive_gives_auc_but_no_variance():
    result = delong_test([1, 0, 0, 0], [0.9, 0.1, 0.2, 0.3], [0.2, 0.1, 0.5, 0.3])
    assert result.auc_a == 1.0
    assert result.auc_b == pytest.approx(1 / 3)
    assert np.isnan(result.variance) and np.isnan(result.p_value)
    assert "at least 2 positive and 2 negative" in result.reason


def test_delong_bad_input():
    with pytest.raises(ValueError, match="y_score_b holds 1 NaN"):
        delong_test(Y_HAND, A_HAND, [0.8, np.nan, 0.3, 0.5, 0.1])
    with pytest.raises(ValueError, match="y_score_a has 4"):
        delong_test(Y_HAND, A_HAND[:4], B_HAND)
    with pytest.raises(ValueError, match="must be binary"):
        delong_test([0, 1, 2, 0, 1], A_HAND, B_HAND)
    with pytest.raises(ValueError, match="pos_label='malignant' is not one of"):
        delong_test(Y_HAND, A_HAND, B_HAND, pos_label="malignant")
    with pytest.raises(ValueError, match="y_score holds 1 infinite"):
        delong_roc_variance(Y_HAND, [0.9, np.inf, 0.4, 0.5, 0.2])
    with pytest.raises(InvalidParameterError, match="confidence_level"):
        delong_test(Y_HAND, A_HAND, B_HAND, confidence_level=95)


# --- Nadeau-Bengio corrected t-test -------------------------------------------------


def test_corrected_ttest_hand_computation():
    # d = [.02, .05, -.01, .04], J = 4, mean .025, deviations -.005, .025, -.035,
    # .015: s^2 = (25 + 625 + 1225 + 225)e-6 / 3 = 7e-4. n_test/n_train = 20/80,
    # corrected variance (1/4 + 1/4) 7e-4 = 3.5e-4, t = .025 / sqrt(3.5e-4) =
    # sqrt(25/14), 3 degrees of freedom. For 3 df the t CDF has a closed form:
    # p = 1 - (2/pi) (theta + sin(theta) cos(theta)), theta = atan(t / sqrt 3).
    a = [0.82, 0.85, 0.79, 0.84]
    b = [0.80, 0.80, 0.80, 0.80]
    result = corrected_ttest(a, b, n_train=80, n_test=20)
    t = math.sqrt(25 / 14)
    theta = math.atan(t / math.sqrt(3))
    p = 1 - 2 / math.pi * (theta + math.sin(theta) * math.cos(theta))
    assert result.mean_difference == pytest.approx(0.025)
    assert result.standard_error == pytest.approx(math.sqrt(3.5e-4))
    assert result.t == pytest.approx(t)
    assert result.df == 3
    assert result.p_value == pytest.approx(p)
    assert result.n_folds == 4
    assert result.test_train_ratio == pytest.approx(0.25)
    # t_{0.975, 3} = 3.182446305284263 (tables).
    half = 3.182446305284263 * math.sqrt(3.5e-4)
    np.testing.assert_allclose(result.confidence_interval, (0.025 - half, 0.025 + half))
    # The uncorrected paired t-test (variance s^2 / J) is more confident.
    plain_se = math.sqrt(7e-4 / 4)
    assert result.standard_error > plain_se


def test_corrected_ttest_per_fold_sizes_use_mean_ratio():
    a, b = [0.9, 0.7, 0.8, 0.85, 0.75], [0.8, 0.72, 0.7, 0.8, 0.7]
    result = corrected_ttest(
        a, b, n_train=[80, 75, 90, 85, 70], n_test=[20, 25, 10, 15, 30]
    )
    ratio = np.mean(np.array([20, 25, 10, 15, 30]) / np.array([80, 75, 90, 85, 70]))
    d = np.subtract(a, b)
    se = math.sqrt((1 / 5 + ratio) * d.var(ddof=1))
    assert result.test_train_ratio == pytest.approx(ratio)
    assert result.t == pytest.approx(d.mean() / se)


def test_corrected_ttest_zero_variance():
    same = corrected_ttest([0.8, 0.9], [0.8, 0.9], n_train=8, n_test=2)
    assert (same.t, same.p_value) == (0.0, 1.0) and same.reason
    shifted = corrected_ttest([0.9, 0.8], [0.8, 0.7], n_train=8, n_test=2)
    assert shifted.p_value == 0.0 and "same on every fold" in shifted.reason


def test_corrected_ttest_bad_input():
    with pytest.raises(ValueError, match="at least two folds; got 1"):
        corrected_ttest([0.8], [0.7], n_train=8, n_test=2)
    with pytest.raises(
        ValueError, match=r"scores_b is NaN or infinite at fold\(s\) \[1\]"
    ):
        corrected_ttest([0.8, 0.7, 0.9], [0.7, np.nan, 0.8], n_train=8, n_test=2)
    with pytest.raises(ValueError, match="paired fold by fold; got 3 and 2"):
        corrected_ttest([0.8, 0.7, 0.9], [0.7, 0.8], n_train=8, n_test=2)
    with pytest.raises(ValueError, match="one number per fold"):
        corrected_ttest([0.8, 0.7, 0.9], [0.7, 0.6, 0.8], n_train=[8, 8], n_test=2)
    with pytest.raises(ValueError, match="positive sample counts"):
        corrected_ttest([0.8, 0.7, 0.9], [0.7, 0.6, 0.8], n_train=0, n_test=2)


# --- Patient-level bootstrap --------------------------------------------------------


def clustered(n_patients=30, images=4, effect=1.0, patient_sd=1.0, seed=0):
    """Single-label patients; a shared patient effect correlates their images."""
    rng = np.random.RandomState(seed)
    groups = np.repeat(np.arange(n_patients), images)
    label = np.arange(n_patients) % 2
    y = label[groups]
    score = effect * y + patient_sd * rng.normal(size=n_patients)[groups]
    return y, score + rng.normal(size=len(y)), groups


def test_bootstrap_fast_auc_equals_the_generic_path():
    y, s, groups = clustered(seed=1)
    s = np.round(s, 1)  # ties
    for g in (groups, None):
        fast = bootstrap_ci(y, s, groups=g, n_resamples=300, random_state=0)
        slow = bootstrap_ci(
            y, s, metric=roc_auc_score, groups=g, n_resamples=300, random_state=0
        )
        assert fast.estimate == pytest.approx(roc_auc_score(y, s))
        np.testing.assert_allclose(fast.distribution, slow.distribution, rtol=1e-12)
        assert fast.confidence_interval == pytest.approx(slow.confidence_interval)


def test_bootstrap_resamples_whole_patients():
    y, _, groups = clustered(n_patients=12, images=3)
    image_id = np.arange(len(y), dtype=float)  # the score carries the image's id
    seen = []

    def record(y_res, ids):
        ids = ids.astype(int)
        counts = np.bincount(ids, minlength=len(y))
        # Every image of a drawn patient appears as often as its patient.
        for g in np.unique(groups[ids]):
            assert len(set(counts[groups == g])) == 1
        seen.append(len(np.unique(groups[ids])))
        return float(y_res.mean())

    result = bootstrap_ci(y, image_id, metric=record, groups=groups, n_resamples=50)
    assert result.unit == "patient" and result.n_units == 12
    # One call on the full data (all 12 patients), then one per valid resample.
    assert seen[0] == 12 and len(seen) == result.n_valid + 1
    seen = seen[1:]
    # Drawn with replacement: typically about 63% of the patients are distinct.
    assert 0.4 < np.mean(seen) / 12 < 0.8


def test_bootstrap_without_groups_says_it_resamples_images():
    y, s, _ = clustered()
    result = bootstrap_ci(y, s, n_resamples=200, random_state=0)
    assert result.unit == "image" and result.n_units == len(y)


def _coverage(groups_for_ci, n_trials=200, n_resamples=500):
    # AUC of one positive vs one negative image of different patients:
    # difference ~ N(effect, 2 (patient_sd^2 + 1)), so AUC = Phi(effect / 2).
    true_auc = norm.cdf(1.0 / 2)
    covered = 0
    for trial in range(n_trials):
        y, s, groups = clustered(n_patients=40, seed=100 + trial)
        result = bootstrap_ci(
            y,
            s,
            groups=groups if groups_for_ci else None,
            n_resamples=n_resamples,
            random_state=trial,
        )
        low, high = result.confidence_interval
        covered += low <= true_auc <= high
    return covered / n_trials


def test_bootstrap_coverage_by_patient():
    # Its speed is measured in benchmarks, not asserted here.
    by_patient = _coverage(groups_for_ci=True)
    by_image = _coverage(groups_for_ci=False)
    print(f"coverage: by patient {by_patient:.3f}, by image {by_image:.3f}")
    assert by_patient >= 0.90
    # Ignoring the patients undercovers: their images are not independent.
    assert by_image < by_patient - 0.1


@pytest.mark.parametrize("seed", range(10))
def test_every_interval_contains_its_estimate(seed):
    # Small, skewed cases (AUC near 1, few patients) included.
    y, s, groups = clustered(n_patients=8 + seed, images=2, effect=seed, seed=seed)
    for metric in ("roc_auc", partial(sensitivity_at_specificity, specificity=0.9)):
        result = bootstrap_ci(y, s, metric=metric, groups=groups, n_resamples=200)
        if result.reason is None:
            low, high = result.confidence_interval
            assert low <= result.estimate <= high
    for point in operating_points(y, s, groups=groups, n_resamples=200).values():
        if point.reason is None:
            low, high = point.confidence_interval
            assert low <= point.estimate <= high


def test_bootstrap_skips_and_counts_undefined_resamples():
    # 3 negative patients among 12: (9/12)^12 = 3% of resamples lack negatives.
    groups = np.repeat(np.arange(12), 2)
    y = (groups >= 3).astype(int)
    s = y + np.random.RandomState(0).normal(size=24)
    result = bootstrap_ci(y, s, groups=groups, n_resamples=2000, random_state=0)
    assert 0 < result.n_undefined < 200
    assert result.n_valid + result.n_undefined == 2000
    assert len(result.distribution) == result.n_valid
    assert result.reason is None and np.isfinite(result.confidence_interval).all()
    strict = bootstrap_ci(
        y, s, groups=groups, n_resamples=2000, max_undefined=0.001, random_state=0
    )
    assert np.isnan(strict.confidence_interval).all()
    assert "undefined on" in strict.reason and "too few patients" in strict.reason
    assert strict.estimate == pytest.approx(result.estimate)


def test_bootstrap_one_class_is_na_not_a_crash():
    y, s = np.ones(10, dtype=int), np.linspace(0, 1, 10)
    result = bootstrap_ci(y, s, n_resamples=50)
    assert np.isnan(result.estimate) and "one class" in result.reason
    result = bootstrap_ci(y, s, metric=roc_auc_score, n_resamples=50)
    assert np.isnan(result.estimate) and "one class" in result.reason

    def raises_on_one_class(y, s):
        raise ValueError("Only one class present in y_true.")

    result = bootstrap_ci(y, s, metric=raises_on_one_class, n_resamples=50)
    assert "one-class data: Only one class" in result.reason


def test_bootstrap_paired_difference_and_reproducibility():
    y, a, groups = clustered(seed=3)
    b = a + np.random.RandomState(1).normal(size=len(a))

    def difference(y, s):
        return roc_auc_score(y, s[:, 0]) - roc_auc_score(y, s[:, 1])

    both = np.column_stack([a, b])
    first = bootstrap_ci(
        y, both, metric=difference, groups=groups, n_resamples=200, random_state=5
    )
    again = bootstrap_ci(
        y, both, metric=difference, groups=groups, n_resamples=200, random_state=5
    )
    np.testing.assert_array_equal(first.distribution, again.distribution)
    assert first.estimate == pytest.approx(roc_auc_score(y, a) - roc_auc_score(y, b))


def test_bootstrap_bad_input():
    y, s, groups = clustered()
    with pytest.raises(ValueError, match="y_score holds 1 NaN"):
        bootstrap_ci(y, np.r_[s[:-1], np.nan], groups=groups)
    with pytest.raises(ValueError, match="groups has 10"):
        bootstrap_ci(y, s, groups=groups[:10])
    with pytest.raises(ValueError, match="needs a 1-D y_score"):
        bootstrap_ci(y, np.column_stack([s, s]))
    with pytest.raises(TypeError, match="single number"):
        bootstrap_ci(y, s, metric=lambda y, s: np.array([1.0, 2.0]))
    with pytest.raises(InvalidParameterError, match="n_resamples"):
        bootstrap_ci(y, s, n_resamples=0)
    with pytest.raises(InvalidParameterError, match="metric"):
        bootstrap_ci(y, s, metric="accuracy")


# --- Calibration --------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_calibration_agrees_with_sklearn(strategy):
    rng = np.random.RandomState(0)
    p = rng.beta(0.5, 0.5, size=300)
    y = (rng.rand(300) < p**1.5).astype(int)
    result = calibration_summary(y, p, n_bins=8, strategy=strategy)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=8, strategy=strategy)
    np.testing.assert_allclose(result.prob_true, prob_true)
    np.testing.assert_allclose(result.prob_pred, prob_pred)
    assert result.bin_counts.sum() == 300
    assert result.brier_score == pytest.approx(brier_score_loss(y, p))
    # The ECE is the count-weighted gap of the very curve sklearn draws.
    expected = np.sum(result.bin_counts / 300 * np.abs(prob_true - prob_pred))
    assert result.expected_calibration_error == pytest.approx(expected)
    assert expected_calibration_error(
        y, p, n_bins=8, strategy=strategy
    ) == pytest.approx(expected)


def test_ece_hand_values():
    # Two bins [0, .5], (.5, 1]: |0 - .2| * 2/4 + |1 - .75| * 2/4 = .225.
    assert expected_calibration_error([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.9], n_bins=2) == (
        pytest.approx(0.225)
    )
    # One positive in four at 0.25 is perfectly calibrated.
    assert expected_calibration_error([1, 0, 0, 0], [0.25] * 4) == 0.0
    # An inner edge belongs to the lower bin, as in calibration_curve.
    assert expected_calibration_error([1, 0], [0.5, 0.5], n_bins=2) == 0.0
    labels = np.array(["benign", "malignant", "malignant"])
    assert expected_calibration_error(
        labels, [0.0, 1.0, 1.0], pos_label="malignant"
    ) == pytest.approx(0.0)


def test_calibration_one_class_is_defined():
    result = calibration_summary([1, 1, 1], [0.9, 0.8, 0.7], n_bins=5)
    assert result.brier_score == pytest.approx((0.01 + 0.04 + 0.09) / 3)
    assert result.expected_calibration_error == pytest.approx(0.2)


def test_calibration_bad_input():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        calibration_summary([0, 1], [-0.5, 2.0])
    with pytest.raises(ValueError, match="y_prob holds 1 NaN"):
        expected_calibration_error([0, 1], [0.5, np.nan])
    with pytest.raises(ValueError, match="y_prob has 3"):
        expected_calibration_error([0, 1], [0.5, 0.2, 0.1])
    with pytest.raises(InvalidParameterError, match="strategy"):
        expected_calibration_error([0, 1], [0.5, 0.2], strategy="equal")


# --- Operating points ---------------------------------------------------------------


def _brute_force(y, s, target, at):
    """Best rate at each candidate threshold, counted directly."""
    best = -1.0
    for threshold in np.r_[np.inf, np.unique(s)]:
        predicted = s >= threshold
        sens = np.mean(predicted[y == 1])
        spec = np.mean(~predicted[y == 0])
        if at == "specificity" and spec >= target - 1e-9:
            best = max(best, sens)
        if at == "sensitivity" and sens >= target - 1e-9:
            best = max(best, spec)
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_operating_points_match_brute_force(seed):
    rng = np.random.RandomState(seed)
    y = (rng.rand(60) < 0.5).astype(int)
    s = np.round(y + rng.normal(size=60), 1)
    for target in (0.9, 0.95):
        assert sensitivity_at_specificity(y, s, specificity=target) == pytest.approx(
            _brute_force(y, s, target, "specificity")
        )
    assert specificity_at_sensitivity(y, s, sensitivity=0.95) == pytest.approx(
        _brute_force(y, s, 0.95, "sensitivity")
    )


def test_operating_points_hand_case():
    # Ten negatives; at threshold .6 only the negative .8 is above: specificity
    # 9/10, and 3 of 4 positives are found. All four need threshold .45, which
    # also passes the negatives .5 and .8: specificity 8/10.
    y = [0] * 10 + [1] * 4
    s = [0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.8, 0.6, 0.7, 0.9, 0.45]
    assert sensitivity_at_specificity(y, s, specificity=0.9) == 0.75
    assert sensitivity_at_specificity(y, s, specificity=0.95) == 0.25
    assert specificity_at_sensitivity(y, s, sensitivity=0.95) == 0.8
    points = operating_points(y, s, n_resamples=100, random_state=0)
    assert points["sensitivity at 90% specificity"].estimate == 0.75
    assert points["sensitivity at 90% specificity"].threshold == 0.6
    assert points["specificity at 95% sensitivity"].threshold == 0.45


def test_operating_points_bootstrap_equals_the_roc_curve_path():
    y, s, groups = clustered(n_patients=24, images=3, seed=4)
    s = np.round(s, 1)
    points = operating_points(
        y,
        s,
        groups=groups,
        specificities=(0.9,),
        sensitivities=(0.95,),
        n_resamples=200,
        random_state=0,
    )
    for name, metric in (
        (
            "sensitivity at 90% specificity",
            partial(sensitivity_at_specificity, specificity=0.9),
        ),
        (
            "specificity at 95% sensitivity",
            partial(specificity_at_sensitivity, sensitivity=0.95),
        ),
    ):
        slow = bootstrap_ci(
            y, s, metric=metric, groups=groups, n_resamples=200, random_state=0
        )
        np.testing.assert_allclose(points[name].distribution, slow.distribution)
        assert points[name].estimate == pytest.approx(slow.estimate)
        assert points[name].unit == "patient"


def test_operating_points_one_class_and_bad_input():
    with pytest.warns(UndefinedMetricWarning, match="one class"):
        assert np.isnan(sensitivity_at_specificity([1, 1], [0.2, 0.3]))
    with pytest.warns(UndefinedMetricWarning, match="one class"):
        assert np.isnan(specificity_at_sensitivity([0, 0], [0.2, 0.3]))
    points = operating_points([0, 0, 0], [0.1, 0.2, 0.3], n_resamples=10)
    assert all(
        np.isnan(p.estimate) and "one class" in p.reason for p in points.values()
    )
    with pytest.raises(ValueError, match="y_score holds 1 NaN"):
        sensitivity_at_specificity([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="y_score has 3"):
        operating_points([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"target specificity must be in \[0, 1\]"):
        operating_points([0, 1], [0.1, 0.2], specificities=(90,))
    with pytest.raises(InvalidParameterError, match="specificity"):
        sensitivity_at_specificity([0, 1], [0.1, 0.2], specificity=1.5)
