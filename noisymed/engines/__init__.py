"""ignite/MONAI engines that MONAI lacks; they fire MONAI's iteration events."""

from __future__ import annotations

from .atomic_metrics_saver import STAGING_PREFIX, AtomicMetricsSaver
from .bundle_utils import ProgressBarHandler, loss_terms, sample_names
from .co_teaching_trainer import CoTeachingTrainer, forget_rate
from .joint_embedding_objectives import (
    BarlowTwinsObjective,
    BYOLObjective,
    ContrastiveObjective,
    MoCoObjective,
    SimSiamObjective,
)
from .loss_step_trainer import LossStepTrainer
from .mixup_attention_trainer import MixupAttentionTrainer
from .mixup_trainer import MixupTrainer
from .model_loader import ModelLoader, load_model_weights
from .model_saver import ModelSaver
from .model_settings import MODEL_SETTINGS_NAME, ModelSettingsSaver, read_model_settings
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
from .non_finite_loss import NonFiniteLossError, StopOnNonFiniteLoss
from .pretext_objectives import JigsawObjective, RotationObjective
from .pretrained_saver import PretrainedSaver
from .random_state import capture_random_state, random_transforms, restore_random_state
from .slice_overlay import SliceOverlaySaver, busiest_slice, mask_of
from .sliding_window import SW_AVERAGES, SlidingWindowAverageInferer, overlap_for_stride
from .spml_trainer import SPML_LOSS_KEYS, SinglePositiveTrainer, SPMLTrainingForward
from .ssl_objective import SSLObjective, features, frozen_copy, momentum_update
from .ssl_pretrainer import SSL_OBJECTIVES, SSL_OPTIONS, SSLPretrainer, ssl_objective
from .training_checkpoint import TrainingCheckpoint, latest_checkpoint, load_latest_checkpoint
from .vae_objective import VAEObjective

__all__ = [
    "AtomicMetricsSaver",
    "STAGING_PREFIX",
    "MutualLearningTrainer",
    "SliceOverlaySaver",
    "busiest_slice",
    "mask_of",
    "TrainingForward",
    "DIAGNOSTIC_KEYS",
    "mutual_diagnostics",
    "diagnostic_metrics",
    "SlidingWindowAverageInferer",
    "overlap_for_stride",
    "SW_AVERAGES",
    "ProgressBarHandler",
    "StopOnNonFiniteLoss",
    "NonFiniteLossError",
    "TrainingCheckpoint",
    "latest_checkpoint",
    "loss_terms",
    "sample_names",
    "LossStepTrainer",
    "MixupTrainer",
    "MixupAttentionTrainer",
    "CoTeachingTrainer",
    "forget_rate",
    "METHODS",
    "METHOD_OPTIONS",
    "noisy_label_trainer",
    "reinitialized_copy",
    "loss_keys",
    "distributed_network",
    "SinglePositiveTrainer",
    "SPMLTrainingForward",
    "SPML_LOSS_KEYS",
    "ModelSaver",
    "load_latest_checkpoint",
    "capture_random_state",
    "restore_random_state",
    "random_transforms",
    "ModelLoader",
    "load_model_weights",
    "ModelSettingsSaver",
    "read_model_settings",
    "MODEL_SETTINGS_NAME",
    "SSLObjective",
    "features",
    "frozen_copy",
    "momentum_update",
    "ContrastiveObjective",
    "MoCoObjective",
    "BYOLObjective",
    "SimSiamObjective",
    "BarlowTwinsObjective",
    "RotationObjective",
    "JigsawObjective",
    "VAEObjective",
    "SSLPretrainer",
    "PretrainedSaver",
    "SSL_OBJECTIVES",
    "SSL_OPTIONS",
    "ssl_objective",
]
