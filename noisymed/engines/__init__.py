"""ignite/MONAI engines that MONAI lacks; they fire MONAI's iteration events."""

from __future__ import annotations

from .bundle_utils import ProgressBarHandler, TrainingCheckpoint, latest_checkpoint, loss_terms
from .mutual_learning_trainer import MutualLearningTrainer, TrainingForward
from .prediction_csv import PredictionCSVWriter
from .spml_trainer import SPML_LOSS_KEYS, SinglePositiveTrainer, SPMLTrainingForward

__all__ = [
    "MutualLearningTrainer",
    "TrainingForward",
    "ProgressBarHandler",
    "TrainingCheckpoint",
    "latest_checkpoint",
    "loss_terms",
    "SinglePositiveTrainer",
    "SPMLTrainingForward",
    "SPML_LOSS_KEYS",
    "PredictionCSVWriter",
]
