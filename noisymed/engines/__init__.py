"""ignite/MONAI engines that MONAI lacks; they fire MONAI's iteration events."""

from __future__ import annotations

from .bundle_utils import ProgressBarHandler, TrainingCheckpoint, latest_checkpoint, loss_terms, sample_names
from .co_teaching_trainer import CoTeachingTrainer, forget_rate
from .loss_step_trainer import LossStepTrainer
from .mixup_attention_trainer import MixupAttentionTrainer
from .mixup_trainer import MixupTrainer
from .mutual_learning_trainer import MutualLearningTrainer, TrainingForward
from .noisy_label_methods import (
    METHOD_OPTIONS,
    METHODS,
    distributed_network,
    loss_keys,
    noisy_label_trainer,
    reinitialized_copy,
)
from .joint_embedding_objectives import (
    BarlowTwinsObjective,
    BYOLObjective,
    ContrastiveObjective,
    MoCoObjective,
    SimSiamObjective,
)
from .pretrained_saver import PretrainedSaver
from .pretext_objectives import JigsawObjective, RotationObjective
from .ssl_objective import SSLObjective, features, frozen_copy, momentum_update
from .ssl_pretrainer import SSL_OBJECTIVES, SSL_OPTIONS, SSLPretrainer, ssl_objective
from .vae_objective import VAEObjective
from .spml_trainer import SPML_LOSS_KEYS, SinglePositiveTrainer, SPMLTrainingForward

__all__ = [
    "MutualLearningTrainer",
    "TrainingForward",
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
    "METHODS",
    "METHOD_OPTIONS",
    "noisy_label_trainer",
    "reinitialized_copy",
    "loss_keys",
    "distributed_network",
    "SinglePositiveTrainer",
    "SPMLTrainingForward",
    "SPML_LOSS_KEYS",
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
