"""matbench: a plugin-based benchmark toolkit for natural image matting."""
__version__ = "0.1.0"
#: the distribution's name on the package index (``matbench`` there is another project); the
#: import name and the command are ``matbench``
DISTRIBUTION = "matbench-matting"
