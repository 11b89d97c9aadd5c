"""Dataset sources in their real formats, returning MONAI datalists, and the readers they need."""

from __future__ import annotations

from .classification import CLASSIFICATION_EXTENSIONS, DICOM_EXTENSIONS, csv_datalist, folder_classes, folder_datalist
from .classification_splits import classification_splits
from .dicom_image import read_dicom_image
from .dicom_io import new_dicom_uid, write_dicom_image, write_dicom_series
from .demo import DEMO_SHAPE, ensure_la_demo, export_demo_inputs, make_la_like_case
from .h5_reader import H5Reader
from .inputs import image_datalist
from .la_h5 import LA_H5_NAME, LA_SPACING, LADataError, check_la_case, la_cases, la_h5_to_nifti, la_splits, read_case_list
from .medmnist import MEDMNIST_SPLITS, medmnist_datalist, medmnist_info
from .probability_csv import ProbabilityCSVSaver
from .sitk_reader import SimpleITKReader, list_dicom_series
from .two_stream_sampler import TwoStreamBatchSampler

__all__ = [
    "ProbabilityCSVSaver",
    "classification_splits",
    "read_dicom_image",
    "H5Reader",
    "image_datalist",
    "SimpleITKReader",
    "list_dicom_series",
    "write_dicom_series",
    "write_dicom_image",
    "new_dicom_uid",
    "TwoStreamBatchSampler",
    "LADataError",
    "LA_H5_NAME",
    "LA_SPACING",
    "read_case_list",
    "check_la_case",
    "la_cases",
    "la_splits",
    "la_h5_to_nifti",
    "DEMO_SHAPE",
    "ensure_la_demo",
    "export_demo_inputs",
    "make_la_like_case",
    "MEDMNIST_SPLITS",
    "medmnist_info",
    "medmnist_datalist",
    "CLASSIFICATION_EXTENSIONS",
    "DICOM_EXTENSIONS",
    "folder_classes",
    "folder_datalist",
    "csv_datalist",
]
