#!/bin/sh
# Starts revad with deploy/reva/revad.toml, its @REVA_JWT_SECRET@ placeholder replaced by the
# compose secret reva_jwt_secret (a file under /run/secrets), so that no secret is kept in
# the repository or in the image. The filled-in copy is private to the container (0600 in
# /tmp). Runs under the cs3org/revad image's /bin/sh (Alpine's busybox).
set -eu

config=${REVA_CONFIG:-/etc/revad/revad.toml}
secret_file=${REVA_JWT_SECRET_FILE:-/run/secrets/reva_jwt_secret}
revad=${REVAD:-/usr/bin/revad}

if [ ! -r "$secret_file" ]; then
    echo "reva: no JWT secret at $secret_file (create deploy/secrets/reva_jwt_secret, see README 'Run at a site')" >&2
    exit 1
fi
secret=$(tr -d '\r\n' < "$secret_file")
case "$secret" in
    *[!A-Za-z0-9._~+/=-]* | "")
        echo "reva: the JWT secret must be 32 or more characters of [A-Za-z0-9._~+/=-] (e.g. openssl rand -hex 32)" >&2
        exit 1 ;;
esac
if [ "${#secret}" -lt 32 ]; then
    echo "reva: the JWT secret must be 32 or more characters (e.g. openssl rand -hex 32)" >&2
    exit 1
fi

umask 077
filled=$(mktemp /tmp/revad.XXXXXX)
sed "s|@REVA_JWT_SECRET@|$secret|g" "$config" > "$filled"
unset secret
exec "$revad" -c "$filled" "$@"
