"""``cs3://`` for fsspec against the embedded storage (real gRPC and HTTP on loopback), as a
script or a kernel uses it: through ``fsspec.open`` and the filesystem's methods, with
the configuration ``mesh-zenodo lab`` uses (environment variables)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import uuid

import fsspec
import pytest

from mesh_zenodo.cs3.client import TOKEN_FILE_ENV
from mesh_zenodo.pytest_plugin import PASSWORDS, StorageUser, source_tree_env


@pytest.fixture
def fs(mz_storage):
    filesystem = fsspec.filesystem("cs3", gateway=mz_storage.grpc_addr, username="einstein",
                                   password=PASSWORDS["einstein"], skip_instance_cache=True)
    yield filesystem


@pytest.fixture
def folder(fs, mz_raw):
    path = f"/home/fs-{uuid.uuid4().hex[:8]}"
    fs.mkdir(f"cs3:/{path}")
    return path


def test_write_read_list_move_remove(fs, folder, mz_raw, mz_storage):
    url = f"cs3:/{folder}"
    with fsspec.open(f"{url}/a.csv", "w", gateway=mz_storage.grpc_addr, username="einstein",
                     password=PASSWORDS["einstein"]) as f:
        f.write("x,y\n1,2\n")
    assert mz_raw.read(f"{folder}/a.csv") == b"x,y\n1,2\n"  # on the storage, as one upload
    fs.makedirs(f"{url}/sub/deeper", exist_ok=True)
    fs.pipe_file(f"{url}/sub/b.bin", b"0123456789")
    assert fs.ls(url, detail=False) == [f"{folder}/a.csv", f"{folder}/sub"]
    info = fs.info(f"{url}/sub/b.bin")
    assert info["type"] == "file" and info["size"] == 10
    assert fs.checksum(f"{url}/sub/b.bin") == int(hashlib.md5(b"0123456789").hexdigest(), 16)
    assert fs.cat_file(f"{url}/sub/b.bin", start=3, end=6) == b"345"
    assert fs.cat_file(f"{url}/sub/b.bin", start=-2) == b"89"
    assert fs.cat_file(f"{url}/sub/b.bin", start=20) == b""
    fs.mv(f"{url}/sub/b.bin", f"{url}/c.bin")
    assert sorted(mz_raw.names(folder)) == ["a.csv", "c.bin", "sub"]
    fs.rm(f"{url}/sub", recursive=True)
    assert sorted(mz_raw.names(folder)) == ["a.csv", "c.bin"]
    local = f"/tmp/mz-get-{uuid.uuid4().hex}"
    fs.get_file(f"{url}/c.bin", local)
    try:
        assert open(local, "rb").read() == b"0123456789"
    finally:
        os.unlink(local)


def test_errors_are_the_exceptions_fsspec_users_expect(fs, folder, mz_storage):
    url = f"cs3:/{folder}"
    with pytest.raises(FileNotFoundError):
        fs.cat_file(f"{url}/missing.csv")
    with pytest.raises(FileNotFoundError):
        fs.open(f"{url}/missing.csv").read()
    with pytest.raises(FileNotFoundError):
        fs.info(f"{url}/missing.csv")
    with pytest.raises(IsADirectoryError):
        fs.open(url, "rb")
    fs.pipe_file(f"{url}/f.txt", b"x")
    with pytest.raises(FileExistsError):
        fs.makedirs(f"{url}/f.txt", exist_ok=False)
    with pytest.raises(FileExistsError):
        fs.pipe_file(f"{url}/f.txt", b"y", mode="create")
    fs.mkdir(f"{url}/full")
    fs.pipe_file(f"{url}/full/x", b"x")
    with pytest.raises(IsADirectoryError):
        fs.rm(f"{url}/full")  # a folder with files needs recursive=True
    # a path outside the user's namespace: refused (EINVAL), with the storage's reason
    with pytest.raises(OSError) as outside:
        fs.pipe_file("cs3://home/../users/marie/x.txt", b"x")
    assert outside.value.errno == errno.EINVAL and "outside" in str(outside.value)
    # a bad password: a permission error naming no secret
    bad = fsspec.filesystem("cs3", gateway=mz_storage.grpc_addr, username="einstein", password="Not-This-0ne",
                            skip_instance_cache=True)
    with pytest.raises(PermissionError) as refused:
        bad.ls("cs3://home")
    assert "Not-This-0ne" not in str(refused.value)


def test_a_ranged_read_of_a_large_file_stays_in_bounded_memory(mz_storage, mz_raw, tmp_path):
    """A 256 MiB file read through fsspec.open in 1 MiB reads, and a 1 MiB range near its
    end: the reading process grows by far less than the file (a separate process, its
    peak resident memory measured)."""
    path = f"/home/big-{uuid.uuid4().hex[:8]}.bin"
    block = os.urandom(1 << 20)
    proto = mz_raw.upload_protocol(path, "simple", 256 << 20)
    import requests

    def body():
        for _ in range(256):
            yield block

    response = requests.put(proto.upload_endpoint, data=body(), timeout=300,
                            headers={"X-Reva-Transfer": proto.token, "Upload-Length": str(256 << 20)})
    assert response.status_code == 200, response.text
    expected = hashlib.md5()
    for _ in range(256):
        expected.update(block)
    script = textwrap.dedent(f"""
        import hashlib, json, resource, fsspec
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        digest = hashlib.md5()
        with fsspec.open("cs3:/{path}", "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        fs = fsspec.filesystem("cs3")
        tail = fs.cat_file("cs3:/{path}", start=(255 << 20) + 5, end=(255 << 20) + 5 + (1 << 20) - 5)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"md5": digest.hexdigest(), "tail": hashlib.md5(tail).hexdigest(),
                           "growth_mib": (after - before) / 1024}}))
    """)
    env = {**source_tree_env(), "MESH_ZENODO_CS3_GATEWAY": mz_storage.grpc_addr, "MESH_ZENODO_CS3_USER": "einstein",
           "MESH_ZENODO_CS3_PASSWORD": PASSWORDS["einstein"]}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["md5"] == expected.hexdigest()
    assert seen["tail"] == hashlib.md5(block[5:]).hexdigest()
    assert seen["growth_mib"] < 64, seen  # the file is 256 MiB
    mz_raw.delete(path)


def test_a_token_file_is_enough_and_is_read_again_when_renewed(mz_storage, tmp_path):
    """As in a kernel: no password, a token file the server rewrites; a script outside
    Jupyter uses the same variables."""
    einstein = StorageUser(mz_storage.grpc_addr, "einstein")
    token_file = tmp_path / "token"
    token_file.write_text(einstein.token)
    script = textwrap.dedent("""
        import fsspec, json, os, sys, time
        fs = fsspec.filesystem("cs3")
        first = fs.ls("cs3://home", detail=False)
        open(os.environ["MESH_ZENODO_CS3_TOKEN_FILE"], "w").write(sys.stdin.readline().strip())
        time.sleep(0.05)
        fs.invalidate_cache()
        print(json.dumps({"first": len(first) >= 0, "second": fs.exists("cs3://home")}))
    """)
    env = {k: v for k, v in source_tree_env().items() if not k.startswith("MESH_ZENODO_CS3_")}
    env.update({"MESH_ZENODO_CS3_GATEWAY": mz_storage.grpc_addr, TOKEN_FILE_ENV: str(token_file)})
    renewed = StorageUser(mz_storage.grpc_addr, "einstein").token
    result = subprocess.run([sys.executable, "-c", script], env=env, input=renewed + "\n", capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"first": True, "second": True}
    # an expired or garbage token: a clear permission error
    token_file.write_text("not-a-token")
    env_bad = {**env}
    result = subprocess.run([sys.executable, "-c", "import fsspec; fsspec.filesystem('cs3').ls('cs3://home')"],
                            env=env_bad, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "PermissionError" in result.stderr
    assert "Traceback" in result.stderr and "not-a-token" not in result.stderr.split("PermissionError", 1)[1]
    einstein.close()
