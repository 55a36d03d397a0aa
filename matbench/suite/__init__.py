"""Benchmark suites: several methods on several test sets in one command, resumable, with the
tables across datasets at the end (``matbench bench SUITE.py``; ``run_suite`` here).

A suite is an mmengine config (Python; ``_base_`` inheritance works) with two lists (the
shipped examples: ``configs/suites/``)::

    _data = 'data'                                   # helper variables of your own: any name
    datasets = [
        dict(name='embedded', options=dict(indices=4)),
        dict(name='folder', key='studio', data_root=f'{_data}/studio',
             options=dict(image_dir='img', alpha_dir='gt', trimap_dir='tri')),
        dict(name='folder', key='studio-dim', data_root=f'{_data}/studio', variant='dim',
             options=dict(image_dir='img', alpha_dir='gt', trimap_dir='tri')),
    ]
    runs = [
        dict(label='my method', model='MyMethod', datasets=['embedded', 'studio']),
        dict(label='my net tiled', model='MyNet', strategy='tiled', checkpoint='mynet.pth',
             strategy_options=dict(tile=512)),
        dict(label='theirs', predictions=dict(embedded='pred/emb', studio='pred/studio')),
    ]
    work_dir = 'work_dirs/my_suite'                  # optional; --work-dir wins

**datasets** entries: ``name`` (the dataset plugin, ``matbench list datasets``; required),
``key`` (its name in the suite: the folder ``W/<key>/`` and the key of ``predictions`` and of
runs' ``datasets``; default: ``name``; set it to use one set twice), ``data_root`` (the set's
folder; required where the plugin needs one), ``options`` (the plugin's options, as
``--dataset-option``; ``indices=4`` keeps the first four images), ``variant`` (the metric
variant; None, the default: the set's own convention). Two entries that tables would merge (one
set scored with one variant) are refused: two different ``folder`` sets tell themselves apart
with ``options=dict(metainfo=dict(name='studio', title='Studio'))``.

**runs** entries: ``label`` (required; unique, and so is its folder name, the label in lower
case with anything but letters, digits and ``_`` made ``-``: "A b" and "a-b" are refused), then
either a model -- ``model`` (a name, or ``dict(type=NAME, **options)``), ``model_options``,
``strategy`` (a name or ``dict(type=NAME, **options)``), ``strategy_options``, ``checkpoint``,
``random_weights`` (True: a network without weights, for smoke tests), ``amp``,
``channels_last`` -- or ``predictions``: a folder per dataset key, ``dict(studio='pred/studio')``,
or one text with ``{dataset}`` where the key goes (``'pred/{dataset}'``). ``datasets`` (a list of
keys) restricts a run to some sets (e.g. trimap-based methods to sets that ship trimaps). A
predictions mapping without a folder for a dataset skips that pair with a note (published
predictions often exist for some sets only); its keys must be dataset keys. Two runs that are
the same run under two labels are refused.

Relative paths are from the current folder, as ``matbench eval``'s (``{{ fileDirname }}`` is the
suite's folder). Everything is checked before any work, each problem one line naming the suite
and the entry: unknown keys (with a "did you mean"), a run with both a model and predictions,
labels and folder names used twice, unknown plugins and options, a trimap-based method given a
strategy or weights, a network without weights, and every data root that is not a folder, in
one message. A missing checkpoint or predictions folder is the failure of its pairs only.

Each pair is ``matbench.evaluate(...)`` into ``W/<dataset key>/<run label>/`` (as folder names),
one after the other, each with the whole thread budget. Run again, a pair reuses every row its
journal still holds for the same inputs (``4/4 reused``), a failed pair is computed, and a pair
whose entry changed (its model, options, weights path, data root ...: recorded in
``W/suite.json``) is computed again from scratch (``--restart``: every pair). ``W/suite.json`` records
the suite file's path and SHA-256, and each pair's status (done, failed with the reason, skipped,
interrupted), image counts (reused, computed) and time; it is rewritten atomically after each
pair. At the end: the table of one metric across datasets and the tables of each dataset
(printed; written to ``W/leaderboard.md``, ``.tex``, ``.csv`` or ``.html``) and one visual
report per dataset, ``W/<dataset key>/report.html``.
"""
from __future__ import annotations

from .run import PairResult, SuiteResults, run_suite
from .schema import Suite, load_suite, slug

__all__ = ["PairResult", "Suite", "SuiteResults", "load_suite", "run_suite", "slug"]
