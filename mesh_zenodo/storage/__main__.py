"""``python -m mesh_zenodo.storage``."""

from . import main

raise SystemExit(main())
