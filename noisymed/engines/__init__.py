"""ignite/MONAI engines that MONAI lacks; they fire MONAI's iteration events."""

from __future__ import annotations

from .bundle_utils import ProgressBarHandler, TrainingCheckpoint, latest_checkpoint, loss_terms, sample_names
from .co_teaching_trainer import CoTeachingTrainer, forget_rate
from .contrastive_pretrainer import ContrastivePretrainer
from .loss_step_trainer import LossStepTrainer
from .mixup_attention_trainer import MixupAttentionTrainer
from .mixup_trainer import MixupTrainer
from .mutual_learning_trainer import (
    DIAGNOSTIC_KEYS,
    MutualLearningTrainer,
    TrainingForward,
    diagnostic_metrics,
    mutual_diagnostics,
)
from .noisy_label_methods import (
    METHOD_OPTIONS,
    METHODS,
    distributed_network,
    loss_keys,
    noisy_label_trainer,
    reinitialized_copy,
)
from .sliding_window import SW_AVERAGES, SlidingWindowAverageInferer, overlap_for_stride
from .spml_trainer import SPML_LOSS_KEYS, SinglePositiveTrainer, SPMLTrainingForward

__all__ = [
    "MutualLearningTrainer",
    "TrainingForward",
    "DIAGNOSTIC_KEYS",
    "mutual_diagnostics",
    "diagnostic_metrics",
    "SlidingWindowAverageInferer",
    "overlap_for_stride",
    "SW_AVERAGES",
    "ProgressBarHandler",
    "TrainingCheckpoint",
    "latest_checkpoint",
    "loss_terms",
    "sample_names",
    "LossStepTrainer",
    "MixupTrainer",
    "MixupAttentionTrainer",
    "CoTeachingTrainer",
    "forget_rate",
    "ContrastivePretrainer",
    "METHODS",
    "METHOD_OPTIONS",
    "noisy_label_trainer",
    "reinitialized_copy",
    "loss_keys",
    "distributed_network",
    "SinglePositiveTrainer",
    "SPMLTrainingForward",
    "SPML_LOSS_KEYS",
]
