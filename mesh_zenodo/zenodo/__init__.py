"""The Zenodo client side: the one place that talks to Zenodo (:mod:`.client`), its
errors (:mod:`.errors`) and the Zenodo vocabulary shared with the stand-in
(:mod:`.vocabulary`). No tornado here; the UI's shapes of records are in
:mod:`mesh_zenodo.services.records`;
the REST handlers are in :mod:`mesh_zenodo.rest`, the sign-in in
:mod:`mesh_zenodo.services.zenodo_connection`.

This package imports nothing on its own, so that the stand-in (a separate program) can
import :mod:`.vocabulary` alone.
"""
