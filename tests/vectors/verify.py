#!/usr/bin/env python3
"""Check the golden vectors against docs/format.md with independent implementations.

blob-v1.txt, blob-v2.txt (content blobs of format 1 and 2): header fields,
header MAC and every chunk recomputed from §7.

crypto-v1.txt (keys, seals, wrapping, metadata):

The unit test (tests/unit/test_crypto.c) checks that the C code opens the
golden vectors; this script checks that the vectors are what format.md says,
byte by byte, without libsodium: BLAKE2b from hashlib, X25519, ChaCha20-
Poly1305, Poly1305 and Argon2id from python3-cryptography (Argon2id needs
cryptography >= 44; that part is skipped on older versions), HChaCha20,
HSalsa20 and XSalsa20 written out below from their specifications.

tlog-v1.txt (the access record's Merkle tree): every root and every
inclusion and consistency proof is recomputed from RFC 9162 §2.1 with
hashlib's SHA-256 alone, each proof is also checked with the RFC's
verification algorithm, and the first eight leaves' roots are compared with
RFC 6962's reference values (certificate-transparency's test leaves).

proof-v1.txt (a proof file, docs/format.md §12) with its verifier key
proof-v1.vkey: the file is parsed as §12 says, the checkpoint's C2SP signed
note checked with Ed25519 from python3-cryptography (key id, signature,
origin), the record's canonical bytes decoded as §10 says and compared with
record.2.bytes of tlog-v1.txt, and the audit path checked with the RFC's
algorithm against the signed root.
rows-v1.txt (row signatures, format.md §13, and the version 2 user secret,
§3): every row's canonical bytes are rebuilt here from the fixed field
values (the same as in tests/unit/test_rowsig.c) with struct alone, and
each signature is checked with python3-cryptography's Ed25519 against the
administration key derived from its seed; Ed25519 is deterministic, so the
signatures are also recomputed. The version 2 secret opens with
AD = header || user public key || administration public key (Argon2id as
above).

Usage: tests/vectors/verify.py [VECTORS_DIR]
       tests/vectors/verify.py --proof FILE (--vkey KEY | --vkey-file FILE)
The first form prints one line per part and exits 0 when every vector holds;
the second checks one proof file as vaultfs-meta verify-proof does, with
nothing of vaultfs's code, prints the record and "valid", or "invalid:
REASON" and exits 1.
"""
import base64
import binascii
import re
import hashlib
import os
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.poly1305 import Poly1305

try:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
except ImportError:  # older python3-cryptography
    Argon2id = None

MASK = 0xFFFFFFFF


def rotl(v, c):
    return ((v << c) & MASK) | (v >> (32 - c))


def hchacha20(key, nonce16):
    s = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    s += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))

    def qr(a, b, c, d):
        s[a] = (s[a] + s[b]) & MASK; s[d] = rotl(s[d] ^ s[a], 16)
        s[c] = (s[c] + s[d]) & MASK; s[b] = rotl(s[b] ^ s[c], 12)
        s[a] = (s[a] + s[b]) & MASK; s[d] = rotl(s[d] ^ s[a], 8)
        s[c] = (s[c] + s[d]) & MASK; s[b] = rotl(s[b] ^ s[c], 7)

    for _ in range(10):
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)
    return struct.pack("<8I", *(s[0:4] + s[12:16]))


def salsa_rounds(x):
    def qr(a, b, c, d):
        x[b] ^= rotl((x[a] + x[d]) & MASK, 7)
        x[c] ^= rotl((x[b] + x[a]) & MASK, 9)
        x[d] ^= rotl((x[c] + x[b]) & MASK, 13)
        x[a] ^= rotl((x[d] + x[c]) & MASK, 18)

    for _ in range(10):
        qr(0, 4, 8, 12); qr(5, 9, 13, 1); qr(10, 14, 2, 6); qr(15, 3, 7, 11)
        qr(0, 1, 2, 3); qr(5, 6, 7, 4); qr(10, 11, 8, 9); qr(15, 12, 13, 14)


def salsa_state(key, in16):
    k = struct.unpack("<8I", key)
    i = struct.unpack("<4I", in16)
    return [0x61707865, k[0], k[1], k[2], k[3], 0x3320646E, i[0], i[1],
            i[2], i[3], 0x79622D32, k[4], k[5], k[6], k[7], 0x6B206574]


def hsalsa20(key, in16):
    x = salsa_state(key, in16)
    salsa_rounds(x)
    return struct.pack("<8I", x[0], x[5], x[10], x[15], x[6], x[7], x[8], x[9])


def salsa20_stream(key, nonce8, length):
    out = b""
    counter = 0
    while len(out) < length:
        init = salsa_state(key, nonce8 + struct.pack("<Q", counter))
        x = list(init)
        salsa_rounds(x)
        out += struct.pack("<16I", *[(a + b) & MASK for a, b in zip(x, init)])
        counter += 1
    return out[:length]


def xchacha20poly1305_open(key, nonce24, ct, ad):
    sub = hchacha20(key, nonce24[:16])
    return ChaCha20Poly1305(sub).decrypt(b"\0" * 4 + nonce24[16:], ct, ad)


def box_seal_open(sealed, pk, sk):
    """crypto_box_seal_open: epk || MAC || XSalsa20(m), nonce = BLAKE2b-192(epk || pk)."""
    epk, mac, c = sealed[:32], sealed[32:48], sealed[48:]
    nonce = hashlib.blake2b(epk + pk, digest_size=24).digest()
    shared = X25519PrivateKey.from_private_bytes(sk).exchange(X25519PublicKey.from_public_bytes(epk))
    k = hsalsa20(shared, b"\0" * 16)
    stream = salsa20_stream(hsalsa20(k, nonce[:16]), nonce[16:], 32 + len(c))
    Poly1305.verify_tag(stream[:32], c, mac)
    return bytes(a ^ b for a, b in zip(c, stream[32:]))


def kdf(key, ctx, subkey_id=1):
    """crypto_kdf_derive_from_key: keyed BLAKE2b-256, salt = id, personal = ctx."""
    return hashlib.blake2b(b"", digest_size=32, key=key, salt=struct.pack("<Q", subkey_id),
                           person=ctx).digest()


# ---- the access record's Merkle tree (RFC 9162 §2.1) ----

CT_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


def sha256(b):
    return hashlib.sha256(b).digest()


def split(n):
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    """MTH(D[n]) of §2.1.1."""
    if not d:
        return sha256(b"")
    if len(d) == 1:
        return sha256(b"\x00" + d[0])
    k = split(len(d))
    return sha256(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m, d):
    """PATH(m, D[n]) of §2.1.3.1."""
    if len(d) <= 1:
        return []
    k = split(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    """SUBPROOF(m, D[n], b) of §2.1.4.1."""
    if m == len(d):
        return [] if b else [mth(d)]
    k = split(len(d))
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def verify_inclusion(index, size, leaf_hash, proof, root):
    """§2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = sha256(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_hash, second_hash, proof):
    """§2.1.4.2."""
    if first == second:
        return not proof and first_hash == second_hash
    if not proof or first == 0 or first > second:
        return False
    if first & (first - 1) == 0:
        proof = [first_hash] + proof
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = sha256(b"\x01" + c + fr)
            sr = sha256(b"\x01" + c + sr)
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = sha256(b"\x01" + sr + c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


def hashes(b):
    assert len(b) % 32 == 0
    return [b[i:i + 32] for i in range(0, len(b), 32)]


def check_tlog(v):
    leaves = []
    while f"leaf.{len(leaves)}" in v:
        leaves.append(v[f"leaf.{len(leaves)}"])
    assert len(leaves) >= 8
    n_roots = n_incl = n_cons = 0
    for n in range(len(leaves) + 1):
        root = mth(leaves[:n])
        assert v[f"root.{n}"] == root, f"root.{n}"
        if n in CT_ROOTS:
            assert root.hex() == CT_ROOTS[n], f"RFC 6962 reference root of {n} leaves"
        n_roots += 1
    for n in range(1, len(leaves) + 1):
        for i in range(n):
            proof = hashes(v[f"inclusion.{i}.{n}"])
            assert proof == path(i, leaves[:n]), f"inclusion.{i}.{n}"
            assert verify_inclusion(i, n, sha256(b"\x00" + leaves[i]), proof,
                                    v[f"root.{n}"]), f"inclusion.{i}.{n} verifies"
            n_incl += 1
        for m in range(1, n + 1):
            proof = hashes(v[f"consistency.{m}.{n}"])
            assert proof == subproof(m, leaves[:n], True), f"consistency.{m}.{n}"
            assert verify_consistency(m, n, v[f"root.{m}"], v[f"root.{n}"],
                                      proof), f"consistency.{m}.{n} verifies"
            n_cons += 1
    print(f"tlog: {len(leaves)} leaves, {n_roots} roots, {n_incl} inclusion and "
          f"{n_cons} consistency proofs: ok")


GOLDEN_PATH = bytes(range(0xa0, 0xb0))


def golden_records():
    """The fixed records of tests/unit/test_tlog.c, field by field."""
    base = dict(time_ns=1764547200123456789, user=b"anna", uid=1001, pid=4242,
                comm=b"soffice.bin", ino=77, level=2, outcome=0, bytes_read=-1,
                bytes_written=-1, closes=0, path=b"", path2=b"", detail=b"")
    return [
        dict(base, id=42, op=b"open", path=GOLDEN_PATH, detail=b"flags=rw"),
        dict(base, id=43, time_ns=base["time_ns"] + 1, op=b"close", bytes_read=1000,
             bytes_written=20, closes=42),
        dict(base, id=44, time_ns=base["time_ns"] + 2, user=b"bo", uid=1002, pid=1,
             comm=b"cat", op=b"rename", path=GOLDEN_PATH[:3], path2=GOLDEN_PATH[3:8],
             level=3, outcome=-13, detail=b"level not held"),
    ]


def encode_record(r):
    """docs/format.md §10: the canonical bytes of an access record."""
    out = struct.pack("<BqqqqQiiqqq", 1, r["id"], r["time_ns"], r["uid"], r["pid"], r["ino"],
                      r["level"], r["outcome"], r["bytes_read"], r["bytes_written"],
                      r["closes"])
    for field in ("user", "comm", "op", "path", "path2", "detail"):
        out += struct.pack("<I", len(r[field])) + r[field]
    return out


def check_records(v):
    for i, r in enumerate(golden_records()):
        b = encode_record(r)
        assert v[f"record.{i}.bytes"] == b, f"record.{i}.bytes"
        assert v[f"record.{i}.leaf"] == sha256(b"\x00" + b), f"record.{i}.leaf"
    print(f"records: {len(golden_records())} canonical encodings and leaf hashes: ok")


def read_vectors(path):
    v = {}
    for line in open(path, encoding="utf-8"):
        if " = " in line and not line.startswith("#"):
            name, val = line.rstrip("\n").split(" = ")
            v[name] = bytes.fromhex(val)
        elif line.rstrip("\n").endswith(" =") and not line.startswith("#"):
            v[line.rstrip("\n")[:-2]] = b""
    return v


def check_crypto(v):

    # §3 user secret
    blob = v["user.blob"]
    assert len(blob) == 100
    ver, alg, reserved, ops, mem_kib = struct.unpack_from("<BBHII", blob, 0)
    assert (ver, alg, reserved) == (1, 1, 0)
    salt, nonce, ct = blob[12:28], blob[28:52], blob[52:]
    if Argon2id:
        kek = Argon2id(salt=salt, length=32, iterations=ops, lanes=1,
                       memory_cost=mem_kib).derive(v["user.passphrase"])
        sk = xchacha20poly1305_open(kek, nonce, ct, blob[:52] + v["user.public_key"])
        assert sk == v["user.secret_key"], "§3 secret key"
        print("§3 user secret: ok")
    else:
        print("§3 user secret: layout ok, Argon2id unavailable (skipped)")

    # §4 sealed key
    blob = v["seal.blob"]
    assert len(blob) == 89 and blob[0] == 1
    plain = box_seal_open(blob[1:], v["seal.recipient_public_key"], v["seal.recipient_secret_key"])
    kind, r1, r2, key_id, version = struct.unpack_from("<BBHHH", plain, 0)
    assert (kind, r1, r2, key_id, version) == (2, 0, 0, 2, 0x0304), "§4 context"
    assert plain[8:] == v["seal.key"], "§4 key"
    print("§4 sealed key: ok")

    # §5 wrapped file key
    blob = v["wrap.blob"]
    assert len(blob) == 80
    ver, level, reserved, key_version = struct.unpack_from("<BBHI", blob, 0)
    assert (ver, level, reserved, key_version) == (1, 3, 0, 0x05060708)
    fk = xchacha20poly1305_open(v["wrap.level_key"], blob[8:32], blob[32:],
                                b"vfsfkey1" + blob[:8] + v["wrap.object_id"])
    assert fk == v["wrap.file_key"], "§5 file key"
    print("§5 wrapped file key: ok")

    # §2 + §6 metadata
    mk = v["meta.key"]
    assert kdf(mk, b"vfs-name") == v["meta.name_subkey"], "§2 vfs-name"
    assert kdf(mk, b"vfs-meta") == v["meta.aead_subkey"], "§2 vfs-meta"
    blob = v["meta.blob"]
    ver, purpose, key_version = struct.unpack_from("<BBH", blob, 0)
    assert (ver, purpose, key_version) == (1, 1, 0x0102)
    assert len(blob) == len(v["meta.plaintext"]) + 44
    pt = xchacha20poly1305_open(kdf(mk, b"vfs-meta"), blob[4:28], blob[28:],
                                blob[:4] + struct.pack("<Q", 0x1122334455667788))
    assert pt == v["meta.plaintext"], "§6 plaintext"
    h = hashlib.blake2b(struct.pack("<Q", 1) + b"Protokoll", digest_size=32,
                        key=kdf(mk, b"vfs-name")).digest()
    assert h == v["hash.name_hash"], "§6 name hash"
    print("§2/§6 metadata and name hash: ok")

    fk = v["wrap.file_key"]
    assert kdf(fk, b"vfs-data") == v["file.data_subkey"], "§2 vfs-data"
    assert kdf(fk, b"vfs-hdr_") == v["file.header_subkey"], "§2 vfs-hdr_"
    print("§2 content subkeys: ok")

    fp = hashlib.blake2b(v["wrap.level_key"], digest_size=32, key=b"vfs-fp").digest()[:8]
    assert fp == v["fingerprint"], "§8 fingerprint"
    print("§8 fingerprint: ok")


class ProofError(Exception):
    pass


def b64(text, length=None):
    """Canonical standard base64 (padding, no stray bits), as §12 demands."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProofError("bad base64")
    if base64.b64encode(raw).decode() != text or (length is not None and len(raw) != length):
        raise ProofError("bad base64")
    return raw


def decimal(text):
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", text) or int(text) >= 2**64:
        raise ProofError(f"bad number {text!r}")
    return int(text)


def parse_vkey(text):
    """golang.org/x/mod/sumdb/note: NAME+KEYID+BASE64(0x01 || public key)."""
    name, keyid, key = text.strip().split("+", 2)  # a name holds no "+", base64 may
    key = b64(key)
    if len(key) != 33 or key[0] != 1:
        raise ProofError("not an Ed25519 verifier key")
    if sha256(name.encode() + b"\n" + key)[:4] != bytes.fromhex(keyid):
        raise ProofError("the verifier key's id does not match")
    return name, bytes.fromhex(keyid), key[1:]


def open_note(note, vkey):
    """C2SP signed-note: the text, if a signature line by vkey verifies."""
    name, keyid, pk = vkey
    text, sep, sigs = note.partition(b"\n\n")
    if not sep or not sigs.endswith(b"\n"):
        raise ProofError("the checkpoint is not a well-formed signed note")
    text += b"\n"
    for line in sigs[:-1].split(b"\n"):
        if not line.startswith("\u2014 ".encode()):
            raise ProofError("the checkpoint is not a well-formed signed note")
        who, _, sig = line[len("\u2014 ".encode()):].decode().partition(" ")
        sig = b64(sig)
        if who != name or sig[:4] != keyid:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(pk).verify(sig[4:], text)
        except InvalidSignature:
            raise ProofError("the checkpoint's signature does not verify")
        return text.decode()
    raise ProofError("the checkpoint is not signed by this verifier key")


def decode_record(b):
    """§10, encoding version 1."""
    if len(b) < 73 or b[0] != 1:
        raise ProofError("the record's bytes are malformed")
    keys = ("id", "time_ns", "uid", "pid", "ino", "level", "outcome", "bytes_read",
            "bytes_written", "closes")
    r = dict(zip(keys, struct.unpack_from("<qqqqQiiqqq", b, 1)))
    off = 73
    for field in ("user", "comm", "op", "path", "path2", "detail"):
        if off + 4 > len(b):
            raise ProofError("the record's bytes are malformed")
        (n,) = struct.unpack_from("<I", b, off)
        if off + 4 + n > len(b):
            raise ProofError("the record's bytes are malformed")
        r[field] = b[off + 4:off + 4 + n]
        off += 4 + n
    if off != len(b):
        raise ProofError("the record's bytes are malformed")
    return r


def check_proof(data, vkey):
    """§12: the proof file's record, once everything holds."""
    head, sep, note = data.partition(b"\ncheckpoint\n")
    if not sep or len(data) > 256 * 1024:
        raise ProofError("not a proof file")
    lines = head.decode("ascii", "strict").split("\n")
    if len(lines) < 5 or lines[0] != "vaultfs-proof v1":
        raise ProofError("not a vaultfs-proof v1 file")
    fields = {}
    for line, key in zip(lines[1:5], ("index", "size", "record", "path")):
        k, _, val = line.partition(" ")
        if k != key:
            raise ProofError(f"expected the {key} line")
        fields[key] = val
    index, size, npath = (decimal(fields[k]) for k in ("index", "size", "path"))
    record = b64(fields["record"])
    if not 0 < len(record) <= 65536 or index >= size or npath > 64:
        raise ProofError("a field out of range")
    if len(lines) != 5 + npath:
        raise ProofError("the number of path hashes is not the path line's")
    path = [b64(h, 32) for h in lines[5:]]
    text = open_note(note, vkey).split("\n")
    if len(text) < 4 or text[0] != vkey[0]:
        raise ProofError("the checkpoint names another log than the verifier key")
    if decimal(text[1]) != size:
        raise ProofError("the proof's tree size is not its checkpoint's")
    root = b64(text[2], 32)
    rec = decode_record(record)
    if not verify_inclusion(index, size, sha256(b"\x00" + record), path, root):
        raise ProofError("the audit path does not lead from this record to the checkpoint's root")
    return rec, index, size


def check_golden_proof(folder, tlog):
    data = open(os.path.join(folder, "proof-v1.txt"), "rb").read()
    vkey = parse_vkey(open(os.path.join(folder, "proof-v1.vkey"), encoding="ascii").read())
    rec, index, size = check_proof(data, vkey)
    assert (index, size) == (2, 3)
    assert encode_record(rec) == tlog["record.2.bytes"], "the proof's record is record.2"
    flipped = bytearray(data)
    flipped[data.index(b"path 1\n") + 10] ^= 1
    try:
        check_proof(bytes(flipped), vkey)
        raise AssertionError("a flipped audit path verified")
    except ProofError:
        pass
    print("§12 proof file: signature, record and audit path: ok")


def proof_main(args):
    path, vkey = None, None
    while args:
        opt = args.pop(0)
        if opt == "--proof":
            path = args.pop(0)
        elif opt == "--vkey":
            vkey = args.pop(0)
        elif opt == "--vkey-file":
            vkey = open(args.pop(0), encoding="ascii").readline()
        else:
            sys.exit(f"unknown option {opt}")
    if not path or not vkey:
        sys.exit("usage: verify.py --proof FILE (--vkey KEY | --vkey-file FILE)")
    try:
        rec, index, size = check_proof(open(path, "rb").read(), parse_vkey(vkey))
    except (ProofError, UnicodeDecodeError, ValueError) as e:
        print(f"invalid: {e}")
        return 1
    for k in ("id", "time_ns", "user", "uid", "pid", "comm", "op", "ino", "level", "outcome",
              "bytes_read", "bytes_written", "closes", "detail"):
        v = rec[k]
        print(f"  {k:13} {v.decode('utf-8', 'replace') if isinstance(v, bytes) else v}")
    print(f"  {'path':13} encrypted, {len(rec['path'])} bytes")
    print(f"valid: leaf {index} of {size}")
    return 0
# ---- content blobs (docs/format.md §7) ----

def read_blob_vector(path):
    v = {}
    for line in open(path, encoding="utf-8"):
        if "=" in line and not line.startswith("#"):
            name, val = line.rstrip("\n").split("=", 1)
            v[name] = bytes.fromhex(val)
    return v


def check_blob(v, version):
    """A blob from its header's fields, MAC and chunks, as §7 describes them."""
    fk, oid, plain, blob = v["file_key"], v["object_id"], v["plaintext"], v["blob"]
    hdr_key, data_key = kdf(fk, b"vfs-hdr_"), kdf(fk, b"vfs-data")
    assert blob[:4] == b"VFSO" and blob[4] == version, "§7 magic, version"
    assert blob[5:8] == bytes([1, 12, 0]), "§7 cipher, chunk shift, reserved"
    assert blob[8:24] == oid, "§7 object id"
    size = struct.unpack_from("<Q", blob, 24)[0]
    assert size == len(plain), "§7 size"
    fields, mac_len = (32, 32) if version == 1 else (40, 24)
    mac = hashlib.blake2b(blob[:fields], digest_size=mac_len, key=hdr_key).digest()
    assert blob[fields:64] == mac, "§7 header MAC"
    if version == 2:
        assert struct.unpack_from("<Q", blob, 32)[0] == 1, "§7 write counter"
    chunks = (size + 4095) // 4096
    assert len(blob) == 64 + chunks * 4136, "§7 blob length"
    out = b""
    for i in range(chunks):
        c = blob[64 + i * 4136:64 + (i + 1) * 4136]
        out += xchacha20poly1305_open(data_key, c[:24], c[24:], oid + struct.pack("<Q", i))
    assert out[:size] == plain and out[size:] == b"\0" * (len(out) - size), "§7 chunks"
    print("§7 content blob, format %d: ok" % version)
def row_message(table, fields):
    """§13: "vaultfs-row v1" 0x00 table 0x00, then each field: an int as 8 bytes
    big-endian two's complement, bytes as u32 big-endian length || bytes,
    None (a NULL byte string) as 0xffffffff alone."""
    out = b"vaultfs-row v1\x00" + table.encode() + b"\x00"
    for f in fields:
        if f is None:
            out += struct.pack(">I", 0xFFFFFFFF)
        elif isinstance(f, int):
            out += struct.pack(">q", f)
        else:
            out += struct.pack(">I", len(f)) + f
    return out


def check_rows(v):
    priv = Ed25519PrivateKey.from_private_bytes(v["admin.seed"])
    pub = priv.public_key()
    pk = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert pk == v["admin.public_key"], "§13 administration public key"
    rows = {
        # users: id, name, uid, public key, disabled
        "users": [7, b"anna", 1001, b"\x11" * 32, 0],
        # roles: id, name, levels, flags
        "roles": [3, b"member", 3, 1],
        # role_keys: role id, version, public key, custody seal (NULL)
        "role_keys": [3, 2, b"\x22" * 32, None],
        # grants: user, role, role version, seal, granted_by, granted_at, expires
        "grants": [7, 3, 2, b"\x33" * 89, 1, 1700000000000000000, 0],
        # level_keys: level, version, fingerprint
        "level_keys": [1, 2, b"\x44" * 8],
        # meta_keys: version, fingerprint
        "meta_keys": [1, b"\x55" * 8],
        # key_seals: kind, id, version, role, role version, seal
        "key_seals": [2, 1, 2, 3, 2, b"\x66" * 89],
        # sign_keys: kind, version, public key
        "sign_keys": [5, 1, pk],
        # the level names 0..3
        "level_names": [b"alpha", b"bravo", b"charlie", b"delta"],
    }
    for table, fields in rows.items():
        msg = row_message(table, fields)
        assert msg == v[table + ".message"], "§13 canonical bytes of " + table
        pub.verify(v[table + ".sig"], msg)  # raises if it does not hold
        assert priv.sign(msg) == v[table + ".sig"], "§13 signature of " + table
    print("§13 row signatures: ok (%d rows)" % len(rows))

    blob = v["user2.blob"]
    assert len(blob) == 100
    ver, alg, reserved, ops, mem_kib = struct.unpack_from("<BBHII", blob, 0)
    assert (ver, alg, reserved) == (2, 1, 0)
    if Argon2id:
        kek = Argon2id(salt=blob[12:28], length=32, iterations=ops, lanes=1,
                       memory_cost=mem_kib).derive(v["user2.passphrase"])
        sk = xchacha20poly1305_open(kek, blob[28:52], blob[52:],
                                    blob[:52] + v["user2.public_key"] + pk)
        assert sk == v["user2.secret_key"], "§3 version 2 secret key"
        try:
            xchacha20poly1305_open(kek, blob[28:52], blob[52:], blob[:52] + v["user2.public_key"])
        except Exception:
            pass
        else:
            raise AssertionError("§3 version 2 opened without the administration key")
        print("§3 user secret version 2: ok")
    else:
        print("§3 user secret version 2: layout ok, Argon2id unavailable (skipped)")


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    check_crypto(read_vectors(os.path.join(folder, "crypto-v1.txt")))
    check_blob(read_blob_vector(os.path.join(folder, "blob-v1.txt")), 1)
    check_blob(read_blob_vector(os.path.join(folder, "blob-v2.txt")), 2)
    check_rows(read_vectors(os.path.join(folder, "rows-v1.txt")))
    tlog = read_vectors(os.path.join(folder, "tlog-v1.txt"))
    check_tlog(tlog)
    check_records(tlog)
    check_golden_proof(folder, tlog)


if __name__ == "__main__":
    if "--proof" in sys.argv[1:]:
        sys.exit(proof_main(sys.argv[1:]))
    main()
