"""The storage as files for kernels and scripts: ``cs3://`` for fsspec (:mod:`.cs3fs`) and
the FUSE mount of the user's space (:mod:`.mount`, a program of its own)."""
