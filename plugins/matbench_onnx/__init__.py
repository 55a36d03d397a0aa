"""Any ONNX matting model, registered as model ``onnx``: ``--model onnx --checkpoint model.onnx``
with ``--model-option`` settings for its input layout, normalisation, size rule and output.
onnxruntime is the optional ``onnx`` extra and is imported only when the model is built."""
from .model import OnnxMatting  # noqa: F401  (registers MODELS 'onnx')
