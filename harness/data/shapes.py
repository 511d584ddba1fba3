"""The image shapes of a dataset, read from file headers (no decoding), and whether a Dash can train on it.

A Dot learns from images noised as its Dash samples them, so the training images must have the Dash's
size and channels (a pixel-space Dash: its `sample_size` and `in_channels`). Checked by `harness check`
before any job computes, with one line that names the key to change.
"""

from __future__ import annotations

from collections import defaultdict

from PIL import Image

from harness.errors import HarnessError
from harness.images import FileImages, open_images

SHAPE_LIMIT = 20_000  # headers read per folder: every file of a small set, a large one's first 20,000
GREY_MODES = ("L", "I;16", "1")  # decoded as one channel (harness.images._decode); every other mode as RGB


def image_shapes(spec: str, limit: int | None = None) -> dict[tuple[int, int, int], list[str]]:
    """(C, H, W) -> the images of that shape (names, for files; the spec otherwise) of the image set ``spec``;
    a folder is read from its files' headers (the first ``limit`` files, all when None)."""
    images = open_images(spec)
    if not isinstance(images, FileImages):
        _, first = next(images.batches(1))
        height, width, channels = first.shape[1:]
        return {(channels, height, width): [spec]}
    shapes: dict[tuple[int, int, int], list[str]] = defaultdict(list)
    for path in images.files[:limit]:
        try:
            with Image.open(path) as img:
                shapes[(1 if img.mode in GREY_MODES else 3, img.height, img.width)].append(str(path))
        except OSError as err:
            raise HarnessError(f"{path} is not a readable image ({err}): replace or remove it") from None
    return dict(shapes)


def _shape(shape: tuple[int, int, int]) -> str:
    channels, height, width = shape
    return f"{height}x{width} {'grey' if channels == 1 else 'RGB' if channels == 3 else f'{channels}-channel'}"


def training_shape_problem(spec: str, dash_shape: tuple[int, int, int], key: str) -> str | None:
    """None when every image of ``spec`` has the Dash's (C, H, W), else one line: which images differ,
    and the config key (``key``) or conversion that fixes it."""
    shapes = image_shapes(spec, limit=SHAPE_LIMIT)
    wrong = {shape: names for shape, names in shapes.items() if shape != tuple(dash_shape)}
    if not wrong:
        return None
    found = ", ".join(f"{len(names)} {_shape(shape)} (e.g. {names[0]})" for shape, names in
                      sorted(wrong.items(), key=lambda item: -len(item[1])))
    return (f"dataset {spec!r}: the Dash samples {_shape(dash_shape)} images, but the set holds {found}: convert the "
            f"images to {_shape(dash_shape)} (e.g. with PIL's Image.resize and convert), or point config key `{key}` "
            "at images of the Dash's size")
