# The Jupyter server configuration of the image (installed as /etc/jupyter/jupyter_server_config.py):
# what every single-user server JupyterHub starts in the container reads. The same settings
# as the tests use against the embedded storage (mesh_zenodo/pytest_plugin.py cs3_config(),
# tests/test_kernels.py server_config()); tests/test_deploy.py checks that they agree.
#
# Who the user is comes from JupyterHub (deploy/jupyterhub_config.py): the spawner hands each
# server the user's token as a file: the OIDC access token (MESH_ZENODO_CS3_BEARER_TOKEN_FILE,
# exchanged with Reva's bearer auth) or, in the demo's cs3 mode, a CS3 token
# (MESH_ZENODO_CS3_TOKEN_FILE). No
# password and no token is set here, and nothing here turns Jupyter's own authentication
# off: each server accepts only requests JupyterHub signed in.
import os

c = get_config()  # noqa: F821 (defined by traitlets when it loads this file)

# Lab's files on the CS3 storage; kernels and terminals on its FUSE mount.
c.ServerApp.contents_manager_class = "mesh_zenodo.contents.CS3ContentsManager"
c.ServerApp.kernel_manager_class = "mesh_zenodo.kernels.CS3KernelManager"
c.ServerApp.jpserver_extensions = {"mesh_zenodo": True}

# The CS3 gateway: Reva's, as the compose file names it. A site sets its own here or in the
# environment of the single-user servers.
c.CS3Client.gateway = os.environ.get("MESH_ZENODO_CS3_GATEWAY") or "reva:19000"
