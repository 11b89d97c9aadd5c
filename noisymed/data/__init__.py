"""Dataset sources in their real formats, returning MONAI datalists, and the readers they need."""

from __future__ import annotations

from .chexpert import CHEXPERT_CLASSES, CHEXPERT_COMPETITION_CLASSES, chexpert_datalist
from .classification import CLASSIFICATION_EXTENSIONS, DICOM_EXTENSIONS, csv_datalist, folder_classes, folder_datalist
from .classification_splits import classification_splits
from .csv_labels import LABEL_RULES, check_classes, encode_observations, read_csv_rows, read_csv_table, required_cell
from .cxr_reader import cxr_readers
from .cxr_sources import CXR_SOURCES, cxr_classes, cxr_datalist
from .demo import DEMO_SHAPE, ensure_la_demo, export_demo_inputs, make_la_like_case
from .demo_classification import CLASSIFICATION_DEMO_CLASSES, ensure_classification_demo, make_classification_image
from .demo_cxr import CXR_DEMO_FINDINGS, ensure_cxr_demo, make_cxr_like_image
from .dicom_io import new_dicom_uid, write_dicom_image, write_dicom_series
from .h5_reader import H5Reader
from .inputs import VOLUME_SUFFIXES, image_datalist, segmentation_datalist
from .la_h5 import (
    LA_H5_NAME,
    LA_SPACING,
    LADataError,
    check_la_case,
    check_label_foreground,
    la_cases,
    la_h5_to_nifti,
    la_splits,
    read_case_list,
)
from .medmnist import MEDMNIST_SPLITS, medmnist_datalist, medmnist_info
from .mimic_cxr import MIMIC_FRONTAL_VIEWS, MIMIC_SPLITS, mimic_cxr_datalist, mimic_cxr_image_path
from .nih_cxr14 import NIH_CLASSES, NO_FINDING, nih_cxr14_datalist, nih_subset_datalist, parse_finding_labels
from .probability_csv import ProbabilityCSVSaver
from .sitk_reader import SimpleITKReader, list_dicom_series
from .two_stream_sampler import TwoStreamBatchSampler

__all__ = [
    "ProbabilityCSVSaver",
    "classification_splits",
    "H5Reader",
    "image_datalist",
    "segmentation_datalist",
    "VOLUME_SUFFIXES",
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
    "check_label_foreground",
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
    "LABEL_RULES",
    "read_csv_rows",
    "read_csv_table",
    "required_cell",
    "encode_observations",
    "check_classes",
    "CHEXPERT_CLASSES",
    "CHEXPERT_COMPETITION_CLASSES",
    "chexpert_datalist",
    "MIMIC_SPLITS",
    "MIMIC_FRONTAL_VIEWS",
    "mimic_cxr_datalist",
    "mimic_cxr_image_path",
    "NIH_CLASSES",
    "NO_FINDING",
    "nih_cxr14_datalist",
    "nih_subset_datalist",
    "parse_finding_labels",
    "CXR_SOURCES",
    "cxr_classes",
    "cxr_datalist",
    "cxr_readers",
    "CXR_DEMO_FINDINGS",
    "ensure_cxr_demo",
    "make_cxr_like_image",
    "CLASSIFICATION_DEMO_CLASSES",
    "ensure_classification_demo",
    "make_classification_image",
]
