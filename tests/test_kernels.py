"""Kernels and terminals on the CS3 storage (issue 11): a real Jupyter server on the
embedded storage with the CS3 kernel manager, real ipykernel kernels started through
Jupyter's REST API, the FUSE mount program (as CI runs: root, /dev/fuse), and what a
kernel sees, checked by running code in it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import jwt
import pytest
from cs3.storage.provider.v1beta1 import provider_api_pb2 as sp
from cs3.storage.provider.v1beta1 import resources_pb2 as spr
from traitlets.config import Config

from mesh_zenodo.cs3.client import PASSWORD_ENV, TOKEN_FILE_ENV
from mesh_zenodo.pytest_plugin import PASSWORDS, StorageUser, cs3_config, source_tree_env, start_storage, wait_for


def server_config(mz_storage, mz_cs3_root, **kernel_access) -> Config:
    return Config({
        "ServerApp": {
            "contents_manager_class": "mesh_zenodo.contents.CS3ContentsManager",
            "kernel_manager_class": "mesh_zenodo.kernels.CS3KernelManager",
            "jpserver_extensions": {"mesh_zenodo": True},
        },
        **cs3_config(mz_storage, mz_cs3_root),
        "KernelAccess": {"renew_interval": 1.0, **kernel_access},
    })


@pytest.fixture
def jp_server_config(mz_storage, mz_cs3_root):
    return server_config(mz_storage, mz_cs3_root)


async def put_text(fetch, path: str, text: str) -> None:
    await fetch("api", "contents", *path.split("/"), method="PUT",
                body=json.dumps({"type": "file", "format": "text", "content": text}))


async def mkdir(fetch, path: str) -> None:
    await fetch("api", "contents", *path.split("/"), method="PUT", body=json.dumps({"type": "directory"}))


async def session_kernel(fetch, serverapp, notebook: str):
    """Start a kernel for ``notebook`` as Lab does (POST /api/sessions); a ready client."""
    response = await fetch("api", "sessions", method="POST", body=json.dumps({
        "path": notebook, "name": notebook.rsplit("/", 1)[-1], "type": "notebook", "kernel": {"name": "python3"},
    }))
    kernel_id = json.loads(response.body)["kernel"]["id"]
    client = serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    return kernel_id, client


async def run(client, code: str, timeout: float = 120):
    """Run ``code`` in the kernel; the JSON it printed last (or the error it raised)."""
    out: list[str] = []
    errors: list[str] = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            errors.append(f'{msg["content"]["ename"]}: {msg["content"]["evalue"]}')

    await client.execute_interactive(code, output_hook=hook, timeout=timeout)
    assert not errors, errors
    return json.loads("".join(out).strip().splitlines()[-1])


async def test_a_kernel_works_in_its_notebooks_folder_on_the_storage(jp_fetch, jp_serverapp, mz_raw, mz_cs3_root):
    await mkdir(jp_fetch, "proj")
    await put_text(jp_fetch, "proj/data.csv", "t,counts\n0,5\n1,7\n")
    kernel_id, client = await session_kernel(jp_fetch, jp_serverapp, "proj/nb.ipynb")
    try:
        seen = await run(client, """
import json, os, pandas
print(json.dumps({"cwd": os.getcwd(), "open": open("data.csv").read(),
                  "pandas": int(pandas.read_csv("data.csv")["counts"].sum())}))""")
        mount = jp_serverapp.kernel_manager.kernel_access.mount_root
        assert mount and seen["cwd"] == os.path.join(mount, "proj")
        assert seen["open"] == "t,counts\n0,5\n1,7\n" and seen["pandas"] == 12

        # a file the kernel writes is on the storage, and in Lab's file browser, at once
        await run(client, 'open("result.txt", "w").write("tau = 2.2 us\\n"); print("{}")')
        listing = json.loads((await jp_fetch("api", "contents", "proj")).body)
        assert "result.txt" in [c["name"] for c in listing["content"]]
        assert mz_raw.read(f"{mz_cs3_root}/proj/result.txt") == b"tau = 2.2 us\n"

        # a file another client adds after the kernel started shows within two seconds
        mz_raw.put_ok(f"{mz_cs3_root}/proj/late.csv", b"a\n1\n")
        seen = await run(client, """
import json, os, time
start = time.time()
while not os.path.exists("late.csv") and time.time() - start < 5:
    time.sleep(0.05)
print(json.dumps({"after": time.time() - start, "text": open("late.csv").read()}))""")
        assert seen["text"] == "a\n1\n" and seen["after"] < 2.0, seen

        # 50 MiB written by the kernel: the same bytes through Lab's /files/
        seen = await run(client, """
import hashlib, json, os
data = os.urandom(50 << 20)
with open("big.bin", "wb") as f:
    f.write(data)
print(json.dumps({"md5": hashlib.md5(data).hexdigest()}))""")
        response = await jp_fetch("files", "proj", "big.bin")
        assert hashlib.md5(response.body).hexdigest() == seen["md5"]

        # cs3:// (fsspec) in the same kernel: pandas reads and writes through it
        url = f"cs3://{mz_cs3_root.lstrip('/')}/proj"
        seen = await run(client, f"""
import json, fsspec, pandas
frame = pandas.read_csv("{url}/data.csv")
frame.assign(double=frame["counts"] * 2).to_csv("{url}/derived.csv", index=False)
print(json.dumps({{"sum": int(frame["counts"].sum()), "ls": sorted(fsspec.filesystem("cs3").ls("{url}", detail=False))}}))""")
        assert seen["sum"] == 12 and f"{mz_cs3_root}/proj/derived.csv" in seen["ls"]
        assert mz_raw.read(f"{mz_cs3_root}/proj/derived.csv") == b"t,counts,double\n0,5,10\n1,7,14\n"
    finally:
        client.stop_channels()
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")


async def test_a_kernels_token_is_its_own_short_lived_and_never_the_password(jp_fetch, jp_serverapp):
    kernel_id, client = await session_kernel(jp_fetch, jp_serverapp, "nb.ipynb")
    try:
        seen = await run(client, f"""
import json, os
path = os.environ.get("{TOKEN_FILE_ENV}")
print(json.dumps({{"path": path, "token": open(path).read(), "mode": oct(os.stat(path).st_mode & 0o777),
                   "password_env": "{PASSWORD_ENV}" in os.environ, "pid": os.getpid()}}))""")
        claims = jwt.decode(seen["token"], options={"verify_signature": False})
        assert claims["exp"] - time.time() <= 3600 + 5, claims  # the gateway's token lifetime, no more
        assert claims["user"]["username"] == "einstein" and seen["mode"] == "0o600"
        assert not seen["password_env"]
        environ = Path(f"/proc/{seen['pid']}/environ").read_bytes()
        assert PASSWORDS["einstein"].encode() not in environ and PASSWORDS["einstein"] not in seen["token"]
    finally:
        client.stop_channels()
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    assert not os.path.exists(seen["path"])  # dropped when the kernel ended


async def test_a_terminal_opened_on_a_folder_starts_there(jp_fetch, jp_serverapp):
    await mkdir(jp_fetch, "proj")
    await jp_fetch("mesh-zenodo", "session")  # (the extension is started)
    response = await jp_fetch("api", "terminals", method="POST", body=json.dumps({"cwd": "proj"}))
    name = json.loads(response.body)["name"]
    try:
        terminal = jp_serverapp.web_app.settings["terminal_manager"].terminals[name]
        cwd = os.readlink(f"/proc/{terminal.ptyproc.pid}/cwd")
        assert cwd == os.path.join(jp_serverapp.kernel_manager.kernel_access.mount_root, "proj")
    finally:
        await jp_fetch("api", "terminals", name, method="DELETE")


async def test_the_session_says_where_kernels_work(jp_fetch, jp_serverapp):
    body = json.loads((await jp_fetch("mesh-zenodo", "session")).body)
    assert body["kernels"]["mounted"] is True
    assert body["kernels"]["path"] == jp_serverapp.kernel_manager.kernel_access.mount_root


# --------------------------------------------------------------------------------------
# the mount program on its own: roles, renames
# --------------------------------------------------------------------------------------
@pytest.fixture
def einstein_mount(mz_storage, tmp_path):
    """The mount program on einstein's whole space (/home, with Shares/), as a server runs it."""
    einstein = StorageUser(mz_storage.grpc_addr, "einstein")
    token_file = tmp_path / "token"
    token_file.write_text(einstein.token)
    mountpoint = tmp_path / "cs3"
    mountpoint.mkdir()
    env = {**source_tree_env(), "MESH_ZENODO_CS3_GATEWAY": mz_storage.grpc_addr, TOKEN_FILE_ENV: str(token_file)}
    process = subprocess.Popen([sys.executable, "-m", "mesh_zenodo.fs.mount", str(mountpoint), "--root", "/home"],
                               env=env, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: os.path.ismount(mountpoint) or process.poll() is not None, timeout=30)
        assert os.path.ismount(mountpoint), process.stderr.read() if process.poll() is not None else "not mounted"
        yield einstein, mountpoint
    finally:
        process.terminate()
        process.wait(timeout=30)
        einstein.close()
    assert not os.path.ismount(mountpoint)


def test_a_viewer_share_is_read_only_in_the_mount(einstein_mount, mz_storage):
    einstein, mountpoint = einstein_mount
    mz_marie = StorageUser(mz_storage.grpc_addr, "marie")
    name = f"shared-{uuid.uuid4().hex[:6]}"
    assert mz_marie.mkdir(f"/home/{name}").status.code == 1
    mz_marie.put_ok(f"/home/{name}/radium.csv", b"element,mass\nRa,226\n")
    share = mz_marie.share_ok(f"/home/{name}", mz_marie.grantee(einstein.user.id), "viewer")
    einstein.accept(share.id.opaque_id)
    folder = mountpoint / "Shares" / name
    wait_for(folder.exists, timeout=5)
    assert (folder / "radium.csv").read_text() == "element,mass\nRa,226\n"
    with pytest.raises(PermissionError):
        open(folder / "radium.csv", "w")
    with pytest.raises(PermissionError):
        (folder / "new.txt").write_text("x")
    with pytest.raises(PermissionError):
        (folder / "radium.csv").unlink()
    assert mz_marie.read(f"/home/{name}/radium.csv") == b"element,mass\nRa,226\n"
    assert mz_marie.names(f"/home/{name}") == ["radium.csv"]
    mz_marie.close()


def test_renames_deletes_and_appends_in_the_mount(einstein_mount):
    einstein, mountpoint = einstein_mount
    folder = mountpoint / f"m-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    (folder / "a.txt").write_text("one\n")
    with open(folder / "a.txt", "a") as f:
        f.write("two\n")
    (folder / "tmp.txt").write_text("new\n")
    os.replace(folder / "tmp.txt", folder / "a.txt")  # as editors and pandas save: over the old file
    assert (folder / "a.txt").read_text() == "new\n"
    cs3 = f"/home/{folder.name}"
    assert einstein.names(cs3) == ["a.txt"] and einstein.read(f"{cs3}/a.txt") == b"new\n"
    with pytest.raises(OSError):
        folder.rmdir()  # not empty
    (folder / "a.txt").unlink()
    folder.rmdir()
    assert einstein.info(cs3) is None
    with pytest.raises(FileNotFoundError):
        (mountpoint / "no-such-file").read_text()


def test_a_file_changed_elsewhere_shows_within_two_seconds(einstein_mount):
    einstein, mountpoint = einstein_mount
    name = f"c-{uuid.uuid4().hex[:6]}.txt"
    einstein.put_ok(f"/home/{name}", b"first\n")
    assert (mountpoint / name).read_text() == "first\n"
    einstein.put_ok(f"/home/{name}", b"second, longer\n")  # another client, another size
    started = time.monotonic()
    while (mountpoint / name).read_text() != "second, longer\n" and time.monotonic() - started < 5:
        time.sleep(0.05)
    assert (mountpoint / name).read_text() == "second, longer\n"
    assert time.monotonic() - started < 2.0


def test_a_file_locked_by_another_application_keeps_what_was_written(einstein_mount):
    """Written through the mount while Collabora (say) holds the file's lock: the close
    says EBUSY, the file is untouched, and what was written is kept as a conflict copy."""
    einstein, mountpoint = einstein_mount
    folder = f"/home/l-{uuid.uuid4().hex[:6]}"
    assert einstein.mkdir(folder).status.code == 1
    einstein.put_ok(f"{folder}/report.txt", b"original\n")
    lock = spr.Lock(lock_id="office-1", type=spr.LOCK_TYPE_WRITE, app_name="Collabora")
    assert einstein.call("SetLock", sp.SetLockRequest(ref=einstein.ref(f"{folder}/report.txt"), lock=lock)).status.code == 1
    local = mountpoint / folder.removeprefix("/home/")
    with pytest.raises(OSError) as refused:
        with open(local / "report.txt", "w") as f:
            f.write("typed in a kernel\n")
    assert refused.value.errno == errno.EBUSY
    assert einstein.read(f"{folder}/report.txt") == b"original\n"

    def copies():  # (made when the file is released, just after the failed close)
        return [n for n in einstein.names(folder) if n.startswith("report.txt.einstein.") and n.endswith(".conflict.txt")]

    wait_for(copies, timeout=10)
    assert len(copies()) == 1, einstein.names(folder)
    assert einstein.read(f"{folder}/{copies()[0]}") == b"typed in a kernel\n"


def test_a_write_to_a_full_storage_is_kept_on_this_machine(tmp_path):
    """No quota left: the close fails with ENOSPC, the stored file stays as it was, no
    conflict copy can be written either, and what was written is kept in --kept-dir."""
    storage = start_storage(tmp_path / "full", ["--quota", str(1 << 20)])
    einstein = StorageUser(storage.grpc_addr, "einstein")
    token_file = tmp_path / "token"
    token_file.write_text(einstein.token)
    mountpoint, kept = tmp_path / "cs3", tmp_path / "kept"
    mountpoint.mkdir()
    env = {**source_tree_env(), "MESH_ZENODO_CS3_GATEWAY": storage.grpc_addr, TOKEN_FILE_ENV: str(token_file)}
    process = subprocess.Popen([sys.executable, "-m", "mesh_zenodo.fs.mount", str(mountpoint), "--root", "/home",
                                "--kept-dir", str(kept)], env=env, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: os.path.ismount(mountpoint) or process.poll() is not None, timeout=30)
        einstein.put_ok("/home/data.bin", b"small\n")
        big = os.urandom(2 << 20)
        with pytest.raises(OSError) as full:
            with open(mountpoint / "data.bin", "wb") as f:
                f.write(big)
        assert full.value.errno == errno.ENOSPC
        assert einstein.read("/home/data.bin") == b"small\n"  # the old state, whole
        wait_for(lambda: kept.exists() and [p for p in kept.iterdir() if p.stat().st_size == len(big)], timeout=10)
        (name,) = os.listdir(kept)
        assert name.startswith("data.bin.einstein.") and (kept / name).read_bytes() == big
    finally:
        process.terminate()
        said = process.communicate(timeout=30)[1].decode()
        einstein.close()
        storage.stop()
    assert "its content is kept at" in said and str(kept) in said


# --------------------------------------------------------------------------------------
# without FUSE
# --------------------------------------------------------------------------------------
def test_without_dev_fuse_the_reason_is_given():
    """In a mount namespace whose /dev lacks fuse (as a container without the device)."""
    code = "from mesh_zenodo.services.kernel_access import fuse_problem; print(fuse_problem())"
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         f"mount -t tmpfs none /dev && exec {sys.executable} -c '{code}'"],
        env=source_tree_env(), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "/dev/fuse is missing" in result.stdout and "--device /dev/fuse" in result.stdout


class TestWithoutMount:
    @pytest.fixture
    def jp_server_config(self, mz_storage, mz_cs3_root):
        return server_config(mz_storage, mz_cs3_root, mount=False)

    async def test_kernels_start_in_scratch_and_cs3_still_works(self, jp_fetch, jp_serverapp, mz_cs3_root, mz_raw):
        mz_raw.put_ok(f"{mz_cs3_root}/data.csv", b"x\n1\n2\n")
        body = json.loads((await jp_fetch("mesh-zenodo", "session")).body)
        assert body["kernels"]["mounted"] is False and "turned off" in body["kernels"]["reason"]
        assert body["kernels"]["scratch"] == jp_serverapp.root_dir
        kernel_id, client = await session_kernel(jp_fetch, jp_serverapp, "nb.ipynb")
        try:
            seen = await run(client, f"""
import json, os, pandas
print(json.dumps({{"cwd": os.getcwd(), "sum": int(pandas.read_csv("cs3://{mz_cs3_root.lstrip('/')}/data.csv")["x"].sum())}}))""")
            assert os.path.realpath(seen["cwd"]) == os.path.realpath(jp_serverapp.root_dir) and seen["sum"] == 3
        finally:
            client.stop_channels()
            await jp_fetch("api", "kernels", kernel_id, method="DELETE")
