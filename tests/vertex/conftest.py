"""Fixtures: the fake Vertex AI served over TLS on 127.0.0.1 to the unchanged SDK."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import tempfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fake_vertex import FakeVertex, serve

PROJECT, LOCATION = "demo-proj", "us-central1"


def _self_signed() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


# gRPC reads its default roots once per process: trust the fake's certificate before any
# channel exists.
# This module may be executed twice in one process (tests/kfp loads it by path too): the
# second run must reuse the first one's certificate, which gRPC has already read.
if "PIPETUNE_TEST_VERTEX_TLS_DIR" in os.environ:
    _CERT_DIR = Path(os.environ["PIPETUNE_TEST_VERTEX_TLS_DIR"])
    _CERT, _KEY = (_CERT_DIR / "ca.pem").read_bytes(), (_CERT_DIR / "key.pem").read_bytes()
else:
    _CERT, _KEY = _self_signed()
    _CERT_DIR = Path(tempfile.mkdtemp(prefix="pipetune-vertex-tls-"))
    (_CERT_DIR / "ca.pem").write_bytes(_CERT)
    (_CERT_DIR / "key.pem").write_bytes(_KEY)
    os.environ["PIPETUNE_TEST_VERTEX_TLS_DIR"] = str(_CERT_DIR)
os.environ["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = str(_CERT_DIR / "ca.pem")


@pytest.fixture
def fake_vertex():
    fake = FakeVertex(PROJECT, LOCATION)
    server, port = serve(fake, _CERT, _KEY)
    fake.endpoint = f"127.0.0.1:{port}"
    yield fake
    server.stop(grace=None)


@pytest.fixture
def backend(fake_vertex):
    from google.auth.credentials import AnonymousCredentials

    from pipetune.backends.vertex import VertexBackend

    return VertexBackend(project=PROJECT, location=LOCATION, credentials=AnonymousCredentials(),
                         api_endpoint=fake_vertex.endpoint)


@pytest.fixture
def adc_env(httpserver, tmp_path):
    """Application Default Credentials for subprocesses: a service-account key file made
    here. google-auth signs its own JWTs with it (or, failing that, trades it for a token
    at the local token endpoint); ``adc_env.verify(header)`` checks a bearer came from it."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    httpserver.expect_request("/token", method="POST").respond_with_json(
        {"access_token": "fake-token", "expires_in": 3600, "token_type": "Bearer"})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    creds = tmp_path / "adc.json"
    creds.write_text(json.dumps({
        "type": "service_account", "project_id": PROJECT, "private_key_id": "k1",
        "private_key": pem, "client_email": f"tuner@{PROJECT}.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": httpserver.url_for("/token")}))
    env = dict(os.environ)
    env["GOOGLE_APPLICATION_CREDENTIALS"] = str(creds)
    env["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = str(_CERT_DIR / "ca.pem")
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)

    def verify(header: str) -> bool:
        from google.auth import jwt

        token = header.removeprefix("Bearer ")
        if token == "fake-token":
            return True
        claims = jwt.decode(token, certs={"k1": public}, verify=True,
                            audience="https://aiplatform.googleapis.com/")
        return claims["iss"] == f"tuner@{PROJECT}.iam.gserviceaccount.com"

    return _Env(env, verify)


class _Env(dict):
    def __init__(self, env: dict, verify):
        super().__init__(env)
        self.verify = verify
