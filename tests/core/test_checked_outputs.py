"""Every model output is checked before it is scored (issue 18): a non-float alpha, another shape
(transposed, half-size, a batch) or values outside [0, 1] stop the run with one line naming the
image and the model; nothing is resized, picked from or clipped into a plausible number."""
import numpy as np
import pytest
import torch

import matbench
from matbench.api import MODELS, TrimapMattingModel
from matbench.errors import InputError, MatbenchError
from matbench.networks import checked_alpha

H, W = 6, 9


@pytest.mark.parametrize("output, needle", [
    (np.full((H, W), 128, np.uint8), "uint8 alpha"),
    (torch.zeros(H, W, dtype=torch.int64), "int64 alpha"),
    (np.zeros((W, H)), "9x6 alpha for a 6x9 image"),
    (np.zeros((H // 2, W // 2)), "3x4 alpha"),
    (np.zeros((2, H, W)), "2x6x9 alpha"),
    (np.linspace(-0.5, 1.5, H * W).reshape(H, W), "outside [0, 1]"),
    (np.full((H, W), 255.0), "outside [0, 1]"),
    (np.full((H, W), np.nan), "non-finite"),
])
def test_bad_outputs_are_refused(output, needle):
    with pytest.raises(InputError, match=needle.replace("[", r"\[").replace("]", r"\]")) as info:
        checked_alpha(output, (H, W), "Odd", "photo.jpg")
    assert str(info.value).startswith("photo.jpg: ") and "Odd" in str(info.value)


def test_good_outputs_pass_as_float64_within_the_tolerance():
    edge = np.full((H, W), 1 + 5e-7)
    got = checked_alpha(torch.from_numpy(edge).float(), (H, W), "Fine", "photo.jpg")
    assert got.dtype == np.float64 and got.max() == 1.0
    assert np.array_equal(checked_alpha(np.full((H, W), 0.25, np.float32), (H, W), "Fine", "p"), np.full((H, W), 0.25))


@MODELS.register_module(name="TestTransposedMatte")
class TransposedMatte(TrimapMattingModel):
    """Returns the trimap's transpose as an alpha: the wrong shape whenever the image is not square."""

    def predict(self, image, trimap):
        return trimap.T / 255.0


def test_a_plugin_models_transposed_output_stops_the_evaluation(tmp_path):
    with pytest.raises(MatbenchError, match="TestTransposedMatte returned a") as info:
        matbench.evaluate(model="TestTransposedMatte", dataset_options={"indices": 2}, work_dir=tmp_path / "w")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "w" / "results.json").exists()
