"""Slide-level features pooled from tile scores, as a scikit-learn transformer."""

from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

__all__ = ["TilePooling"]

_STATS = ("mean", "max", "min", "std", "top_k_mean", "fraction_positive")


class TilePooling(TransformerMixin, BaseEstimator):
    """Pool the tiles of each slide into one row of slide-level features.

    Each sample is a whole slide: ``X[i]`` is slide ``i``, whatever holds
    the slides. A slide is a :class:`SlidePrediction` (its tile scores are
    pooled) or an array of tile values, shape ``(n_tiles,)`` for scores or
    ``(n_tiles, n_features)`` for embeddings (each column pooled). So ``X``
    may be a list of them (slides with different tile counts), or one 2-D
    array of shape ``(n_slides, n_tiles)`` holding each slide's tile scores
    in a row (a 3-D array for embeddings), NaN-padded where a slide has
    fewer tiles: **NaN means "no tile"** and is left out of every statistic.
    A 2-D array is therefore never one slide's embeddings; put those in a
    list. Followed by e.g. :class:`~sklearn.linear_model.LogisticRegression`,
    it learns a slide label from its tiles; cross-validate it by patient.

    Read more in the :ref:`User Guide <slides>`.

    Limits, which any slide-level model on pooled tiles shares:

    - The tile model must not have seen the slides it scores: pooled
      probabilities of its own training slides are optimistic, and a
      slide-level model fitted on them learns to trust them. Train the tile
      model on other patients (or out of fold) first.
    - Pooling forgets where tiles are: a small focus of tumour and scattered
      false positives can pool alike; ``max`` and ``top_k_mean`` keep small
      foci, ``mean`` and ``fraction_positive`` measure extent.
    - ``mean`` and ``fraction_positive`` depend on how much benign tissue
      was cut; ``max`` grows with the number of tiles (more chances).
    - Tile probabilities carry the tile model's calibration; pooled features
      are fine for ranking but a threshold must be tuned on slides.

    Parameters
    ----------
    stats : tuple of str, default=("mean", "max", "top_k_mean", "fraction_positive")
        The statistics of each tile column, from "mean", "max", "min", "std",
        "top_k_mean" (mean of the ``top_k`` highest) and "fraction_positive"
        (share at or above ``threshold``).
    top_k : int, default=10
        Tiles averaged by "top_k_mean" (all of them when a slide has fewer).
    threshold : float, default=0.5
        The cut of "fraction_positive".
    fill_value : float or "nan", default=0.0
        The features of a slide without tiles (or of a column without a
        value that is not NaN).

    Attributes
    ----------
    n_tile_features_ : int
        Values per tile seen in ``fit`` (1 for scores).
    n_features_in_ : int
        The same. Not the width of a 2-D ``X``: that is a tile count, which
        differs between data sets and is not checked in ``transform``.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.slide import TilePooling
    >>> slides = [np.array([0.1, 0.2, 0.9]), np.array([0.1, 0.1])]
    >>> TilePooling(top_k=2).fit_transform(slides).round(2)
    array([[0.4 , 0.9 , 0.55, 0.33],
           [0.1 , 0.1 , 0.1 , 0.  ]])

    The same slides as one NaN-padded array:

    >>> padded = np.array([[0.1, 0.2, 0.9], [0.1, 0.1, np.nan]])
    >>> TilePooling(top_k=2).fit_transform(padded).round(2)
    array([[0.4 , 0.9 , 0.55, 0.33],
           [0.1 , 0.1 , 0.1 , 0.  ]])
    """

    _parameter_constraints = {
        "stats": [tuple, list],
        "top_k": [Interval(Integral, 1, None, closed="left")],
        "threshold": [Real],
        "fill_value": [Real, StrOptions({"nan"})],
    }

    def __init__(
        self,
        stats=("mean", "max", "top_k_mean", "fraction_positive"),
        top_k=10,
        threshold=0.5,
        fill_value=0.0,
    ):
        self.stats = stats
        self.top_k = top_k
        self.threshold = threshold
        self.fill_value = fill_value

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # NaN pads the rows of slides with fewer tiles than the widest.
        tags.input_tags.allow_nan = True
        return tags

    def _tiles(self, X):
        if sparse.issparse(X):
            # A sparse zero would be a tile of score 0, not a missing one.
            raise TypeError(
                "TilePooling does not take sparse input; give a dense array "
                "(NaN for missing tiles) or a list of per-slide arrays."
            )
        if isinstance(X, (str, bytes)):
            raise TypeError(
                "TilePooling takes a sequence of slides (SlidePrediction or arrays "
                f"of tile values), got {type(X).__name__}."
            )
        if not isinstance(X, (list, tuple, np.ndarray)) and hasattr(X, "__array__"):
            # DataFrames and other array-likes: their rows are the slides
            # (iterating a DataFrame would give its column names instead).
            X = np.asarray(X)
        elif not hasattr(X, "__len__"):
            X = list(X)
        if isinstance(X, np.ndarray) and X.dtype != object and X.ndim < 2:
            raise ValueError(
                "TilePooling takes one item per slide (a SlidePrediction or an "
                f"array of its tiles), got one {X.ndim}-D array. Reshape your "
                "data with array.reshape(1, -1) if it holds the tile scores of "
                "one slide, or put the slides in a list."
            )
        if len(X) == 0:
            raise ValueError("TilePooling needs at least one slide, got none.")
        out = []
        for i, item in enumerate(X):
            values = item.scores if hasattr(item, "scores") else item
            values = np.asarray(values)
            if np.iscomplexobj(values):
                raise ValueError(f"Complex data not supported (slide {i}).")
            values = values.astype(float, copy=False)
            if values.ndim == 1:
                values = values[:, None]
            if values.ndim != 2:
                raise ValueError(
                    f"Slide {i} has tile values of shape {values.shape}; expected "
                    "(n_tiles,) or (n_tiles, n_features)."
                )
            if np.isinf(values).any():
                raise ValueError(
                    f"Slide {i} has infinite tile values; only NaN (no tile) is "
                    "allowed besides finite numbers."
                )
            out.append(values)
        return out

    def fit(self, X, y=None):
        """Check the parameters and record the tiles' width.

        Parameters
        ----------
        X : list of SlidePrediction or arrays, or ndarray of shape (n_slides, n_tiles)
            One item per slide (a 3-D array for embeddings); NaN marks a
            missing tile.
        y : None
            Ignored.

        Returns
        -------
        self : TilePooling

        Examples
        --------
        >>> import numpy as np
        >>> from skbreast.slide import TilePooling
        >>> TilePooling().fit([np.ones(3)]).n_tile_features_
        1
        """
        self._validate_params()
        unknown = sorted(set(self.stats) - set(_STATS))
        if unknown or not self.stats:
            raise ValueError(
                f"stats must be a non-empty subset of {_STATS}, got {unknown}."
            )
        tiles = self._tiles(X)
        widths = {t.shape[1] for t in tiles}
        if len(widths) > 1:
            raise ValueError(f"Slides have different tile widths: {sorted(widths)}.")
        self.n_tile_features_ = widths.pop() if widths else 1
        self.n_features_in_ = self.n_tile_features_
        return self

    def transform(self, X):
        """Pool every slide's tiles.

        Parameters
        ----------
        X : list of SlidePrediction or arrays, or ndarray of shape (n_slides, n_tiles)
            One item per slide (a 3-D array for embeddings); NaN marks a
            missing tile.

        Returns
        -------
        features : ndarray of shape (n_slides, ``len(stats) * n_tile_features_``)
            Grouped by statistic, then by tile column.

        Examples
        --------
        >>> import numpy as np
        >>> from skbreast.slide import TilePooling
        >>> TilePooling(stats=("max",)).fit_transform([np.array([0.2, 0.7])])
        array([[0.7]])
        """
        check_is_fitted(self)
        tiles = self._tiles(X)
        width = self.n_tile_features_
        rows = []
        for i, values in enumerate(tiles):
            if values.shape[1] != width and len(values):
                raise ValueError(
                    f"Slide {i} has {values.shape[1]} values per tile; TilePooling "
                    f"was fitted with {width}."
                )
            rows.append(self._pool(values, width))
        return np.array(rows, dtype=float).reshape(len(rows), -1)

    def _pool(self, values, width):
        present = ~np.isnan(values)
        if present.all():
            return self._pool_columns(values, width)
        # NaN is padding: pool each column over its own tiles.
        out = np.empty((len(self.stats), width))
        for j in range(width):
            column = values[present[:, j], j][:, None]
            out[:, j] = self._pool_columns(column, 1)
        return out.ravel()

    def _pool_columns(self, values, width):
        if len(values) == 0:
            return np.full(len(self.stats) * width, float(self.fill_value))
        k = min(self.top_k, len(values))
        top = -np.sort(-values, axis=0)[:k]
        pooled = {
            "mean": lambda: values.mean(axis=0),
            "max": lambda: values.max(axis=0),
            "min": lambda: values.min(axis=0),
            "std": lambda: values.std(axis=0),
            "top_k_mean": lambda: top.mean(axis=0),
            "fraction_positive": lambda: (values >= self.threshold).mean(axis=0),
        }
        return np.concatenate([pooled[name]() for name in self.stats])

    def get_feature_names_out(self, input_features=None):
        """Return ``<stat>`` (one tile value) or ``<stat>_<column>`` names.

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        names : ndarray of str

        Examples
        --------
        >>> import numpy as np
        >>> from skbreast.slide import TilePooling
        >>> TilePooling(stats=("mean", "max")).fit([np.ones(2)]).get_feature_names_out()
        array(['mean', 'max'], dtype=object)
        """
        check_is_fitted(self)
        if self.n_tile_features_ == 1:
            return np.array(list(self.stats), dtype=object)
        return np.array(
            [f"{s}_{j}" for s in self.stats for j in range(self.n_tile_features_)],
            dtype=object,
        )
