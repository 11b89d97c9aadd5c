"""Dataset sources in their real formats, returning MONAI datalists, and the readers they need."""

from __future__ import annotations

from .case_lists import resolve_case_ids
from .brats import (
    BRATS_MODALITIES,
    BRATS_SEG_VALUES,
    BRATS_SPACING,
    BraTSDataError,
    brats_case_ids,
    brats_cases,
    brats_input_datalist,
    brats_layout,
    brats_modalities,
    brats_reader,
    brats_splits,
    check_brats_case,
)
from .chexpert import CHEXPERT_CLASSES, CHEXPERT_COMPETITION_CLASSES, chexpert_datalist
from .classification import CLASSIFICATION_EXTENSIONS, DICOM_EXTENSIONS, csv_datalist, folder_classes, folder_datalist
from .classification_splits import classification_splits
from .csv_labels import LABEL_RULES, check_classes, encode_observations, read_csv_rows
from .cxr_reader import cxr_readers
from .cxr_sources import CXR_SOURCES, cxr_classes, cxr_datalist
from .demo import DEMO_SHAPE, ensure_la_demo, export_demo_inputs, make_la_like_case
from .demo_cxr import CXR_DEMO_FINDINGS, ensure_cxr_demo, make_cxr_like_image
from .dicom_io import new_dicom_uid, write_dicom_image, write_dicom_series
from .h5_reader import H5Reader
from .inputs import image_datalist
from .la_h5 import LA_H5_NAME, LA_SPACING, LADataError, check_la_case, la_cases, la_h5_to_nifti, la_splits, read_case_list
from .medmnist import MEDMNIST_SPLITS, medmnist_datalist, medmnist_info
from .mimic_cxr import MIMIC_FRONTAL_VIEWS, MIMIC_SPLITS, mimic_cxr_datalist, mimic_cxr_image_path
from .nih_cxr14 import NIH_CLASSES, NO_FINDING, nih_cxr14_datalist, nih_subset_datalist, parse_finding_labels
from .pancreas_ct import (
    PANCREAS_AIR_HU,
    PANCREAS_CROP_MARGIN,
    PANCREAS_LABEL_VALUES,
    PANCREAS_MIN_CROP,
    PANCREAS_SOURCES,
    PANCREAS_SPACING,
    PANCREAS_WINDOW,
    TCIA_ABSENT,
    PancreasDataError,
    check_ct_series,
    check_hu_range,
    check_label_grid,
    pancreas_case_index,
    pancreas_cases,
    pancreas_crop_box,
    pancreas_input_datalist,
    pancreas_reader,
    pancreas_source_cases,
    pancreas_splits,
    prepare_pancreas,
    preprocess_pancreas_case,
    read_ct_case,
    tcia_series_folder,
)
from .overlay_png import write_overlay_png
from .probability_csv import ProbabilityCSVSaver
from .sitk_reader import SimpleITKReader, list_dicom_series
from .two_stream_sampler import TwoStreamBatchSampler

__all__ = [
    "ProbabilityCSVSaver",
    "classification_splits",
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
    "BRATS_MODALITIES",
    "BRATS_SEG_VALUES",
    "BRATS_SPACING",
    "brats_reader",
    "BraTSDataError",
    "brats_modalities",
    "brats_case_ids",
    "brats_layout",
    "check_brats_case",
    "brats_cases",
    "brats_splits",
    "brats_input_datalist",
    "resolve_case_ids",
    "PANCREAS_SOURCES",
    "PANCREAS_WINDOW",
    "PANCREAS_SPACING",
    "PANCREAS_CROP_MARGIN",
    "PANCREAS_MIN_CROP",
    "PANCREAS_LABEL_VALUES",
    "TCIA_ABSENT",
    "PANCREAS_AIR_HU",
    "PancreasDataError",
    "check_ct_series",
    "check_hu_range",
    "check_label_grid",
    "tcia_series_folder",
    "pancreas_source_cases",
    "read_ct_case",
    "pancreas_crop_box",
    "preprocess_pancreas_case",
    "prepare_pancreas",
    "pancreas_case_index",
    "pancreas_cases",
    "pancreas_splits",
    "pancreas_reader",
    "pancreas_input_datalist",
    "write_overlay_png",
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
]
