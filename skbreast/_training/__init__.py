"""What only training needs: the estimator base and its parts.

- :mod:`~skbreast._training.estimator`: ``BaseImageClassifier``, the scikit-learn
  face (parameters, ``fit``, ``predict*``, pickling);
- :mod:`~skbreast._training.validation`: input validation (arrays, flattened rows,
  file paths, labels, weights);
- :mod:`~skbreast._training.fit_loop`: the training loop, top to bottom;
- :mod:`~skbreast._training.prediction`, :mod:`~skbreast._training.pickling`;
- helpers of the loop: ``batches`` (image sources and Keras batches),
  ``checkpoint``, ``schedules``, ``sampling``, ``precision``, ``release``,
  ``threads``, and the shared parameter ``docstrings``.

Nothing here imports persistence, the estimator modules or the command line.
"""
