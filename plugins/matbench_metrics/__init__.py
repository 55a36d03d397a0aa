"""First-party metric plugins: "aim" (official AIM evaluate.py), "dim" (mmagic) and "mgmatting" (RWP-636)."""
from . import aim, dim  # noqa: F401  (registers METRICS 'aim' and 'dim')
from . import mgmatting  # noqa: F401  (registers METRICS 'mgmatting')
