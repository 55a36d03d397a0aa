"""Write the USR (AIM's unified semantic representation, the stage-2 global target) of a
dataset: ``DATA_ROOT/usr/<stem>.png`` for every ``DATA_ROOT/mask/<stem>.*``, typed by
``DATA_ROOT/aim_category_type.json`` (as core/process_data.py does; see matbench_aim.usr).

    python tools/make_usr.py DATA_ROOT [--kernel-size 30] [--mask-dir mask] [--usr-dir usr]
                                       [--labels aim_category_type.json]
"""
from __future__ import annotations

import argparse
import sys

from rich.progress import Progress

from matbench_datasets.aim500 import TYPES
from matbench.errors import MatbenchError
from matbench_aim.usr import DEFAULT_KERNEL_SIZE, LABELS_FILE, write_usr_folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_root", help="dataset folder (AIM-500 layout: mask/, aim_category_type.json)")
    parser.add_argument("--kernel-size", type=int, default=DEFAULT_KERNEL_SIZE,
                        help=f"ellipse size of the dilation / erosion (official: {DEFAULT_KERNEL_SIZE})")
    parser.add_argument("--mask-dir", default="mask", help="alpha masks, relative to DATA_ROOT")
    parser.add_argument("--usr-dir", default="usr", help="output folder, relative to DATA_ROOT")
    parser.add_argument("--labels", default=LABELS_FILE, help="type json, relative to DATA_ROOT")
    args = parser.parse_args(argv)
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("writing USR", total=None)
            counts = write_usr_folder(args.data_root, kernel_size=args.kernel_size, mask_dir=args.mask_dir,
                                      usr_dir=args.usr_dir, labels_file=args.labels,
                                      on_file=lambda name: progress.advance(task))
    except (MatbenchError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {sum(counts.values())} USR files to {args.data_root}/{args.usr_dir} "
          f"(kernel {args.kernel_size}):")
    for kind in TYPES:
        print(f"  {kind}: {counts.get(kind, 0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
