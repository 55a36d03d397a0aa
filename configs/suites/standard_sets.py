# A benchmark suite over the standard natural-matting test sets: AimNet with the official hybrid
# test procedure on all of them, ClosedForm and KNN on the sets that ship trimaps.
#   matbench bench configs/suites/standard_sets.py [--work-dir work_dirs/suites/standard_sets]
# Nothing starts until every data root below exists (all missing ones are listed in one message);
# a pair that fails (e.g. the checkpoint is not there yet) is reported and the others go on; the
# same command later resumes, computing only what is missing. Format: matbench/suite/__init__.py.
#
# What to edit:
#   1. DATA: the folder holding the sets, as their official downloads unpack (a relative path is
#      from the folder you run matbench in; '{{ fileDirname }}/data' is next to this file).
#   2. AIMNET_CHECKPOINT: the official AimNet weights (AIM README, "Pretrained Models").
#   3. Remove the sets you do not have, or add `options=dict(indices=20)` to try a suite on the
#      first 20 images of each set first.
DATA = 'data'
AIMNET_CHECKPOINT = 'checkpoints/aimnet_pretrained_matting.pth'   # placeholder: put the weights here

datasets = [
    # key (default: name) names the folder W/<key>/ and the column of the tables
    dict(name='aim500', data_root=f'{DATA}/AIM-500'),                              # original/ mask/ trimap/
    dict(name='am2k', data_root=f'{DATA}/AM-2k/validation'),                      # 200 images
    dict(name='p3m500-p', data_root=f'{DATA}/P3M-10k/validation/P3M-500-P'),      # blurred faces
    dict(name='ppm100', data_root=f'{DATA}/PPM-100'),                             # no trimaps: generated
    dict(name='comp1k', data_root=f'{DATA}/Composition-1k-testset'),              # merged/ alpha_copy/ trimaps/
    # each set is scored in its paper's convention (comp1k: 'dim', the others: 'aim'); to score
    # one set in another convention too, add it again under its own key:
    # dict(name='aim500', key='aim500-dim', data_root=f'{DATA}/AIM-500', variant='dim'),
]

# the sets whose trimaps are the official ones (PPM-100's are generated from the true alpha,
# which would flatter a trimap-based method)
WITH_TRIMAPS = ['aim500', 'am2k', 'p3m500-p', 'comp1k']

runs = [
    # AimNet through the official core/test.py HYBRID: a global pass at 1/4, a local pass at 1/2
    dict(label='AimNet hybrid (1/2 & 1/4)', model='AimNet', checkpoint=AIMNET_CHECKPOINT,
         strategy=dict(type='hybrid', global_ratio=1 / 4, local_ratio=1 / 2)),
    # the classical methods need a trimap; on full-size images they take minutes an image on a
    # CPU (hours a set): start with `options=dict(indices=...)` above to see what to expect
    dict(label='ClosedForm', model='ClosedForm', datasets=WITH_TRIMAPS),
    dict(label='KNN', model='KNN', datasets=WITH_TRIMAPS),
    # your own method's predictions (8-bit PNGs named like the set's images), one folder per set:
    # dict(label='MyNet', predictions='predictions/mynet/{dataset}'),
]
