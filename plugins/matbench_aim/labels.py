"""AIM-500's image groups: three types and seven categories, as its labels file
``aim_category_type.json`` names them and the AIM README's tables show them."""
from __future__ import annotations

LABELS_FILE = "aim_category_type.json"

#: SO: salient opaque, STM: salient transparent/meticulous, NS: non-salient
TYPES = ("SO", "STM", "NS")

TYPE_GROUP = dict(
    key="type", values={t: t for t in TYPES}, closed=True, placement="whole",
    about="SO, STM, NS: mean SAD per image type; Avg.: the unweighted mean of the type means.",
    avg_header="Type Avg.")

CATEGORY_GROUP = dict(
    key="category", closed=False, placement="table", title="SAD per category",
    values={"animal": "Animal", "portrait": "Human", "transparent": "Transp.", "plant": "Plant",
            "furniture": "Furni.", "toy": "Toy", "fruit": "Fruit"},
    about="Mean SAD per category (Human = portrait); Avg.: the unweighted mean of the category means.",
    avg_header="Cat. Avg.")

AIM500_GROUPS = [TYPE_GROUP, CATEGORY_GROUP]
