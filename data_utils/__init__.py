"""Data loading for the written + spoken digits hyperparameter search.

Importing this package only imports numpy; scikit-learn is imported lazily by
the demo data set and by :func:`train_val_split`.
"""

from .demo import make_demo_dataset
from .errors import DataError
from .loaders import Dataset, Split, load_dataset
from .splits import train_val_split

__all__ = [
    "DataError",
    "Dataset",
    "Split",
    "load_dataset",
    "make_demo_dataset",
    "train_val_split",
]
