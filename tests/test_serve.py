"""The real thing: the CLI and a ``hojre serve`` process, walked through as the README says."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hojre.core.logging import REDACTED, redact


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HOJRE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hojre.db'}",
        "HOJRE_SMS_BACKEND": f"file:{tmp_path / 'sms.jsonl'}",
        "HOJRE_OUTBOX_POLL_SECONDS": "0.2",
    }


def hojre(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hojre", *args],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip


def test_cli_upgrade_demo_and_user_create(env: dict[str, str]) -> None:
    hojre(env, "db", "upgrade")
    first = json.loads(hojre(env, "demo", "--json").stdout)
    assert [a["role"] for a in first[:5]] == [
        "customer", "customer", "seller", "store-manager", "admin",
    ]  # fmt: skip
    # Then the staff of two stores of different managers.
    managers = {a["store"] for a in first if a["role"] == "store-manager"}
    assert len(managers) == 2
    assert {a["store"] for a in first if a["role"] == "seller"} >= managers
    assert set(first[0]) == {"id", "cellphone", "password", "role", "store"}
    assert json.loads(hojre(env, "demo", "--json").stdout) == first  # idempotent
    assert json.loads(hojre(env, "demo", "--json", "--if-empty").stdout) == first
    created = json.loads(
        hojre(env, "user", "create", "--cellphone", "۰۹۱۲۷۷۷۶۶۵۵", "--password", "secret1",
              "--role", "seller").stdout
    )  # fmt: skip
    assert created["cellphone"] == "09127776655"
    assert created["roleId"] == 7
    again = subprocess.run(
        [sys.executable, "-m", "hojre", "user", "create", "--cellphone", "09127776655",
         "--password", "secret1"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert again.returncode == 1
    assert "Cellphone already existed" in again.stderr


@contextlib.contextmanager
def serving(env: dict[str, str], log: Path, *args: str) -> Iterator[str]:
    """``hojre serve`` on a free port (output in ``log``) until the block ends."""
    port = _free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hojre", "serve", "--port", str(port), *args],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(base + "/web/ping", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise
                    time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=15)


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    hojre(env, "db", "upgrade")
    log = tmp_path / "server.log"
    with serving(env, log) as base:
        yield base, log


def _read_code(sms_file: Path, cellphone: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if sms_file.exists():
            lines = [json.loads(line) for line in sms_file.read_text().splitlines()]
            codes = [m["code"] for m in lines if m["to"] == cellphone]
            if codes:
                return str(codes[-1])
        time.sleep(0.05)
    raise AssertionError("no SMS arrived")


def test_readme_walkthrough_and_tokens_never_logged(
    server: tuple[str, Path], env: dict[str, str]
) -> None:
    base, log = server
    phone = "09121234567"
    with httpx.Client(base_url=base, timeout=10) as http:
        body = http.post("/web/user/register", data={"username": phone, "password": "secret1"})
        assert body.json()["message"] == "User intial register is done"
        code = _read_code(Path(env["HOJRE_SMS_BACKEND"].removeprefix("file:")), phone)
        body = http.post("/web/user/checkactivationcode", data={"username": phone, "code": code})
        assert body.json() == {"status": "success", "message": "User is Activated", "data": ""}
        login = http.post("/web/user/login", data={"username": phone, "password": "secret1"})
        assert login.headers["cache-control"] == "no-store"
        token = login.json()["data"]["token"]
        users = http.get("/web/users", params={"username": phone, "token": token})
        assert users.json()["items"][0]["cellPhone"] == phone
        assert users.headers["cache-control"] == "no-store"
        edit = http.post(
            "/web/user/edit",
            headers={"Authorization": f"Bearer {token}"},
            data={"username": phone, "User[name]": "مریم", "User[family]": "احمدی"},
        )
        assert edit.json() == {"status": "success", "message": "updated successfully", "data": ""}
        # Something is logged for a request carrying the token in its URL...
        http.get("/web/nowhere", params={"username": phone, "token": token})
        assert http.get("/web/nowhere").json()["message"] == "Page not found."
    time.sleep(0.3)
    output = log.read_text()
    assert "GET /web/users?username=09121234567&token=" + REDACTED in output
    # ...but never the token or the code.
    assert token not in output
    assert f"code={code}" not in output
    # One line per request, in uvicorn's format, written by the app (uvicorn's own is off).
    request_lines = [line for line in output.splitlines() if " HTTP/1.1" in line]
    assert len(request_lines) == 8, request_lines
    line = r'INFO:     127\.0\.0\.1:\d+ - "{} HTTP/1\.1" {}'
    assert re.fullmatch(
        line.format(rf"GET /web/users\?username={phone}&token=\[redacted\]", "200 OK"),
        request_lines[4],
    )
    assert re.fullmatch(line.format("GET /web/nowhere", "404 Not Found"), request_lines[-1])


def test_serve_without_access_log(env: dict[str, str], tmp_path: Path) -> None:
    hojre(env, "db", "upgrade")
    log = tmp_path / "server.log"
    # The flag wins over the setting.
    with serving({**env, "HOJRE_ACCESS_LOG": "true"}, log, "--no-access-log") as base:
        assert httpx.get(base + "/web/ping", timeout=10).status_code == 200
        assert httpx.get(base + "/web/nowhere", timeout=10).status_code == 404
    output = log.read_text()
    assert "Application startup complete." in output
    assert "HTTP/1.1" not in output


def test_redact() -> None:
    line = "GET /web/users?username=0912&token=abcDEF-_12&x=1 Authorization: Bearer abc.def"
    assert redact(line) == (
        f"GET /web/users?username=0912&token={REDACTED}&x=1 Authorization: Bearer {REDACTED}"
    )
    assert redact("password=hunter2&newPassword=x&oldPassword=y&code=12345") == (
        f"password={REDACTED}&newPassword={REDACTED}&oldPassword={REDACTED}&code={REDACTED}"
    )


def test_cli_staff_broadcast_and_moderation(env: dict[str, str]) -> None:
    import sqlite3

    hojre(env, "db", "upgrade")
    hojre(env, "demo", "--json")
    seller = json.loads(
        hojre(env, "user", "create", "--cellphone", "09127776600", "--password", "secret1",
              "--role", "seller", "--store", "1").stdout
    )  # fmt: skip
    assert seller["store"] == 1
    manager = json.loads(
        hojre(env, "user", "create", "--cellphone", "09127776601", "--password", "secret1",
              "--role", "store-manager", "--store", "2").stdout
    )  # fmt: skip
    db_path = env["HOJRE_DATABASE_URL"].split("///", 1)[1]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute(
            "SELECT status FROM store_sellers WHERE user_id = ? AND store_id = 1", (seller["id"],)
        ).fetchone() == ("active",)
        assert conn.execute("SELECT manager_id FROM stores WHERE id = 2").fetchone() == (
            manager["id"],
        )
        comment_id = conn.execute(
            "SELECT id FROM comments WHERE visible ORDER BY id LIMIT 1"
        ).fetchone()[0]
    refused = subprocess.run(
        [sys.executable, "-m", "hojre", "user", "create", "--cellphone", "09127776602",
         "--password", "secret1", "--store", "1"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "Only sellers and store managers belong to a store" in refused.stderr

    sent = json.loads(
        hojre(env, "broadcast", "send", "--title", "حراج", "--text", "تخفیف پاییزه",
              "--role", "8").stdout
    )  # fmt: skip
    assert (sent["title"], sent["role"]) == ("حراج", 8)
    unknown = subprocess.run(
        [sys.executable, "-m", "hojre", "broadcast", "send", "--title", "حراج", "--text", "تخفیف",
         "--role", "5"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert unknown.returncode == 2
    assert "5 is not a role (1, 6, 7, 8)" in unknown.stderr

    assert "hidden" in hojre(env, "comment", "hide", str(comment_id)).stderr
    again = subprocess.run(
        [sys.executable, "-m", "hojre", "comment", "hide", str(comment_id)],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert again.returncode == 1


def test_readme_store_owner_walkthrough(server: tuple[str, Path], env: dict[str, str]) -> None:
    """README's store owner: register a store, activate, approve it from the command line, add
    a seller and a product; a customer sees the store and the product."""
    base, _ = server
    owner, seller = "09124440001", "09124440002"
    with httpx.Client(base_url=base, timeout=10) as http:
        body = http.post("/web/user/store-register", data={
            "username": owner, "password": "secret1", "name": "زهرا", "family": "محمدی",
            "title": "حجره کتاب آفتاب", "address": "تهران، خیابان انقلاب، پلاک ۱۲",
        }).json()  # fmt: skip
        assert body["message"] == "User intial register is done", body
        assert body["username"] == owner
        code = _read_code(Path(env["HOJRE_SMS_BACKEND"].removeprefix("file:")), owner)
        body = http.post("/web/user/checkactivationcode", data={"username": owner, "code": code})
        assert body.json()["message"] == "User is Activated"
        login = http.post("/web/user/store-login", data={"username": owner, "password": "secret1"})
        auth = {"username": owner, "token": login.json()["data"]["token"]}
        store = http.post("/web/store-manager/products", data=auth).json()
        assert (store["message"], store["data"]) == ("List of products", [])
        [pending] = [line for line in hojre(env, "store", "pending").stdout.splitlines()
                     if "حجره کتاب آفتاب" in line]  # fmt: skip
        store_id = int(re.findall(r"[0-9]+", pending)[0])  # the table's first column
        assert http.get(f"/web/stores/{store_id}").json()["message"] == "Not Found"
        hojre(env, "store", "approve", str(store_id))
        added = http.post("/web/store-manager/addseller", data={
            **auth, "Seller[name]": "سارا", "Seller[family]": "کریمی",
            "Seller[cellPhone]": seller, "Seller[password]": "secret2",
        }).json()  # fmt: skip
        assert added["message"] == "Seller Created", added
        picture = http.get("/img/categories/materials.jpg").content
        uploaded = http.post(
            "/web/upload/imguploadSajad", files={"submit": ("book.jpg", picture, "image/jpeg")}
        ).json()
        assert uploaded["message"] == "upload done", uploaded
        product = http.post("/web/store-manager/add-product", data={
            **auth, "Product[title]": "دیوان حافظ", "Product[price]": "۴۵۰۰۰۰",
            "Gallery[1]": uploaded["data"]["name"],
        }, files={"Product[mainImage]": ("book.jpg", picture, "image/jpeg")}).json()  # fmt: skip
        assert product["message"] == "product created successfully", product
        seen = http.get("/web/products", params={"store": store_id}).json()
        assert [(p["title"], p["price"]) for p in seen["items"]] == [("دیوان حافظ", 450000)]
        main_image = seen["items"][0]["mainImage"]
        assert main_image.startswith("img/up/") and main_image != uploaded["data"]["name"]
        assert http.get("/" + main_image).headers["content-type"] == "image/jpeg"
        page = http.get(f"/web/stores/{store_id}").json()
        assert page["mainData"]["title"] == "حجره کتاب آفتاب"
        seller_login = http.post(
            "/web/user/store-login", data={"username": seller, "password": "secret2"}
        )
        assert seller_login.json()["message"] == "Login Success"
