"""AIM-500 dataset plugin."""
from .aim500 import AIM500  # noqa: F401  (registers DATASETS 'AIM500' and 'aim500')
