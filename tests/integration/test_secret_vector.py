"""test_secret_vector.py - Python (PyNaCl), docs/secrets.md and the C code
agree on the sealed-secret format.

- The test vector block of docs/secrets.md and the VECTOR_* constants of
  tests/unit/test_secret.c (which the C unit test reproduces) are the same.
- Python seals the vector to exactly the documented text, and so does the
  recipe printed in the doc.
- Through ctypes on common/secret.c (compiled here into a temporary shared
  library), C opens what Python sealed with random nonces and Python opens
  what C sealed. Skipped when no C compiler or libsodium headers are found.

Run: /usr/bin/python3 -m pytest tests/integration/test_secret_vector.py
"""
import base64
import ctypes
import os
import re
import shutil
import subprocess
import types
from pathlib import Path

import pytest

nacl_bindings = pytest.importorskip("nacl.bindings")
from nacl.exceptions import CryptoError  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "secrets.md"
C_TEST = ROOT / "tests" / "unit" / "test_secret.c"

DOC_FIELDS = {
    "kid": "kid",
    "key (base64)": "key_b64",
    "tenant": "tenant",
    "nonce (hex)": "nonce_hex",
    "plaintext": "plaintext",
    "associated data": "ad",
    "sealed": "sealed",
}


def doc_vector():
    text = DOC.read_text(encoding="utf-8")
    m = re.search(r"^## Test vector$.*?^```text\n(.*?)^```$", text, re.S | re.M)
    assert m, "no test vector block in docs/secrets.md"
    vec = {}
    for line in m.group(1).splitlines():
        label, sep, value = line.partition(" = ")
        assert sep, f"bad line in the vector block: {line!r}"
        vec[DOC_FIELDS[label.strip()]] = value
    assert set(vec) == set(DOC_FIELDS.values())
    return vec


def c_vector():
    defs = dict(re.findall(r'^#define VECTOR_(\w+) "(.*)"$',
                           C_TEST.read_text(encoding="utf-8"), re.M))
    return {"kid": defs["KID"], "key_b64": defs["KEY_B64"],
            "tenant": defs["TENANT"], "nonce_hex": defs["NONCE_HEX"],
            "plaintext": defs["PLAINTEXT"], "sealed": defs["SEALED"]}


def ad_for(kid, tenant):
    return f"calsync-secret-v1|{kid}|{tenant.lower()}".encode("ascii")


def py_seal(kid, key, tenant, plain, nonce=None):
    """An independent sealer, written from the format table."""
    nonce = os.urandom(24) if nonce is None else nonce
    box = nacl_bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plain, ad_for(kid, tenant), nonce, key)
    data = base64.urlsafe_b64encode(nonce + box).decode().rstrip("=")
    return f"csv1.{kid}.{data}"


def py_open(kid_keys, tenant, sealed):
    m = re.fullmatch(r"csv1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]+)", sealed)
    assert m, sealed
    kid, data = m.groups()
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return nacl_bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
        raw[24:], ad_for(kid, tenant), raw[:24], kid_keys[kid])


def test_doc_and_c_test_have_the_same_vector():
    doc, c = doc_vector(), c_vector()
    for field, value in c.items():
        assert doc[field] == value, field
    assert doc["ad"] == ad_for(doc["kid"], doc["tenant"]).decode()


def test_python_seals_the_documented_vector():
    v = doc_vector()
    key = base64.b64decode(v["key_b64"], validate=True)
    nonce = bytes.fromhex(v["nonce_hex"])
    assert len(key) == 32 and len(nonce) == 24
    sealed = py_seal(v["kid"], key, v["tenant"], v["plaintext"].encode(), nonce)
    assert sealed == v["sealed"]
    assert py_open({v["kid"]: key}, v["tenant"], sealed) == v["plaintext"].encode()
    with pytest.raises(CryptoError):
        py_open({v["kid"]: key}, "0b5e2a43-1c7d-4f00-8e9a-6d3c2b1a0f99", sealed)


def test_the_doc_recipe_reproduces_the_vector():
    v = doc_vector()
    text = DOC.read_text(encoding="utf-8")
    code = re.search(r"^```python\n(.*?)^```$", text, re.S | re.M).group(1)
    ns = {}
    exec(compile(code, str(DOC), "exec"), ns)  # the recipe as printed
    key = base64.b64decode(v["key_b64"])
    nonce = bytes.fromhex(v["nonce_hex"])
    ns["os"] = types.SimpleNamespace(urandom=lambda n: nonce[:n])
    assert ns["seal"](v["kid"], key, v["tenant"], v["plaintext"]) == v["sealed"]
    assert ns["open_sealed"]({v["kid"]: key}, v["tenant"].upper(),
                             v["sealed"]) == v["plaintext"]


# --- C side through ctypes -------------------------------------------------

class CsErr(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("retryable", ctypes.c_bool),
                ("retry_after_ms", ctypes.c_int),
                ("msg", ctypes.c_char * 512)]


def _err_codes():
    """The enum cs_errcode values, read from common/err.h."""
    body = re.search(r"enum cs_errcode \{(.*?)\};",
                     (ROOT / "common" / "err.h").read_text(), re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    names = [n.split("=")[0].strip() for n in body.split(",") if n.strip()]
    return {name: i for i, name in enumerate(names)}


CS_EINVAL, CS_ECRYPTO = _err_codes()["CS_EINVAL"], _err_codes()["CS_ECRYPTO"]


@pytest.fixture(scope="module")
def csecret(tmp_path_factory):
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if not cc or not shutil.which("pkg-config"):
        pytest.skip("no C compiler or pkg-config")
    try:
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libsodium"],
                               check=True, capture_output=True,
                               text=True).stdout.split()
    except subprocess.CalledProcessError:
        pytest.skip("libsodium development files not found")
    lib = tmp_path_factory.mktemp("secret") / "libcssecret.so"
    subprocess.run([cc, "-std=c11", "-D_DEFAULT_SOURCE",
                    "-D_POSIX_C_SOURCE=200809L", "-O1", "-shared", "-fPIC",
                    "-I", str(ROOT / "common"), str(ROOT / "common/secret.c"),
                    str(ROOT / "common/err.c"), str(ROOT / "common/utf8.c"), "-o", str(lib),
                    *flags],
                   check=True)
    so = ctypes.CDLL(str(lib))
    vp, cp, sz = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t
    errp = ctypes.POINTER(CsErr)
    so.cs_keyring_parse.argtypes = [ctypes.POINTER(vp), cp, errp]
    so.cs_keyring_free.argtypes = [vp]
    so.cs_secret_seal.argtypes = [vp, cp, cp, sz, ctypes.POINTER(vp), errp]
    so.cs_secret_open.argtypes = [vp, cp, cp, ctypes.POINTER(vp),
                                  ctypes.POINTER(sz), errp]
    so.cs_secret_free.argtypes = [vp]
    return so


class CKeyring:
    def __init__(self, so, spec):
        self.so, self.kr, err = so, ctypes.c_void_p(), CsErr()
        assert so.cs_keyring_parse(ctypes.byref(self.kr), spec.encode(),
                                   ctypes.byref(err)) == 0, err.msg

    def open(self, tenant, sealed):
        """(plaintext bytes, None) or (None, (code, message))."""
        out, n, err = ctypes.c_void_p(), ctypes.c_size_t(), CsErr()
        if self.so.cs_secret_open(self.kr, tenant.encode(), sealed.encode(),
                                  ctypes.byref(out), ctypes.byref(n),
                                  ctypes.byref(err)) != 0:
            return None, (err.code, err.msg.decode())
        plain = ctypes.string_at(out, n.value)
        self.so.cs_secret_free(out)
        return plain, None

    def seal(self, tenant, plain):
        out, err = ctypes.c_void_p(), CsErr()
        assert self.so.cs_secret_seal(self.kr, tenant.encode(), plain,
                                      len(plain), ctypes.byref(out),
                                      ctypes.byref(err)) == 0, err.msg
        sealed = ctypes.string_at(out).decode()
        ctypes.CDLL(None).free(out)
        return sealed

    def close(self):
        self.so.cs_keyring_free(self.kr)


KEY_A = os.urandom(32)
KEY_B = os.urandom(32)
TENANT = "3f2b8c1e-5a4d-4e6f-9b7a-0c1d2e3f4a5b"
PLAINS = [b"", b"x", "ya29.\u00e9t\u00e9-token".encode(), os.urandom(700).replace(b"\0", b"1"),
          b"r" * 16384]


def spec(*pairs):
    return ",".join(f"{kid}:{base64.b64encode(key).decode()}" for kid, key in pairs)


def test_c_opens_what_python_sealed(csecret):
    kr = CKeyring(csecret, spec(("new", KEY_B), ("old", KEY_A)))
    try:
        for plain in PLAINS:
            for kid, key in (("old", KEY_A), ("new", KEY_B)):
                sealed = py_seal(kid, key, TENANT, plain)
                assert kr.open(TENANT, sealed) == (plain, None)
                assert kr.open(TENANT.upper(), sealed) == (plain, None)
        sealed = py_seal("old", KEY_A, TENANT, b"secret")
        other = "0b5e2a43-1c7d-4f00-8e9a-6d3c2b1a0f99"
        plain, (code, msg) = kr.open(other, sealed)
        assert plain is None and code == CS_ECRYPTO
        assert msg == ("sealed secret does not open "
                       "(wrong key, wrong tenant or changed bytes)")
        assert kr.open(TENANT, py_seal("k9", KEY_A, TENANT, b"s"))[1] == \
            (CS_ECRYPTO, "unknown key id 'k9'")
        assert kr.open(TENANT, py_seal("old", KEY_B, TENANT, b"s"))[1][0] == CS_ECRYPTO
        assert kr.open(TENANT, sealed + "=")[1][0] == CS_EINVAL
    finally:
        kr.close()


def test_python_opens_what_c_sealed(csecret):
    kr = CKeyring(csecret, spec(("k1", KEY_A)))
    try:
        for plain in PLAINS:
            sealed = kr.seal(TENANT.upper(), plain)
            assert sealed.startswith("csv1.k1.")
            assert py_open({"k1": KEY_A}, TENANT, sealed) == plain
    finally:
        kr.close()
