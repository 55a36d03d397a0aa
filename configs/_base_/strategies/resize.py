# The official core/test.py RESIZE: one pass at 1/4.
strategy = dict(type='resize', ratio=1 / 4, divisor=32, max_size=1600)
