# The official core/test.py HYBRID: global pass at 1/4, local pass at 1/2, sizes floored to a
# multiple of 32 and capped at 1600 per side.
strategy = dict(type='hybrid', global_ratio=1 / 4, local_ratio=1 / 2, divisor=32, max_size=1600)
