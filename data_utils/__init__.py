"""Data loading for the written + spoken digits hyperparameter search.

Importing this package only imports numpy; scikit-learn and SciPy are imported lazily by
the demo data set, :func:`train_val_split` and :func:`duplicate_groups`.
"""

from .dataset import Dataset, Split
from .demo import make_demo_dataset
from .errors import DataError
from .loaders import load_dataset
from .splits import duplicate_groups, train_val_split

__all__ = [
    "DataError",
    "Dataset",
    "Split",
    "load_dataset",
    "make_demo_dataset",
    "duplicate_groups",
    "train_val_split",
]
