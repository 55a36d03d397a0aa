"""First-party metric plugins: the "aim" variant (official AIM evaluate.py) and "dim" (mmagic)."""
from . import aim, dim  # noqa: F401  (registers METRICS 'aim' and 'dim')
