#!/usr/bin/env python3
"""Check crypto-v1.txt against docs/format.md with an independent implementation.

The unit test (tests/unit/test_crypto.c) checks that the C code opens the
golden vectors; this script checks that the vectors are what format.md says,
byte by byte, without libsodium: BLAKE2b from hashlib, X25519, ChaCha20-
Poly1305, Poly1305 and Argon2id from python3-cryptography (Argon2id needs
cryptography >= 44; that part is skipped on older versions), HChaCha20,
HSalsa20 and XSalsa20 written out below from their specifications.

Usage: tests/vectors/verify.py [tests/vectors/crypto-v1.txt]
"""
import hashlib
import os
import struct
import sys

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


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__),
                                                              "crypto-v1.txt")
    v = {}
    for line in open(path, encoding="utf-8"):
        if " = " in line and not line.startswith("#"):
            name, val = line.strip().split(" = ")
            v[name] = bytes.fromhex(val)

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


if __name__ == "__main__":
    main()
