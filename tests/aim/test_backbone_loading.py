"""Stage-0 weights (a classifier checkpoint, or torchvision's / the official ResNet-34 file,
which share the backbone's parameter names) reach AimNet's encoder."""
import pytest
import torch

from matbench.deterministic_weights import fill_deterministic
from matbench.errors import InputError
from matbench.registry import MODELS, build
from matbench_aim.models import ResNet34MP


@pytest.fixture(scope="module")
def backbone_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "resnet34.pth"
    torch.save(fill_deterministic(ResNet34MP(), seed=3).state_dict(), path)     # torchvision layout
    return path


def test_torchvision_layout_loads_into_aimnet_encoder(backbone_file):
    mattor = build(MODELS, dict(type="AimMattor", stage="sod", backbone_checkpoint=str(backbone_file)))
    expected = torch.load(backbone_file, weights_only=True)
    encoder = mattor.network.state_dict()
    assert torch.equal(encoder["resnet.layer3.5.conv2.weight"], expected["layer3.5.conv2.weight"])
    assert torch.equal(encoder["encoder0.1.running_var"], expected["bn1.running_var"])   # the alias too


def test_classifier_checkpoint_and_other_head_size(backbone_file, tmp_path):
    clf = build(MODELS, dict(type="ImageClassifier", backbone=dict(type="ResNet34MP", num_classes=10),
                             pretrained=str(backbone_file)))     # 1000-class head skipped, rest loaded
    assert tuple(clf.backbone.fc.weight.shape) == (10, 512)
    torch.save({"state_dict": clf.state_dict()}, tmp_path / "epoch_1.pth")
    mattor = build(MODELS, dict(type="AimMattor", backbone_checkpoint=str(tmp_path / "epoch_1.pth")))
    assert torch.equal(mattor.network.resnet.layer1[0].conv1.weight, clf.backbone.layer1[0].conv1.weight)


def test_wrong_weights_are_refused(tmp_path):
    torch.save({"conv1.weight": torch.zeros(64, 3, 3, 3)}, tmp_path / "bad.pth")
    with pytest.raises(InputError, match="not ResNet-34 weights"):
        build(MODELS, dict(type="ImageClassifier", pretrained=str(tmp_path / "bad.pth")))
