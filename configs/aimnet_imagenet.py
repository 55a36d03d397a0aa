# Stage 0: the resnet34_mp backbone as an ImageNet classifier.
#   matbench train configs/aimnet_imagenet.py --cfg-options train_dataloader.dataset.data_root=...
# To start from torchvision's ResNet-34 weights (same parameter names):
#   --cfg-options model.pretrained=resnet34-b627a593.pth
_base_ = ['_base_/default_runtime.py', '_base_/datasets/imagenet.py', '_base_/schedules/imagenet_resnet.py']
model = dict(type='ImageClassifier', backbone=dict(type='ResNet34MP', num_classes=1000), pretrained=None)
