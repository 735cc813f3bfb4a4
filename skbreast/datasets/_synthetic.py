"""Synthetic H&E-like patches: the package's built-in sample data, no files needed."""

import numbers

import numpy as np
from sklearn.utils import Bunch, check_random_state

DESCR = """\
.. _synthetic_patches:

Synthetic H&E-like patches (SYNTHETIC DATA)
-------------------------------------------

**These images are SYNTHETIC.** They are drawn with numpy to look roughly like
hematoxylin and eosin stained breast tissue patches, so that examples, tests and
tutorials run without downloading anything. They carry no medical information:
never report results on them as results about cancer.

Each patch has a pink, fibrous eosin-stained stroma background with pale gaps
and purple hematoxylin-stained nuclei drawn as irregular ellipses. Every patch
has a hidden "atypia" score; malignant patches draw it from a higher
distribution than benign ones, and the two overlap, so the classes are learnable
but not perfectly separable. Higher atypia means more, larger, darker, rounder
and more irregular nuclei and less stroma, the cues pathologists use.

Patches belong to synthetic patients (``groups``). Each patient has its own
stain colours, like slides stained on different days, so scores from splits
that ignore patients come out optimistic here too.

The default class balance (72% benign, 28% malignant) follows the IDC patch
data set (Janowczyk & Madabhushi, J Pathol Inform 7:29, 2016).
"""

# Nuclei are drawn in square windows of this half-size around their centres,
# which covers the largest radius the parameters below can produce, so work
# scales with the number of nuclei rather than with nuclei x pixels.
_HALF = 6
# Patches generated per vectorised batch: large enough to amortise numpy call
# overhead, small enough that temporaries stay in a few tens of MB.
_BATCH = 512

_WHITE = np.array([244.0, 238.0, 244.0], dtype=np.float32)
_EOSIN = np.array([222.0, 128.0, 178.0], dtype=np.float32)
_HEMATOXYLIN = np.array([62.0, 30.0, 112.0], dtype=np.float32)


def _smooth_noise(rng, n, height, width, cell):
    """Low-frequency noise: a coarse Gaussian grid, bilinearly upsampled."""
    gh, gw = height // cell + 2, width // cell + 2
    grid = rng.standard_normal((n, gh, gw), dtype=np.float32)
    fy = np.arange(height, dtype=np.float32) / cell
    fx = np.arange(width, dtype=np.float32) / cell
    iy, ix = fy.astype(int), fx.astype(int)
    wy, wx = (fy - iy)[None, :, None], (fx - ix)[None, None, :]
    rows = grid[:, iy, :] * (1 - wy) + grid[:, iy + 1, :] * wy
    return rows[:, :, ix] * (1 - wx) + rows[:, :, ix + 1] * wx


def _draw_batch(rng, atypia, stain, height, width):
    """Render ``len(atypia)`` patches as float32 RGB in 0..255."""
    n = len(atypia)
    s = atypia[:, None, None]

    # Stroma: collagen fibres as wavy stripes at a random angle, with pale
    # gaps (fat, lumens, tearing) where a smooth noise field is high.
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, np.pi, n).astype(np.float32)[:, None, None]
    freq = rng.uniform(0.08, 0.16, n).astype(np.float32)[:, None, None]
    warp = 4.0 * _smooth_noise(rng, n, height, width, 12)
    phase = 2 * np.pi * freq * (xx * np.cos(angle) + yy * np.sin(angle)) + warp
    fibres = 0.5 + 0.5 * np.sin(phase)
    texture = _smooth_noise(rng, n, height, width, 5)
    eosin = 0.5 + 0.22 * fibres * (1.2 - s) + 0.12 * texture
    gaps = _smooth_noise(rng, n, height, width, 16)
    eosin *= np.clip(2.5 * (1.1 - 0.4 * s - gaps), 0, 1)
    eosin = np.clip(eosin, 0, 1)[..., None]
    eosin_rgb, hema_rgb = stain[:, 0][:, None, None, :], stain[:, 1][:, None, None, :]
    image = _WHITE * (1 - eosin) + eosin_rgb * eosin

    # Nuclei: more, larger, rounder, darker and more irregular with atypia.
    counts = rng.poisson((3 + 22 * atypia**1.3) * (height * width / 2500.0))
    owner = np.repeat(np.arange(n), counts)
    m = len(owner)
    alpha = np.zeros(n * height * width + 1, dtype=np.float32)
    if m:
        a = atypia[owner].astype(np.float32)
        cx = rng.uniform(-2, width + 2, m).astype(np.float32)
        cy = rng.uniform(-2, height + 2, m).astype(np.float32)
        radius = (1.4 + 2.6 * a) * rng.lognormal(0, 0.18, m).astype(np.float32)
        # Benign stroma has spindle-shaped fibroblast nuclei; atypical ones round.
        elong = 1 + (1 - a) * rng.uniform(0, 1.6, m).astype(np.float32)
        theta = rng.uniform(0, np.pi, m).astype(np.float32)
        irregular = (0.02 + 0.16 * a) * rng.uniform(0.5, 1, m).astype(np.float32)
        # Keep the longest semi-axis inside the drawing window.
        radius = np.clip(radius, 1, (_HALF - 1) / (np.sqrt(elong) * (1 + irregular)))
        rough = rng.uniform(0, 2 * np.pi, m).astype(np.float32)
        opacity = np.clip(0.55 + 0.4 * a + rng.normal(0, 0.08, m), 0.3, 1)

        offs = np.arange(-_HALF, _HALF + 1, dtype=np.float32)
        x0, y0 = np.floor(cx), np.floor(cy)
        px = x0[:, None, None] + offs[None, None, :]  # (m, 1, S)
        py = y0[:, None, None] + offs[None, :, None]  # (m, S, 1)
        dx, dy = px - cx[:, None, None], py - cy[:, None, None]
        cos_t, sin_t = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
        u = dx * cos_t + dy * sin_t
        v = -dx * sin_t + dy * cos_t
        e = np.sqrt(elong)[:, None, None]
        dist = np.sqrt((u / e) ** 2 + (v * e) ** 2) + 1e-6
        # Irregular outline: radius modulated by the 2nd and 3rd angular
        # harmonics, computed from cos/sin of the angle without arctan2.
        c, sn = u / (dist * e), v * e / dist
        cos2, sin2 = c * c - sn * sn, 2 * c * sn
        cos3, sin3 = c * cos2 - sn * sin2, sn * cos2 + c * sin2
        ph = rough[:, None, None]
        wobble = 1 + irregular[:, None, None] * (
            np.cos(ph) * cos3 - np.sin(ph) * sin3 + 0.6 * (np.sin(ph) * cos2)
        )
        mask = np.clip(radius[:, None, None] * wobble - dist + 0.5, 0, 1)
        # Coarse, clumped chromatin in atypical nuclei.
        grain = 1 - (0.1 + 0.25 * a)[:, None, None] * rng.random(
            mask.shape, dtype=np.float32
        )
        value = mask * grain * opacity[:, None, None]
        inside = (px >= 0) & (px < width) & (py >= 0) & (py < height) & (value > 0)
        flat = (owner[:, None, None] * height + py) * width + px
        flat = np.broadcast_to(flat, value.shape)[inside].astype(np.intp)
        # Overlapping nuclei: the darker one shows, as with real stain uptake.
        np.maximum.at(alpha, flat, value[inside])
    alpha = alpha[:-1].reshape(n, height, width, 1)
    image = image * (1 - alpha) + hema_rgb * alpha
    image += 3.0 * rng.standard_normal(image.shape, dtype=np.float32)
    return image


def make_patches(
    n_samples=100,
    image_size=(50, 50),
    weights=(0.72, 0.28),
    n_patients=None,
    random_state=None,
    return_X_y=False,
):
    """Generate synthetic H&E-like breast tissue patches (benign vs malignant).

    The package's built-in sample data: made with numpy alone, no files or
    downloads, deterministic for a given ``random_state``, and fast (thousands
    of 50x50 patches a second). **The images are synthetic**; see ``DESCR``.

    Parameters
    ----------
    n_samples : int, default=100
        Number of patches.
    image_size : tuple of (int, int), default=(50, 50)
        ``(height, width)`` of each patch. Nuclei keep their size in pixels, so
        larger patches show a wider field of view with more nuclei.
    weights : tuple of (float, float), default=(0.72, 0.28)
        Proportions of benign and malignant patches (IDC's class balance). The
        class counts are exact up to rounding.
    n_patients : int, default=None
        Number of synthetic patients the patches are spread over (each with
        its own stain colours). None means ``max(1, min(20, n_samples // 10))``.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.
    return_X_y : bool, default=False
        If True, return ``(images, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        images : ndarray of shape (n_samples, height, width, 3), dtype uint8
            The generated RGB patches.
        target : ndarray of shape (n_samples,), dtype int
            0 benign, 1 malignant.
        target_names : ndarray of str
            ``["benign", "malignant"]``.
        groups : ndarray of shape (n_samples,), dtype str
            Synthetic patient id of every patch, e.g. ``"patient_03"``.
        DESCR : str
            Description; states that the data are synthetic.

    (images, target) : tuple
        If ``return_X_y`` is True.

    Examples
    --------
    >>> from skbreast.datasets import make_patches
    >>> data = make_patches(n_samples=10, random_state=0)
    >>> data.images.shape, data.images.dtype
    ((10, 50, 50, 3), dtype('uint8'))
    >>> data.target.tolist()
    [1, 0, 0, 0, 1, 0, 0, 0, 1, 0]
    """
    if (
        isinstance(n_samples, bool)
        or not isinstance(n_samples, numbers.Integral)
        or n_samples < 1
    ):
        raise ValueError(f"n_samples must be a positive int, got {n_samples!r}.")
    try:
        height, width = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise ValueError(
            f"image_size must be a (height, width) pair, got {image_size!r}."
        ) from None
    if height < 8 or width < 8:
        raise ValueError(f"image_size must be at least (8, 8), got {image_size!r}.")
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (2,) or np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError(
            f"weights must be two non-negative numbers (benign, malignant), "
            f"got {weights!r}."
        )
    if n_patients is None:
        n_patients = max(1, min(20, n_samples // 10))
    if (
        isinstance(n_patients, bool)
        or not isinstance(n_patients, numbers.Integral)
        or not 1 <= n_patients <= n_samples
    ):
        raise ValueError(
            f"n_patients must be an int between 1 and n_samples={n_samples}, "
            f"got {n_patients!r}."
        )
    rng = check_random_state(random_state)

    n_malignant = int(round(n_samples * weights[1] / weights.sum()))
    target = np.zeros(n_samples, dtype=np.int64)
    target[:n_malignant] = 1
    rng.shuffle(target)
    # Every patient gets at least one patch, the rest are spread at random.
    patient = np.concatenate(
        [np.arange(n_patients), rng.randint(0, n_patients, n_samples - n_patients)]
    )
    rng.shuffle(patient)

    # Hidden atypia score; the class distributions overlap on purpose so that
    # no model can be perfect.
    atypia = np.clip(rng.normal(np.where(target == 1, 0.68, 0.32), 0.16), 0, 1).astype(
        np.float32
    )
    # Per-patient stain colours (eosin, hematoxylin), as between staining runs.
    patient_stain = np.stack(
        [
            _EOSIN + rng.normal(0, [10, 14, 10], (n_patients, 3)),
            _HEMATOXYLIN + rng.normal(0, [12, 10, 14], (n_patients, 3)),
        ],
        axis=1,
    ).astype(np.float32)

    # numpy's Generator draws float32 directly, about twice as fast as
    # RandomState for the per-pixel noise; seeded from ``rng`` to stay
    # reproducible with sklearn's ``random_state`` convention.
    draw_rng = np.random.default_rng(rng.randint(0, 2**32 - 1, dtype=np.uint64))
    images = np.empty((n_samples, height, width, 3), dtype=np.uint8)
    for start in range(0, n_samples, _BATCH):
        stop = min(start + _BATCH, n_samples)
        batch = _draw_batch(
            draw_rng,
            atypia[start:stop],
            patient_stain[patient[start:stop]],
            height,
            width,
        )
        np.clip(batch, 0, 255, out=batch)
        images[start:stop] = np.rint(batch)

    if return_X_y:
        return images, target
    width_id = max(2, len(str(n_patients - 1)))
    return Bunch(
        images=images,
        target=target,
        target_names=np.array(["benign", "malignant"]),
        groups=np.array([f"patient_{p:0{width_id}d}" for p in patient], dtype=str),
        DESCR=DESCR,
    )
