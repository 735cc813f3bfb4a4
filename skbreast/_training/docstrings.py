"""Docstring sections shared by the estimators, so their documentation cannot drift."""

INPUT_SHAPE = """\
input_shape : tuple of int or None, default=None
        ``(height, width, channels)`` of one image. Needed only for flattened 2-D
        input whose images are not square, or to fix the size images given as file
        paths are resized to. See *Input* below."""

TRAINING = """\
epochs : int, default={epochs}
        Maximum number of passes over the training data.
    batch_size : int, default=32
        Images per gradient step.
    optimizer : str, keras optimizer class or instance, default="adam"
        The optimizer; a fresh copy is made for every fit.
    learning_rate : float, default={learning_rate}
        Learning rate, overriding the optimizer's own.
    lr_schedule : "plateau", "cosine" or None, default="plateau"
        How the learning rate changes during a fit. "plateau" divides it by 5 when
        the loss has not improved for ``n_iter_no_change // 2`` epochs (the
        validation loss with early stopping, else the training loss), down to
        1/1000 of its start, so that it suits short and long fits alike; "cosine"
        decays it along a half cosine to 0 over ``epochs`` (best when ``epochs`` is
        a fixed budget); None keeps it constant. See the user guide's
        "Learning-rate schedule".
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, keyed by label; "balanced" weights classes inversely
        to their frequency in the training data. Multiplied with ``sample_weight``.
    threshold : float in (0, 1), "balanced_accuracy" or "f1", default=0.5
        Decision threshold of a binary problem: ``predict`` gives ``classes_[1]``
        where its probability exceeds ``threshold_`` (``decision_function`` is
        shifted to match; ``predict_proba`` is unchanged). A float is used as is.
        "balanced_accuracy" or "f1": after training, with the best weights
        restored, the threshold that maximises that metric on the early-stopping
        validation set is chosen (candidates: 0.5 and the midpoints between its
        distinct probabilities; ties go to the one closest to 0.5). It costs one
        prediction of that set and never sees test data: the set is held out of
        the training data inside ``fit`` (whole patients with ``groups``, the
        patients of ``validation_groups_``), so it is leak-free in
        cross-validation too. Without a validation set (early stopping off or
        declined by "auto", a validation set of one class, ``partial_fit``) it
        warns and uses 0.5; a ``partial_fit`` continuing a fit keeps its
        ``threshold_``. Ignored for more than two classes (``threshold_`` is
        None). See the user guide's "Decision threshold".
    early_stopping : bool or "auto", default="auto"
        Hold out a stratified ``validation_fraction`` of the training data (drawn
        inside every fit, so cross-validation folds never leak into it), stop when the
        validation loss has not improved for ``n_iter_no_change`` epochs and restore
        the weights of the best epoch. **Patient data needs** ``fit(X, y,
        groups=patients)``: with groups, whole patients are held out (a stratified
        group split; the held-out patients are ``validation_groups_``); without
        them the split is by image, so validation images come from training
        patients and the monitored loss rewards memorising patients. "auto"
        enables it when the training set has at least 100 images and every class
        at least 2 images (with groups: at least 2 patients; otherwise it warns
        and trains without early stopping).
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping; with groups, the
        patient fold of ``StratifiedGroupKFold(round(1 / validation_fraction))``
        whose share of images is nearest to it, among those that keep every class
        on both sides.
    n_iter_no_change : int, default={n_iter_no_change}
        Epochs without improvement of the validation loss before stopping.
    rescale : "auto" or float, default="auto"
        Factor applied to pixel values inside the model. "auto": 1/255 for uint8
        images, for file paths, and for float arrays whose values lie in [0, 255]
        with a maximum above 1 (8-bit pixels held as floats); 1.0 otherwise (data
        already scaled). Fixed at the first fit.
    sampler : imbalanced-learn sampler or None, default=None
        ``RandomUnderSampler`` or ``RandomOverSampler`` applied to the training
        images' indices at the start of every epoch, so each epoch sees a fresh
        rebalanced draw and no image is copied (works for arrays and file paths).
        Samplers that synthesise or look at pixels (SMOTE, NearMiss, ...) belong in
        an ``imblearn.pipeline`` on flattened images instead. The validation set
        for early stopping is not resampled.
    balance : "patient" or None, default=None
        "patient": every epoch draws, for each class, as many training images as
        it has (or as ``sampler`` drew), patient first and then image, so that
        every patient of a class contributes equally however many images it has.
        Needs ``fit(X, y, groups=patients)``. Composes with ``class_weight`` (loss
        weights) and ``sampler`` (which sets the class counts it balances
        within). None: every image once per epoch.
    warm_start : bool, default=False
        When True, ``fit`` continues training the fitted model (same classes and
        image shape) instead of building a new one.
    callbacks : list of keras.callbacks.Callback or None, default=None
        Extra Keras callbacks, deep-copied for every fit.
    checkpoint_dir : str, path-like or None, default=None
        Folder (created if needed) where, after every epoch, the whole estimator is
        saved atomically with :func:`skbreast.save`: ``last.skbreast`` holds the
        latest epoch and, with early stopping, ``best.skbreast`` the epoch of lowest
        validation loss so far. After a crash, ``skbreast.load`` gives a fitted
        estimator, and ``set_params(warm_start=True).fit(X, y)`` resumes training
        from it. Checkpoints store ``callbacks=None``; a parameter that cannot be
        stored fails the fit before training starts. They are written before a
        string ``threshold`` is chosen, so their ``threshold_`` is the provisional
        one (a float ``threshold``, the previous fit's ``threshold_`` when
        continuing one, else 0.5), not the threshold the finished fit tunes.
    n_threads : int, "auto" or None, default="auto"
        CPU threads the Keras backend may use (TensorFlow's intra- and inter-op
        pools, PyTorch's thread count; JAX is configured through ``XLA_FLAGS``
        only). "auto" takes ``OMP_NUM_THREADS`` when it is set, as joblib's and
        Dask's worker processes do to share the machine between parallel fits,
        and the backend's default (all cores) otherwise; None always leaves the
        default. TensorFlow's pools are fixed for a process once it has run, so
        the first fit in a process decides; a later, different value warns.
    precision : {{"auto", "float32", "mixed_bfloat16", "mixed_float16"}}, \
default="auto"
        Numeric precision of the network, applied to this estimator's model only
        (Keras' global dtype policy is left alone). The mixed policies compute in
        16-bit floats and keep the weights, the logits and the output in float32.
        "auto" is "float32" on every device today: mixed precision is opt-in until
        it is shown to cost no accuracy. On a CPU with AVX-512 BF16 the CNN trained
        1.1-1.4x and predicted 1.6x faster in "mixed_bfloat16", but its ROC AUC
        was 0.013 lower on average over 5 seeds paired by seed; on NVIDIA GPUs
        "mixed_float16" has not been measured here.
        The resolved value is ``precision_``; it is fixed at the first fit.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, dropout, the validation split and shuffling: the same
        seed gives the same probabilities on the same machine and backend.
    verbose : int, default=0
        0 is silent, 1 shows a Keras progress bar, 2 one line per epoch."""

AUGMENTATION = """\
flip : bool, default=True
        Flip each training image horizontally and, independently, vertically with
        probability 1/2 (histology has no "up").
    rotate90 : bool, default=True
        Turn each square training image by a random multiple of 90 degrees (with
        ``flip``: all 8 rotations/reflections, equally likely); non-square images
        are turned by 180 degrees only.
    stain_jitter : float, default={stain_jitter}
        Strength of the random H&E stain variation of RGB training images: each
        image's haematoxylin, eosin and DAB optical densities ``c`` become
        ``alpha * c + beta`` with ``alpha ~ U(1 - s, 1 + s)`` and
        ``beta ~ U(-s, s)`` (:class:`skbreast.models.RandomStainJitter`). 0 turns it
        off; ignored for images without 3 channels.
    zoom : float, default={zoom}
        Zoom each training image in or out by a random factor of up to ``zoom``
        (0.1: up to 10%), reflecting at the border; zooming in is a random crop
        resized to full size. 0 turns it off.
    tta : bool, default=False
        Test-time augmentation: ``predict``, ``predict_proba`` and
        ``decision_function`` average the logits over the 8 rotations/reflections
        of each image (the 4 flips of non-square ones), which makes predictions
        invariant to them at 8 (or 4) times the cost."""

AUGMENTATION_NOTE = """\
**Augmentation.** Random flips, 90-degree rotations, stain jitter and zoom run
    inside the model during training only: they are the identity at prediction time
    (``tta=True`` averages over flips and rotations instead) and never change the
    stored images. They are skipped for images smaller than 8x8 pixels (numeric data
    reshaped into strips or tiny squares)."""

ATTRIBUTES = """\
classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
    model_ : keras.Model
        The trained Keras model, ending in a ``"logits"`` dense layer and a sigmoid
        (binary) or softmax ``"probabilities"`` layer.
    history_ : dict of list of float
        Per-epoch training loss (``"loss"``), with early stopping the validation loss
        (``"val_loss"``) and, with an ``lr_schedule``, the learning rate at the end of
        the epoch (``"learning_rate"``), over all epochs trained so far.
    n_iter_ : int
        Number of epochs trained so far (including warm starts and ``partial_fit``).
    best_epoch_ : int or None
        The epoch (1-based) whose weights early stopping restored in the last fit;
        None without early stopping.
    validation_groups_ : ndarray or None
        The patients (``groups`` values) the last fit held out for early
        stopping, sorted; None when it split by image or held out nothing.
    threshold_ : float or None
        The probability of ``classes_[1]`` above which ``predict`` gives it: the
        ``threshold`` parameter, or the value chosen on the validation set for a
        string; None for more than two classes.
    image_shape_ : tuple of int
        ``(height, width, channels)`` the model takes.
    input_scale_ : float
        The scaling factor resolved from ``rescale``.
    precision_ : str
        The dtype policy the model was built with, resolved from ``precision``:
        "float32", "mixed_bfloat16" or "mixed_float16".
    n_features_in_ : int
        Values per image, ``height * width * channels``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names, when X was a DataFrame with string column names."""

INPUT = """\
**Input.** ``X`` may be a 4-D array ``(n_samples, height, width, channels)`` (or 3-D
    for one channel) of uint8 or float; a 2-D array ``(n_samples, n_features)`` of
    flattened images, so that scikit-learn and imbalanced-learn transformers can work
    on it; or a 1-D array of image file paths, decoded and resized batch by batch so
    that folders larger than memory can be used. A 2-D ``X`` is reshaped to
    ``input_shape`` when given; otherwise to a square RGB image when ``n_features`` is
    3 times a square, else a square grayscale image when it is a square, else a
    ``1 x n_features`` single-channel strip (so that generic numeric data works too).
    uint8 images are never converted as a whole: scaling is the model's first layer.

    **Outputs.** Binary problems use one sigmoid unit: ``predict_proba`` has two
    columns and ``decision_function`` is 1-D (the logit). More classes use a softmax
    layer."""
