"""Batched stain estimation and re-staining on optical densities.

Every function here works on a batch of images at once: ``od`` is an array of shape
(n_images, n_pixels, 3) of optical densities and ``mask`` a boolean array of shape
(n_images, n_pixels) marking the tissue pixels that estimation may use. Nothing
loops over images in Python; that is what makes 500 images/s on 2 cores possible
(see the module docstring of :mod:`skbreast.preprocessing._stain` for the numbers).

Stain matrices follow scikit-image's convention (``skimage.color.rgb_from_hed``):
one row per stain, one column per RGB channel, rows of unit length, hematoxylin
first. An image is modelled by the Beer-Lambert law, ``I = 255 * exp(-C @ M)``.

The functions never produce NaN: where a quantity is undefined (no tissue, a flat
colour, a single stain) they return a finite placeholder and report the image as
not estimable, so the caller can fall back and say why.
"""

import numpy as np

# Optical density of every 8-bit value, I0 = 255. Zero is read as 1: a saturated
# channel has no finite density, and log(255) keeps black pixels finite.
OD_MAX = float(np.log(255.0))
_OD_TABLE = np.log(255.0 / np.maximum(np.arange(256), 1)).astype(np.float32)

# Fewer tissue pixels than this and a 3x3 covariance or a 1st/99th percentile is
# noise, not a stain estimate.
MIN_TISSUE_PIXELS = 20

# H&E stain vectors lie 40-60 degrees apart in OD space (Ruifrok and Johnston's
# H and E: 49 degrees). Two estimated vectors closer than this come from an image
# with one stain (plus quantisation noise), not from two stains.
MIN_STAIN_ANGLE_DEG = 10.0

# What happened to each image, as reported in the fallback warning: normalised;
# returned unchanged for one of three reasons; or (Vahadane) normalised with
# Macenko's stain vectors because the sparse factorisation merged the two stains.
OK, NO_TISSUE, ONE_STAIN, FLAT, MERGED = 0, 1, 2, 3, 4

# Ruifrok and Johnston's H and E vectors (scikit-image's rgb_from_hed, rows 0-1),
# unit length: a placeholder for images whose own vectors cannot be estimated.
_RUIFROK_HE = np.array([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11]])
REFERENCE_STAINS = _RUIFROK_HE / np.linalg.norm(_RUIFROK_HE, axis=1, keepdims=True)


def optical_density(pixels, scale):
    """Return the float32 optical density of (n, P, 3) pixels.

    ``scale`` maps the stored values to [0, 255] (255 for floats in [0, 1]).
    """
    if pixels.dtype == np.uint8:
        return _OD_TABLE[pixels]
    values = pixels.astype(np.float32) * np.float32(scale)
    return np.log(np.float32(255.0) / np.maximum(values, np.float32(1.0)))


def tissue_mask(od, threshold):
    """Mark pixels dense enough to carry stain, and not saturated.

    Near-white background has an OD vector shorter than ``threshold``; a pixel with
    a channel at 0 (or 1) has a clipped, meaningless density in that channel.
    """
    # Channel slices, not reductions over the length-3 axis: several times faster.
    r, g, b = od[..., 0], od[..., 1], od[..., 2]
    norm2 = r * r + g * g + b * b
    densest = np.maximum(np.maximum(r, g), b)
    return (norm2 >= np.float32(threshold * threshold)) & (densest < OD_MAX - 1e-4)


def masked_quantiles(values, mask, quantiles):
    """Return per-row quantiles (linear interpolation) of the masked entries.

    Rows without masked entries get 0. ``values`` has shape (n, P); the result has
    shape (n, len(quantiles)). Equal to ``np.percentile(row[mask_row], 100 * q)``.
    """
    filled = np.where(mask, values, np.inf)
    filled.sort(axis=1)
    count = mask.sum(axis=1)
    last = np.maximum(count - 1, 0)
    out = np.zeros((values.shape[0], len(quantiles)), dtype=np.float64)
    for j, q in enumerate(quantiles):
        position = q * last
        low = np.floor(position).astype(np.intp)
        high = np.minimum(low + 1, last)
        frac = position - low
        lo = np.take_along_axis(filled, low[:, None], axis=1)[:, 0]
        hi = np.take_along_axis(filled, high[:, None], axis=1)[:, 0]
        # Empty rows hold inf; keep them out of the arithmetic.
        lo = np.where(count > 0, lo, 0.0)
        hi = np.where(count > 0, hi, 0.0)
        out[:, j] = lo + (hi - lo) * frac
    return out


def _weighted_covariance(od, mask):
    """Covariance (n, 3, 3) of each image's tissue pixels; identity where empty."""
    count = mask.sum(axis=1)
    weights = mask.astype(np.float32)[..., None]
    safe = np.maximum(count, 1)[:, None]
    # A matrix product is much faster than a sum over the pixel axis.
    mean = np.matmul(weights.transpose(0, 2, 1), od)[:, 0, :] / safe
    # Centre before the product: float32 sums of raw densities cancel badly for
    # nearly flat images.
    centred = (od - mean[:, None, :].astype(np.float32)) * weights
    cov = np.matmul(centred.transpose(0, 2, 1), centred).astype(np.float64)
    cov /= safe[:, :, None]
    cov[count < MIN_TISSUE_PIXELS] = np.eye(3)
    return cov


def _order_and_normalise(vectors):
    """Clip (n, 2, 3) stain vectors to physical (>= 0), unit rows, hematoxylin first.

    Returns the vectors and a boolean array marking images where both survive.
    """
    vectors = np.clip(vectors, 0.0, None)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    ok = np.all(norms[..., 0] > 1e-6, axis=1)
    vectors = vectors / np.maximum(norms, 1e-6)
    # Hematoxylin absorbs red more than eosin does (Macenko et al.'s rule).
    swap = vectors[:, 0, 0] < vectors[:, 1, 0]
    vectors[swap] = vectors[swap][:, ::-1]
    return vectors, ok


def separable(stains):
    """Whether each image's two unit stain vectors (n, 2, 3) are far enough apart."""
    cos = np.abs(np.einsum("nc,nc->n", stains[:, 0], stains[:, 1]))
    return cos < np.cos(np.deg2rad(MIN_STAIN_ANGLE_DEG))


def macenko_stains(od, mask, angle_percentile):
    """Estimate each image's two stain vectors (Macenko et al., ISBI 2009).

    The tissue densities are projected on the plane of their two principal axes;
    the stain vectors are the directions at the ``angle_percentile`` and
    ``100 - angle_percentile`` percentiles of the angle in that plane.

    Returns
    -------
    stains : ndarray of shape (n, 2, 3)
        Unit stain vectors, hematoxylin first; the reference H&E matrix where the
        image is not estimable.
    status : ndarray of shape (n,)
        ``OK``, ``NO_TISSUE`` or ``ONE_STAIN``.
    """
    n = od.shape[0]
    count = mask.sum(axis=1)
    _, eigvecs = np.linalg.eigh(_weighted_covariance(od, mask))
    plane = eigvecs[:, :, [2, 1]]  # principal axis first
    # eigh's signs are arbitrary; make each axis point into positive densities so
    # that the angles, and hence the result, do not depend on them.
    signs = np.where(plane.sum(axis=1, keepdims=True) < 0, -1.0, 1.0)
    plane = (plane * signs).astype(np.float32)

    projected = np.matmul(od, plane)
    angle = np.arctan2(projected[..., 1], projected[..., 0])
    q = angle_percentile / 100.0
    limits = masked_quantiles(angle, mask, [q, 1.0 - q])
    directions = np.stack([np.cos(limits), np.sin(limits)], axis=1)  # (n, 2, 2)
    vectors = np.matmul(plane.astype(np.float64), directions).transpose(0, 2, 1)
    stains, positive = _order_and_normalise(vectors)

    status = np.full(n, OK, dtype=np.int8)
    status[~(positive & separable(stains))] = ONE_STAIN
    status[count < MIN_TISSUE_PIXELS] = NO_TISSUE
    stains[status != OK] = REFERENCE_STAINS
    return stains, status


def nonnegative_codes(od, stains, penalty=0.0):
    """Solve ``min_c>=0 0.5 * ||od - c @ stains||^2 + penalty * sum(c)`` per pixel.

    With two stains the problem is a 2-variable quadratic programme with an exact
    solution: the unconstrained minimiser when both of its entries are positive,
    else the better of the two one-stain solutions. ``penalty=0`` gives
    non-negative least squares (concentrations); ``penalty > 0`` the positive
    lasso of sparse dictionary learning, the same objective as
    ``sklearn.decomposition.sparse_encode(..., algorithm="lasso_cd",
    positive=True)``.

    Parameters
    ----------
    od : ndarray of shape (n, P, 3)
    stains : ndarray of shape (n, 2, 3)
        Two linearly independent rows per image.
    penalty : float

    Returns
    -------
    codes : ndarray of shape (n, P, 2), float32
    """
    stains = stains.astype(np.float32)
    gram = np.matmul(stains, stains.transpose(0, 2, 1)).astype(np.float64)
    g00, g01, g11 = gram[:, 0, 0], gram[:, 0, 1], gram[:, 1, 1]
    det = np.maximum(g00 * g11 - g01 * g01, 1e-12)
    b = np.matmul(od, stains.transpose(0, 2, 1))
    if penalty:
        b -= np.float32(penalty)
    b0, b1 = b[..., 0], b[..., 1]

    def col(x):
        return x.astype(np.float32)[:, None]

    c0 = (col(g11) * b0 - col(g01) * b1) * col(1.0 / det)
    c1 = (col(g00) * b1 - col(g01) * b0) * col(1.0 / det)
    interior = (c0 > 0) & (c1 > 0)
    p0, p1 = np.maximum(b0, 0), np.maximum(b1, 0)
    # On the boundary the objective is -0.5 * p_k**2 / g_kk; keep the lower one.
    first = p0 * p0 * col(g11) >= p1 * p1 * col(g00)
    codes = np.empty(b.shape, dtype=np.float32)
    codes[..., 0] = np.where(interior, c0, np.where(first, p0 / col(g00), 0.0))
    codes[..., 1] = np.where(interior, c1, np.where(first, 0.0, p1 / col(g11)))
    return codes


def sparse_nmf_stains(od, mask, init, penalty, max_iter, tol=1e-4):
    """Vahadane et al.'s sparse non-negative stain factorisation, batched.

    Minimises ``0.5 * ||od - C @ M||^2 + penalty * ||C||_1`` over C >= 0 and
    M >= 0 with rows of norm at most 1, by the alternation of
    ``sklearn.decomposition.dict_learning(positive_code=True, positive_dict=True)``:
    an exact code step (:func:`nonnegative_codes`) and scikit-learn's block
    coordinate dictionary update (``_update_dict``), run on every image at once.
    Each image stops on its own when its cost falls by less than ``tol`` (relative),
    so a result never depends on the other images of the batch.

    Returns the (n, 2, 3) unit stain matrices (hematoxylin first) and a boolean
    array marking images where both stains stayed in use. (Where scikit-learn
    resamples an unused atom at random, an unused stain here means the image is
    explained by one stain, which the caller reports.)
    """
    weights = mask.astype(np.float32)[..., None]
    dictionary = init.astype(np.float32).copy()
    active = np.ones(od.shape[0], dtype=bool)
    both_used = np.ones(od.shape[0], dtype=bool)
    previous = np.full(od.shape[0], np.inf)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        x, w, d = od[idx], weights[idx], dictionary[idx]
        codes = nonnegative_codes(x, d, penalty) * w
        gram = np.matmul(codes.transpose(0, 2, 1), codes)  # A = C^T C
        cross = np.matmul(x.transpose(0, 2, 1), codes)  # B = X^T C
        both_used[idx] = np.all(np.diagonal(gram, axis1=1, axis2=2) > 1e-6, axis=1)
        for k in range(2):
            used = gram[:, k, k] > 1e-6
            step = (cross[:, :, k] - np.einsum("nj,njc->nc", gram[:, k], d)) / (
                np.where(used, gram[:, k, k], 1.0)[:, None]
            )
            d[:, k] += np.where(used[:, None], step, 0.0)
            np.clip(d[:, k], 0.0, None, out=d[:, k])
            d[:, k] /= np.maximum(np.linalg.norm(d[:, k], axis=-1), 1.0)[:, None]
        dictionary[idx] = d
        residual = (x - np.matmul(codes, d)) * w
        cost = 0.5 * np.einsum("npc,npc->n", residual, residual) + penalty * codes.sum(
            axis=(1, 2)
        )
        done = previous[idx] - cost < tol * cost
        previous[idx] = cost
        active[idx[done]] = False
    stains, positive = _order_and_normalise(dictionary)
    return stains, positive & both_used


def concentrations(od, stains):
    """Least-squares concentrations of (n, P, 3) densities, clipped at 0 (float32).

    One matrix product per image with the pseudo-inverse: inside the cone of the
    two stains this equals non-negative least squares (:func:`nonnegative_codes`
    with ``penalty=0``) and costs a fraction of it; the clip makes the few pixels
    outside it (background noise) physical.
    """
    pinv = np.linalg.pinv(stains.astype(np.float64)).astype(np.float32)  # (n, 3, 2)
    codes = np.matmul(od, pinv)
    np.maximum(codes, 0.0, out=codes)
    return codes


def beer_lambert(codes, stains):
    """Return the intensities in [0, 255] (float32) of concentrations mixed by stains.

    ``codes`` has shape (n, P, 2) and ``stains`` (2, 3) or (n, 2, 3).
    """
    density = np.matmul(codes, np.asarray(stains, dtype=np.float32))
    np.negative(density, out=density)
    np.exp(density, out=density)
    density *= np.float32(255.0)
    return density


def masked_moments(values, mask):
    """Per-image mean and standard deviation (n, C) of (n, P, C) values over mask.

    Two passes (mean, then centred squares) as matrix products: fast, and free of
    the float32 cancellation of ``E[x^2] - E[x]^2``.
    """
    weights = mask.astype(np.float32)[:, None, :]
    count = np.maximum(mask.sum(axis=1), 1)[:, None]
    mean = np.matmul(weights, values)[:, 0, :] / count
    centred = values - mean[:, None, :].astype(np.float32)
    np.square(centred, out=centred)
    var = np.matmul(weights, centred)[:, 0, :] / count
    return mean.astype(np.float64), np.sqrt(var).astype(np.float64)


# sRGB (IEC 61966-2-1) to CIE XYZ, and the D65 white point (2 degree observer):
# the constants of scikit-image's rgb2lab/lab2rgb, which the tests compare with.
_XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
_D65 = np.array([0.95047, 1.0, 1.08883])
# Row-vector forms, white point folded in: t = linear_rgb @ _TO_T, t = XYZ / white.
_TO_T = (_XYZ_FROM_RGB / _D65[:, None]).T.astype(np.float32)
_FROM_T = np.linalg.inv(_XYZ_FROM_RGB / _D65[:, None]).T.astype(np.float32)
_EPSILON, _KAPPA = np.float32(0.008856), np.float32(7.787)
_OFFSET = np.float32(16.0 / 116.0)


def _linear_rgb(rgb):
    """Undo the sRGB gamma of values in [0, 1] (float32)."""
    return np.where(
        rgb > np.float32(0.04045),
        np.power((rgb + np.float32(0.055)) / np.float32(1.055), np.float32(2.4)),
        rgb / np.float32(12.92),
    )


# The 256 linear values of 8-bit sRGB: a table lookup instead of a power per value.
_LINEAR_TABLE = _linear_rgb(np.arange(256, dtype=np.float32) / np.float32(255.0))


def to_lab(pixels, scale):
    """CIE-LAB (D65) of (..., 3) RGB pixels, float32.

    ``scale`` maps the stored values to [0, 255], as in :func:`optical_density`.
    Equal to ``skimage.color.rgb2lab`` to float32 precision.
    """
    if pixels.dtype == np.uint8:
        linear = _LINEAR_TABLE[pixels]
    else:
        rgb = pixels.astype(np.float32) * np.float32(scale / 255.0)
        linear = _linear_rgb(rgb)
    t = np.matmul(linear, _TO_T)
    t = np.where(t > _EPSILON, np.cbrt(t), t * _KAPPA + _OFFSET)
    lab = np.empty_like(t)
    lab[..., 0] = np.float32(116.0) * t[..., 1] - np.float32(16.0)
    lab[..., 1] = np.float32(500.0) * (t[..., 0] - t[..., 1])
    lab[..., 2] = np.float32(200.0) * (t[..., 1] - t[..., 2])
    return lab


def from_lab(lab):
    """RGB in [0, 1] (float32) of (..., 3) CIE-LAB values; out-of-gamut clipped.

    Equal to ``skimage.color.lab2rgb`` to float32 precision, without its warning
    about clipped colours: matching LAB moments pushes a few colours out of the
    sRGB gamut by design, and clipping them is the intended handling.
    """
    fy = (lab[..., 0] + np.float32(16.0)) / np.float32(116.0)
    t = np.empty_like(lab)
    t[..., 0] = fy + lab[..., 1] / np.float32(500.0)
    t[..., 1] = fy
    t[..., 2] = fy - lab[..., 2] / np.float32(200.0)
    np.maximum(t, 0.0, out=t)
    t = np.where(t > np.float32(0.2068966), t * t * t, (t - _OFFSET) / _KAPPA)
    linear = np.matmul(t, _FROM_T)
    np.clip(linear, 0.0, 1.0, out=linear)
    return np.where(
        linear > np.float32(0.0031308),
        np.float32(1.055) * np.power(linear, np.float32(1 / 2.4)) - np.float32(0.055),
        linear * np.float32(12.92),
    )
