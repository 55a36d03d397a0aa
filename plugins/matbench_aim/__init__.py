"""matbench_aim plugin: AimNet, its inference strategies and everything the
AIM training stages need, registered exactly as a third party's plugin would be."""
from . import datasets  # noqa: F401  (DATASETS 'duts', 'composition', 'matting_train')
from . import losses  # noqa: F401  (MODELS AimGlobalCELoss, AimAlphaLoss, AimLaplacianLoss, AimCompositionLoss, AimStageLoss)
from . import models  # noqa: F401  (MODELS 'AimNet', 'ResNet34MP')
from . import references  # noqa: F401  (REFERENCES 'aim-readme')
from . import strategies  # noqa: F401  (STRATEGIES 'resize', 'hybrid', 'full', 'tiled')
from . import training  # noqa: F401  (MODELS 'AimMattor', 'ImageClassifier'; DATASETS 'imagefolder')
from . import transforms  # noqa: F401  (the training TRANSFORMS)
