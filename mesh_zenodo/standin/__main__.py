"""``python -m mesh_zenodo.standin``: the same as ``mesh-zenodo zenodo-standin``."""

import sys

from .main import main

sys.exit(main())
