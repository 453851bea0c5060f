#!/bin/sh
# The image's entry point (under tini): hands the compose/swarm secret jupyterhub_crypt_key,
# mounted as a file under /run/secrets, to JupyterHub as JUPYTERHUB_CRYPT_KEY (JupyterHub
# reads the key that encrypts the auth state, where the users' tokens are kept, from that
# variable only), then runs the command (by default
# `jupyterhub -f /etc/jupyterhub/jupyterhub_config.py`). Other secrets stay files: the hub
# configuration reads the OIDC client's secret from OAUTH_CLIENT_SECRET_FILE.
#
# A variable already set wins. The value lives only in the hub's environment: JupyterHub
# passes its single-user servers a short allow-list of variables (Spawner.env_keep) and
# what Spawner.environment names, never this one; nothing here is written to disk or to
# the log.
set -eu

secrets_dir=${MESH_ZENODO_SECRETS_DIR:-/run/secrets}

load_secret() {  # VARIABLE FILE
    if [ -z "$(printenv "$1" 2>/dev/null || true)" ] && [ -r "$secrets_dir/$2" ]; then
        value=$(cat "$secrets_dir/$2")
        export "$1=$value"
        unset value
    fi
}

load_secret JUPYTERHUB_CRYPT_KEY jupyterhub_crypt_key

exec "$@"
