# The built-in AIM-500-layout set, generated on first use (no download).
test_dataset = dict(type='embedded')
