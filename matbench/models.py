"""Model interfaces the evaluation loop knows about (the models themselves are plugins)."""
from __future__ import annotations

import numpy as np


class TrimapMattingModel:
    """A weight-free matting method fed with the dataset's trimap (e.g. closed-form matting).

    Unlike networks, such a model needs no inference strategy: it works at native resolution.
    Subclasses implement :meth:`predict`.
    """

    def predict(self, image: np.ndarray, trimap: np.ndarray) -> np.ndarray:
        """Alpha (float64 HxW in [0, 1]) for an RGB uint8 HxWx3 image and its 0/128/255 trimap."""
        raise NotImplementedError
