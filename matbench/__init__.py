"""matbench: a plugin-based benchmark toolkit for natural image matting."""
__version__ = "0.1.0"
