"""Image readers for chest X-rays: PNG/JPEG through PIL (as greyscale) and DICOM through pydicom."""

from __future__ import annotations

from monai.data import PILReader, PydicomReader

__all__ = ["cxr_readers"]


def _to_grey(image):  # a PIL image; JPEG CXRs are sometimes stored as RGB
    return image.convert("L") if image.mode not in ("L", "I", "I;16", "F") else image


def cxr_readers() -> list:
    """Readers for ``LoadImage(reader=...)``: ``PILReader`` (greyscale) for PNG/JPEG, ``PydicomReader`` for ``.dcm``.

    Both give the same ``(W, H)`` orientation for the same pixels. The DICOM reader keeps the header
    (``prune_metadata=False``) so that :class:`noisymed.transforms.InvertMonochrome1d` can read
    ``PhotometricInterpretation`` (MONAI does not invert MONOCHROME1). Passing the readers explicitly
    avoids MONAI's install-dependent reader auto-selection.

    Returns:
        ``[PydicomReader, PILReader]`` (``LoadImage`` tries the last one first, so PNG/JPEG never go to pydicom).
    """
    return [PydicomReader(prune_metadata=False), PILReader(converter=_to_grey)]
