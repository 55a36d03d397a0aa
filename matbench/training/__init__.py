"""Training on mmengine's Runner: safe resume, the `matbench train` entry point."""
