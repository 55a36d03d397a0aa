# A benchmark suite on the embedded dataset (generated on first use, nothing to download): two
# classical trimap-based methods and AimNet with random weights, on the first 4 of its 14 images.
# It is what tests/suite runs end to end; a template for your own suites.
#   matbench bench configs/suites/embedded.py            # -> work_dirs/suites/embedded/
# The format (every key) is documented in matbench/suite/__init__.py.
datasets = [
    # indices=4: the first 4 images (remove it to score all 14)
    dict(name='embedded', options=dict(indices=4)),
]
runs = [
    dict(label='ClosedForm', model='ClosedForm'),
    dict(label='KNN', model='KNN'),
    # a network without weights: exercises the network path; its numbers mean nothing
    dict(label='AimNet resize (random weights)', model='AimNet', strategy='resize', random_weights=True),
]
