"""Git's smart HTTP protocol on loopback: real ``git http-backend`` behind a tiny server.

Like github.com for an App, it refuses anonymous access: every request must carry the
current installation token, either as ``Authorization: Basic base64(x-access-token:<t>)``
or ``Authorization: Bearer <t>``; anything else gets 401. Repositories are bare clones
served as ``<url>/<owner>/<name>.git``.

    server = GitHttpServer(root, token_ok=fake.token_valid).start()
    url = server.add_repo("octo/widgets", source_repo)   # http://127.0.0.1:PORT/octo/widgets.git

Served repositories allow ``--filter`` (``uploadpack.allowFilter``), so a blobless clone
is a real partial clone whose missing blobs are fetched lazily over this server, and each
request records how many objects the pack it sent holds (``objects``, read from the pack
header on the server side): tests bound what a client fetched.
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0"}


@dataclass
class GitRequest:
    method: str
    path: str
    status: int
    authorized: bool
    headers: dict[str, str] = field(default_factory=dict)
    objects: int = 0  # objects in the pack this response carried (git-upload-pack only)


def token_from(header: str) -> str | None:
    """The token in an Authorization header GitHub accepts for git, else None."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    if scheme.lower() == "basic" and value:
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return password if user == "x-access-token" and password else None
    return None


class GitHttpServer:
    def __init__(self, root: Path, token_ok: Callable[[str], bool]) -> None:
        self.root = root
        self.token_ok = token_ok
        self.requests: list[GitRequest] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> GitHttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def add_repo(self, full_name: str, source: Path) -> str:
        """Serve a bare clone of ``source`` as ``full_name``; returns its clone URL."""
        target = self.root / f"{full_name}.git"
        target.parent.mkdir(parents=True, exist_ok=True)
        _git("clone", "-q", "--bare", str(source), str(target))
        _git("-C", str(target), "config", "uploadpack.allowFilter", "true")
        return f"{self.url}/{full_name}.git"

    def objects_sent(self, since: int = 0) -> int:
        """Objects in every pack served from request number ``since`` on."""
        with self._lock:
            return sum(r.objects for r in self.requests[since:])

    def update_repo(self, full_name: str, source: Path) -> None:
        """Bring the served copy up to date with ``source`` (all branches, forced)."""
        target = self.root / f"{full_name}.git"
        _git("-C", str(target), "fetch", "-q", "--force", str(source), "+refs/heads/*:refs/heads/*")

    def record(self, request: GitRequest) -> None:
        with self._lock:
            self.requests.append(request)


def pack_object_count(body: bytes) -> int:
    """The object count in the header of the pack an upload-pack response carries (0 if none).

    The pack travels in pkt-lines on side-band 1 (protocol v0 and v2 alike); its 12-byte
    header is ``PACK``, a version and the number of objects.
    """
    data = bytearray()
    at = 0
    while at + 4 <= len(body) and len(data) < 12:
        try:
            length = int(body[at : at + 4], 16)
        except ValueError:
            return 0
        if length < 4:  # flush, delimiter or response-end packet
            at += 4
            continue
        payload = body[at + 4 : at + length]
        if payload[:1] == b"\x01":
            data += payload[1:]
        at += length
    return int.from_bytes(data[8:12], "big") if data[:4] == b"PACK" else 0


def _git(*args: str) -> None:
    subprocess.run(["git", *args], env={**os.environ, **GIT_ENV}, check=True, capture_output=True)


def _handler_for(server: GitHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: requests are recorded in server.requests

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def _serve(self) -> None:
            path, _, query = self.path.partition("?")
            token = token_from(self.headers.get("Authorization", ""))
            authorized = token is not None and server.token_ok(token)
            seen = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
            if not authorized:
                server.record(GitRequest(self.command, path, 401, False, seen))
                self._drain()
                self._reply(401, {"WWW-Authenticate": 'Basic realm="GitHub"'}, b"Bad credentials\n")
                return
            status, headers, body = self._backend(path, query, self._drain())
            objects = pack_object_count(body) if path.endswith("/git-upload-pack") else 0
            server.record(GitRequest(self.command, path, status, True, seen, objects))
            self._reply(status, headers, body)

        def _drain(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return self._read_chunked()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _read_chunked(self) -> bytes:
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()

        def _backend(self, path: str, query: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
            env = {
                **os.environ,
                **GIT_ENV,
                "GIT_PROJECT_ROOT": str(server.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "REQUEST_METHOD": self.command,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_USER": "x-access-token",
                "REMOTE_ADDR": "127.0.0.1",
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            }
            proc = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False)
            head, _, payload = proc.stdout.partition(b"\r\n\r\n")
            status, headers = 200, {}
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.split()[0])
                elif name:
                    headers[name] = value.strip()
            return status, headers, payload

        def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
