"""
A heatmap over a whole slide, checked against IDC annotations
=============================================================

A patch classifier earns its keep on a whole slide: a pathologist looks at a map
of the tumour over the slide, not at a table of patches. This example builds a
slide the way a scanner would store it, a **pyramidal tiled TIFF**, from one IDC
patient's real 50x50 patches placed at the coordinates in their file names; finds
its tissue; trains a small CNN on *other* patients' patches; predicts every tissue
tile of the slide with :func:`skbreast.slide.predict_slide`; and draws the map
beside the pathologists' own annotation (the IDC label of each patch).

The IDC subset beside the project (``../shared/data/idc_subset``) holds a sample
of each patient's patches, so the slide has holes where patches were left out.
The CNN is tiny and trained for a few epochs so that the example runs in seconds:
read the map as a demonstration of the method, not of the model. When the folder
is absent, the example falls back to the synthetic patches of
:func:`skbreast.datasets.make_patches`, laid out around a "tumour" in the middle.
See :ref:`slides` for everything :mod:`skbreast.slide` does.
"""

import os
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import tifffile
from matplotlib.colors import ListedColormap
from sklearn.metrics import roc_auc_score

from skbreast import CNNClassifier
from skbreast.datasets import load_idc, make_patches
from skbreast.plotting import plot_slide_heatmap
from skbreast.slide import open_slide, predict_slide, tile_heatmap, tissue_mask

start = time.perf_counter()
PATCH = 50  # IDC patches are 50x50 pixels of a 40x scan reduced 16 to 1
MPP = 4.0  # so about 4 microns per pixel

# %%
# The patches: one patient for the slide, others to train on
# ----------------------------------------------------------
# IDC file names (``<patient>_idx5_x<X>_y<Y>_class<k>.png``) give each patch's
# corner in its patient's slide and its label. The slide is patient 10308's; the
# CNN is trained on every eighth of the other patients, never on 10308.
here = Path(globals().get("__file__", "plot_whole_slide.py")).resolve().parent
candidates = [
    Path("../shared/data/idc_subset/IDC_regular_ps50_idx5"),
    here.parents[1] / "shared" / "data" / "idc_subset" / "IDC_regular_ps50_idx5",
]
root = next((p for p in candidates if p.is_dir()), candidates[0])
SLIDE_PATIENT = "10308"
if (root / SLIDE_PATIENT).is_dir():
    slide_data = load_idc(root / SLIDE_PATIENT)
    patches, labels = slide_data.images, slide_data.target
    xs, ys = slide_data.x - 1, slide_data.y - 1  # corners are at 50 k + 1
    others = sorted(p for p in os.listdir(root) if p != SLIDE_PATIENT)[::8]
    train = [load_idc(root / patient) for patient in others]
    X = np.concatenate([d.images for d in train])
    y = np.concatenate([d.target for d in train])
    groups = np.concatenate([d.groups for d in train])
    name = f"patient_{SLIDE_PATIENT}"
else:
    print(f"{root} not found: using synthetic patches from make_patches instead.")
    data = make_patches(n_samples=1000, n_patients=10, random_state=0)
    held_out = data.groups == data.groups[0]
    X, y = data.images[~held_out], data.target[~held_out]
    groups = data.groups[~held_out]
    patches, labels = data.images[held_out], data.target[held_out]
    # A square of cells; the malignant patches take those nearest its centre.
    side = int(np.ceil(np.sqrt(len(patches))))
    cells = np.stack(np.divmod(np.arange(side * side), side), axis=1)
    order = np.argsort(np.hypot(*(cells - (side - 1) / 2).T), kind="stable")
    ranked = np.argsort(-labels, kind="stable")  # malignant first
    place = np.empty((len(patches), 2), dtype=int)
    place[ranked] = cells[order[: len(patches)]]
    ys, xs = (place * PATCH + PATCH).T  # a margin of glass around
    name = "synthetic"
print(
    f"slide: {len(patches)} patches ({labels.sum()} positive); training: "
    f"{len(X)} patches of {len(np.unique(groups))} other patients"
)

# %%
# Write the slide as a pyramidal tiled TIFF
# -----------------------------------------
# White glass with every patch at its place; level 0 plus two reduced levels
# (2x and 4x) in sub-IFDs, JPEG-compressed 256x256 tiles and the resolution in
# the TIFF tags, as scanners write slides. tifffile writes it; ``open_slide``
# reads it through tiffslide, with no OpenSlide system library.
width, height = int(xs.max()) + 2 * PATCH, int(ys.max()) + 2 * PATCH
image = np.full((height, width, 3), 255, dtype=np.uint8)
for patch, x, y0 in zip(patches, xs, ys):
    image[y0 : y0 + PATCH, x : x + PATCH] = patch
path = os.path.join(tempfile.mkdtemp(), f"{name}.tif")
options = dict(tile=(256, 256), photometric="rgb", compression="jpeg")
with tifffile.TiffWriter(path) as tif:
    tif.write(
        image,
        subifds=2,
        resolution=(1e4 / MPP, 1e4 / MPP),
        resolutionunit="CENTIMETER",
        **options,
    )
    for factor in (2, 4):
        tif.write(image[::factor, ::factor], subfiletype=1, **options)

slide = open_slide(path)
print(slide)
print("levels (width, height, downsample):", [tuple(lv) for lv in slide.levels])

# %%
# Find the tissue
# ---------------
# Otsu's threshold on the saturation of a thumbnail (the coarsest level here):
# stain is coloured, glass is not. Patches of fat are nearly white and are left
# out, like the glass.
mask = tissue_mask(slide)
thumbnail, thumb_downsample = slide.read_thumbnail(1024)
print(
    f"tissue: {mask.mask.mean():.0%} of the slide (threshold {mask.threshold:.3f}, "
    f"mask at 1/{mask.downsample:g})"
)

# %%
# Train a small CNN on the other patients
# ---------------------------------------
# ``groups`` are the patients: early stopping and the learning-rate schedule
# would hold out whole patients (here, with 5 fixed epochs, they are passed for
# good habit). A single convolution block keeps the example fast.
model = CNNClassifier(
    filters=(8,),
    dense_units=(),
    conv_dropout=0.0,
    dense_dropout=0.0,
    learning_rate=0.003,
    early_stopping=False,
    epochs=5,
    random_state=0,
)
model.fit(X, y, groups=groups)

# %%
# Predict every tissue tile
# -------------------------
# Tiles of the model's input size (50x50) at the resolution it was trained at
# (``mpp=4.0``); tiles are decoded by two threads, the next batch while the model
# predicts the current one. The summary holds the slide-level scores.
pred = predict_slide(model, slide, mpp=MPP, mask=mask, n_jobs=2)
summary = pred.summary(threshold=0.5, top_k=10)
print(
    f"{summary['n_tiles']} tiles: mean {summary['mean']:.2f}, max "
    f"{summary['max']:.2f}, top-10 mean {summary['top_k_mean']:.2f}, "
    f"{summary['fraction_positive']:.0%} of tiles at or above 0.5"
)
# Tiles and patches share the 50-pixel grid, so a tile's annotation is its
# patch's label (-1 for a tile without a patch, which the mask should prevent).
truth = dict(zip(zip(xs.tolist(), ys.tolist()), labels.tolist()))
tile_labels = np.array([truth.get(tuple(c), -1) for c in pred.coords.tolist()])
known = tile_labels >= 0
auc = roc_auc_score(tile_labels[known], pred.scores[known])
print(f"ROC AUC of the tile scores against the annotation: {auc:.2f}")

# %%
# The map beside the annotation
# -----------------------------
# Left, the slide and its tissue mask; middle, P(IDC) of every tile over the
# thumbnail; right, the same map drawn from the patch labels with
# :func:`skbreast.slide.tile_heatmap` (the tool for any patches with known
# positions, such as IDC's).
fig, (ax_mask, ax_pred, ax_true) = plt.subplots(1, 3, figsize=(15, 5))
box = (0, thumbnail.shape[1], thumbnail.shape[0], 0)  # both images, same box
ax_mask.imshow(thumbnail, extent=box)
ax_mask.imshow(
    np.ma.masked_where(~mask.mask, mask.mask),
    extent=box,
    cmap=ListedColormap(["limegreen"]),
    alpha=0.5,
    interpolation="nearest",
)
ax_mask.set_title("slide, tissue mask in green")
ax_mask.set_axis_off()
plot_slide_heatmap(
    pred.heatmap(downsample=thumb_downsample),
    thumbnail,
    ax=ax_pred,
    label="P(IDC)",
    title="CNN, held-out patient",
)
annotation = tile_heatmap(
    pred.coords[known],
    tile_labels[known],
    pred.extent,
    downsample=thumb_downsample,
    shape=thumbnail.shape[:2],
)
plot_slide_heatmap(
    annotation, thumbnail, ax=ax_true, label="IDC label", title="annotation"
)
fig.tight_layout()
slide.close()
print(f"done in {time.perf_counter() - start:.0f} s")
plt.show()

# %%
# From the command line, ``skbreast predict-slide SLIDE --model m.skb --out DIR
# --mpp 4`` does the same for any number of slides and writes, per slide, the
# tiles CSV, the heatmap PNG and a JSON of the slide scores.
