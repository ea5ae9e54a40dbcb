"""Fixtures shared by the test folders: the fake clouds (moto for AWS, the fake Vertex AI of
tests/vertex) and fake credentials for them."""

from __future__ import annotations

import atexit
import datetime as dt
import ipaddress
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hypothesis import settings as hypothesis_settings

# Property tests: CI's verdict never depends on a random draw. The default `ci` profile is
# derandomized (each test's examples come from a seed fixed by its source), with the breadth
# each test asks for; `make fuzz` runs the same tests under `fuzz`: random draws, repeated
# for as long as it is given, failures saved in .hypothesis/ and printed with a reproduction
# blob (turn each into an @example).
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("fuzz", derandomize=False, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

VERTEX_TESTS = Path(__file__).parent / "vertex"
sys.path.insert(0, str(VERTEX_TESTS))  # fake_vertex, for the Vertex tests of every folder


# ---- AWS: moto's server ---------------------------------------------------------------------
@pytest.fixture
def fake_aws_credentials(monkeypatch):
    """Fake credentials and region, no profile: nothing ever reaches a real account."""
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="module")
def moto_endpoint():
    """moto's server on 127.0.0.1 (a fake AWS: SageMaker, S3, CloudWatch), one per test
    module, empty when it starts (moto keeps its state per process, not per server, so
    no module sees another's jobs or buckets); yields its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    reset_moto(url)
    yield url
    server.stop()


@pytest.fixture
def moto_server(moto_endpoint, fake_aws_credentials):
    """The module's moto server emptied for this test, with fake credentials; its URL."""
    reset_moto(moto_endpoint)
    return moto_endpoint


def reset_moto(url: str) -> None:
    """Empty every fake service of the moto server at ``url``."""
    import urllib.request

    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


# ---- GCP: the fake Vertex AI over TLS on loopback ---------------------------------------------
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
# channel exists (this module is loaded once, before any test runs).
_VERTEX_CERT, _VERTEX_KEY = _self_signed()
_VERTEX_TLS_DIR = Path(tempfile.mkdtemp(prefix="pipetune-vertex-tls-"))
atexit.register(shutil.rmtree, _VERTEX_TLS_DIR, True)
(_VERTEX_TLS_DIR / "ca.pem").write_bytes(_VERTEX_CERT)
os.environ["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = str(_VERTEX_TLS_DIR / "ca.pem")


@pytest.fixture
def fake_vertex():
    """The fake Vertex AI (tests/vertex/fake_vertex.py) serving TLS gRPC on 127.0.0.1; its
    ``endpoint`` is what the SDK's ``api_endpoint`` takes."""
    from fake_vertex import LOCATION, PROJECT, FakeVertex, serve

    fake = FakeVertex(PROJECT, LOCATION)
    server, port = serve(fake, _VERTEX_CERT, _VERTEX_KEY)
    fake.endpoint = f"127.0.0.1:{port}"
    yield fake
    server.stop(grace=None)


@pytest.fixture
def vertex_backend(fake_vertex):
    """pipetune's VertexBackend on the unchanged SDK, talking to ``fake_vertex``."""
    from fake_vertex import LOCATION, PROJECT
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
    from fake_vertex import PROJECT

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
    env["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = str(_VERTEX_TLS_DIR / "ca.pem")
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
