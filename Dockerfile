# syntax=docker/dockerfile:1
#
# JupyterHub with mesh-zenodo for a ScienceMesh site (docker-compose.yml builds it for the
# jupyterhub and zenodo-standin services).
#
# Base images are pinned to exact releases: Python 3.11.15 on Debian 12 "bookworm" (the
# Python minor and Debian release the pins in deploy/requirements.txt and the tests were made
# on) and Node.js 20.20.2 (JupyterLab 4.6's build needs Node 20 or later; the same
# version as on the development machine). To pin them by digest too, pass e.g.
# --build-arg PYTHON_IMAGE=python:3.11.15-slim-bookworm@sha256:<digest> (the digest is what
# `docker buildx imagetools inspect python:3.11.15-slim-bookworm` shows on the day).
ARG PYTHON_IMAGE=python:3.11.15-slim-bookworm
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# --- Node.js, and JupyterHub's proxy from npm, pinned ----------------------------------
FROM ${NODE_IMAGE} AS node
RUN npm install --global --omit=dev configurable-http-proxy@5.3.0 \
    && npm cache clean --force

# --- the wheel, with the labextension built from source --------------------------------
FROM ${PYTHON_IMAGE} AS build
COPY --from=node /usr/local/bin/node /usr/local/bin/node
WORKDIR /src
COPY . .
# hatch-jupyter-builder runs `jlpm install` (labextension/yarn.lock) and `jlpm build:prod`.
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && test -n "$(find /wheels -name 'mesh_zenodo-*.whl')"

# --- the runtime -----------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# fuse3: libfuse3 and fusermount3 for the kernels' mount of the CS3 storage (the compose
# file grants /dev/fuse and SYS_ADMIN; without them kernels start in the scratch folder).
# tini reaps the processes JupyterHub's single-user servers leave behind. Debian's
# versions are not pinned: bookworm's security updates replace them in the archive.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends fuse3 tini \
    && rm -rf /var/lib/apt/lists/*

COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/configurable-http-proxy /usr/local/lib/node_modules/configurable-http-proxy
RUN ln -s ../lib/node_modules/configurable-http-proxy/bin/configurable-http-proxy /usr/local/bin/configurable-http-proxy \
    && configurable-http-proxy --version

# Every Python distribution at the version deploy/requirements.txt pins (jupyterhub and
# oauthenticator too); --no-deps plus `pip check` fails the build if the list is incomplete.
COPY deploy/requirements.txt /tmp/requirements.txt
COPY --from=build /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-deps -r /tmp/requirements.txt /tmp/wheels/mesh_zenodo-*.whl \
    && pip check \
    && rm -rf /tmp/wheels /tmp/requirements.txt

# The single-user servers' Jupyter configuration, and JupyterHub's (deploy/jupyterhub_config.py;
# the compose file also mounts it, so a site can edit it without a rebuild).
COPY deploy/jupyter_server_config.py /etc/jupyter/jupyter_server_config.py
COPY deploy/jupyterhub_config.py /etc/jupyterhub/jupyterhub_config.py
COPY --chmod=0755 deploy/docker-entrypoint.sh /usr/local/bin/mesh-zenodo-entrypoint

# No root at run time: JupyterHub, the proxy and the single-user servers run as uid 1000.
# /run/mesh-zenodo-hub: the users' token files (the compose file puts a tmpfs there).
RUN useradd --uid 1000 --user-group --create-home --shell /bin/bash jovyan \
    && mkdir -p /srv/jupyterhub /run/mesh-zenodo-hub \
    && chown jovyan:jovyan /srv/jupyterhub /run/mesh-zenodo-hub \
    && chmod 0711 /run/mesh-zenodo-hub
USER 1000:1000
WORKDIR /srv/jupyterhub
# a non-root hub: its single-user servers run as its own user (deploy/jupyterhub_config.py)
ENV PYTHONUNBUFFERED=1 \
    MESH_ZENODO_HUB_SPAWNER=simple

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/hub/health', timeout=4)"]

ENTRYPOINT ["tini", "--", "mesh-zenodo-entrypoint"]
CMD ["jupyterhub", "-f", "/etc/jupyterhub/jupyterhub_config.py"]
