#!/usr/bin/env python3
"""Golden .npy / .npz files written by NumPy itself, for the Swift reader (NumPy.swift).

Writes into Tests/RecurrentTests/Fixtures/numpy/:
  dtype_<code>.npy       np.save of a [2, 3] (or longer 1-D) array of each readable dtype:
                         f4 f8 f2 i8 i4 i2 i1 u8 u4 u2 u1 b1 (little-endian, '|' for one byte)
  fortran_f4.npy         np.asfortranarray of a [2, 3, 4] float32 array (fortran_order True)
  fortran_big_f8.npy     [3, 2] '>f8' in Fortran order (both at once)
  big_f4.npy, big_i2.npy, big_u8.npy   big-endian ('>') dtypes
  scalar.npy             a 0-d float64 array, shape ()
  empty.npy              float32 of shape [0, 3]
  version2.npy           np.lib.format.write_array(..., version=(2, 0)) ([4, 2] float32)
  version3.npy           np.lib.format.write_array(..., version=(3, 0)) ([3] int16)
  long_header.npy        a [1, 1, ..., 1, 2] (34 axes) float32 array
  object.npy             dtype object (a pickle): the reader must refuse it
  structured.npy         dtype [('a', '<f4'), ('b', '<i4')]: unsupported
  complex.npy            '<c8': unsupported
  savez_positional.npz   np.savez(path, a, b, c): members arr_0.npy, arr_1.npy, arr_2.npy
  savez_named.npz        np.savez(path, weights=..., bias=..., step=...) (keyword order kept)
  compressed_small.npz   np.savez_compressed with one tiny array (a fixed-Huffman deflate block)
  compressed_large.npz   np.savez_compressed with arrays big and varied enough for dynamic
                         Huffman blocks, long matches and (random bytes) stored blocks
  zip64.npz              a stored archive written by hand with every ZIP64 structure: ZIP64
                         extra fields in local and central headers (sizes and offset 0xFFFFFFFF),
                         a ZIP64 end-of-central-directory record and its locator
  expected.safetensors   the values as float32 (uint8 arrays as uint8), what the reader must produce: for file F.npy the
                         tensor "F", for member M of archive A.npz the tensor "A.M" (M without
                         .npy); metadata "npz_order" (JSON: archive -> member names in archive
                         order), "dtypes" (JSON: npy file -> descr), "generator", "numpy_version"

ZIP timestamps are pinned to 1980-01-01 00:00 after writing so that reruns give identical bytes.
"""
import io
import json
import os
import struct
import zipfile
import zlib

import numpy as np
from safetensors.numpy import save_file
from fixture_io import write_fixture

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "Tests", "RecurrentTests", "Fixtures", "numpy")

DOS_DATE_1980 = (0 << 9) | (1 << 5) | 1  # 1980-01-01
DOS_TIME_0 = 0


def pin_zip_timestamps(path):
    """Sets every member's DOS date/time (local and central headers) to 1980-01-01 00:00.

    np.savez stamps members with the current time; this makes its output reproducible without
    changing anything else in the archive.
    """
    with open(path, "rb") as f:
        blob = bytearray(f.read())
    eocd = blob.rfind(b"PK\x05\x06")
    assert eocd >= 0, path
    count, _, cd_offset = struct.unpack_from("<HII", blob, eocd + 10)
    pos = cd_offset
    for _ in range(count):
        assert blob[pos:pos + 4] == b"PK\x01\x02"
        n, m, k = struct.unpack_from("<HHH", blob, pos + 28)
        (local,) = struct.unpack_from("<I", blob, pos + 42)
        struct.pack_into("<HH", blob, pos + 12, DOS_TIME_0, DOS_DATE_1980)
        assert blob[local:local + 4] == b"PK\x03\x04"
        struct.pack_into("<HH", blob, local + 10, DOS_TIME_0, DOS_DATE_1980)
        pos += 46 + n + m + k
    with open(path, "wb") as f:
        f.write(blob)


def grid(shape, dtype, scale=1.0, offset=0.0):
    n = int(np.prod(shape))
    return (np.arange(n).reshape(shape) * scale + offset).astype(dtype)


def npy_cases():
    """file stem -> array (saved with np.save unless the stem is written specially)."""
    rng = np.random.RandomState(20240611)
    c = {}
    c["dtype_f4"] = np.array([[0.0, -0.0, 1.5], [np.inf, -np.inf, np.nan]], dtype="<f4")
    c["dtype_f4_random"] = rng.standard_normal(17).astype("<f4")
    c["dtype_f8"] = np.array([[1 / 3, -2.5e-40, 1e39], [np.pi, -1e-300, 123456789.123]], dtype="<f8")
    c["dtype_f2"] = np.array([[0.5, -1.0, 65504.0], [6e-8, np.inf, -0.0]], dtype="<f2")
    c["dtype_i8"] = np.array([[0, -1, 2**40 + 1], [-(2**62), 2**24 + 1, 7]], dtype="<i8")
    c["dtype_i4"] = np.array([[0, -1, 2**31 - 1], [-(2**31), 16777217, 42]], dtype="<i4")
    c["dtype_i2"] = np.array([[0, -1, 32767], [-32768, 300, -300]], dtype="<i2")
    c["dtype_i1"] = np.array([[0, -1, 127], [-128, 5, -5]], dtype="|i1")
    c["dtype_u8"] = np.array([[0, 1, 2**64 - 1], [2**53, 255, 65536]], dtype="<u8")
    c["dtype_u4"] = np.array([[0, 1, 2**32 - 1], [2**24, 255, 65536]], dtype="<u4")
    c["dtype_u2"] = np.array([[0, 1, 65535], [256, 255, 1000]], dtype="<u2")
    c["dtype_u1"] = np.array([[0, 1, 255], [128, 127, 64]], dtype="|u1")
    c["dtype_b1"] = np.array([[True, False, True], [False, False, True]], dtype="|b1")
    c["fortran_f4"] = np.asfortranarray(grid((2, 3, 4), "<f4", 0.5, -3))
    c["fortran_big_f8"] = np.asfortranarray(grid((3, 2), ">f8", 1.25, 0.1))
    c["big_f4"] = rng.standard_normal((2, 5)).astype(">f4")
    c["big_i2"] = np.array([1, -2, 300, -32768, 32767], dtype=">i2")
    c["big_u8"] = np.array([[1, 2**40], [3, 2**63]], dtype=">u8")
    c["scalar"] = np.array(3.25, dtype="<f8")
    c["empty"] = np.zeros((0, 3), dtype="<f4")
    c["version2"] = grid((4, 2), "<f4", -0.75, 2)
    c["version3"] = np.array([-7, 0, 9], dtype="<i2")
    c["long_header"] = grid((1,) * 33 + (2,), "<f4", 1, 1)
    return c


def write_npy(stem, array):
    path = os.path.join(OUT_DIR, stem + ".npy")
    if stem == "version2":
        with open(path, "wb") as f:
            np.lib.format.write_array(f, array, version=(2, 0))
    elif stem == "version3":
        with open(path, "wb") as f:
            np.lib.format.write_array(f, array, version=(3, 0))
    else:
        np.save(path, array)
    back = np.load(path)
    assert back.dtype == array.dtype and back.shape == array.shape, stem
    assert np.array_equal(back, array, equal_nan=array.dtype.kind == "f"), stem
    if stem.startswith("fortran"):
        with open(path, "rb") as f:
            assert b"'fortran_order': True" in f.read(200), stem
    if stem.startswith("version"):
        with open(path, "rb") as f:
            assert f.read(8)[6] == int(stem[-1]), stem
    return path


def write_refused():
    np.save(os.path.join(OUT_DIR, "object.npy"), np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.save(os.path.join(OUT_DIR, "structured.npy"),
            np.array([(1.0, 2), (3.0, 4)], dtype=[("a", "<f4"), ("b", "<i4")]))
    np.save(os.path.join(OUT_DIR, "complex.npy"), np.array([1 + 2j, 3 - 4j], dtype="<c8"))


def npz_cases():
    rng = np.random.RandomState(77)
    # incompressible: the blocks after zlib's first (16K symbols at level 6) are stored
    random_bytes = rng.randint(0, 256, size=40000).astype("|u1")
    return {
        "savez_positional": ("savez", [
            ("arr_0", grid((2, 3), "<f4", 0.25)),
            ("arr_1", np.array([1, -2, 3], dtype="<i8")),
            ("arr_2", np.array(9.5, dtype="<f8")),
        ]),
        "savez_named": ("savez", [
            ("weights", rng.standard_normal((3, 4)).astype("<f4")),
            ("bias", np.array([0.5, -0.5, 0.25], dtype="<f4")),
            ("step", np.array(12, dtype="<i4")),
        ]),
        "compressed_small": ("savez_compressed", [
            ("arr_0", np.array([1.0, 2.0, 3.0], dtype="<f4")),
        ]),
        "compressed_large": ("savez_compressed", [
            ("arr_0", np.tile(grid((50,), "<f4", 0.5), 200).reshape(100, 100)),        # long matches
            ("arr_1", rng.standard_normal(6000).astype("<f4")),                         # dynamic Huffman
            ("arr_2", (rng.standard_normal((40, 50)) * 4).round().astype("<i2")),       # skewed literals
            ("arr_3", random_bytes),
            ("arr_4", np.zeros((0,), dtype="<f4")),
            ("arr_5", np.array(True)),
        ]),
    }


def write_npz(stem, kind, members):
    path = os.path.join(OUT_DIR, stem + ".npz")
    positional = all(name == f"arr_{i}" for i, (name, _) in enumerate(members))
    save = np.savez if kind == "savez" else np.savez_compressed
    if positional:
        save(path, *[a for _, a in members])
    else:
        save(path, **dict(members))
    pin_zip_timestamps(path)
    with np.load(path) as z:
        assert z.files == [name for name, _ in members], (stem, z.files)
        for name, a in members:
            assert np.array_equal(z[name], a), (stem, name)
    with zipfile.ZipFile(path) as z:
        methods = {i.compress_type for i in z.infolist()}
        assert methods == ({zipfile.ZIP_STORED} if kind == "savez" else {zipfile.ZIP_DEFLATED}), methods
    return path


def npy_bytes(array):
    f = io.BytesIO()
    np.save(f, array)
    return f.getvalue()


def write_zip64(path, members):
    """A stored ZIP with ZIP64 extras everywhere and a ZIP64 end record, written field by field."""
    out = bytearray()
    central = bytearray()
    for name, array in members:
        data = npy_bytes(array)
        fname = (name + ".npy").encode()
        crc = zlib.crc32(data) & 0xFFFFFFFF
        offset = len(out)
        # local header: sizes in the ZIP64 extra (uncompressed, compressed)
        extra = struct.pack("<HHQQ", 0x0001, 16, len(data), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, DOS_TIME_0, DOS_DATE_1980, crc,
                           0xFFFFFFFF, 0xFFFFFFFF, len(fname), len(extra))
        out += fname + extra + data
        # central header: uncompressed, compressed, offset in the ZIP64 extra; plus an unrelated extra
        # field before it (0x5455, extended timestamp) that the reader must skip
        other = struct.pack("<HHBI", 0x5455, 5, 1, 0)
        extra = other + struct.pack("<HHQQQ", 0x0001, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, DOS_TIME_0, DOS_DATE_1980,
                               crc, 0xFFFFFFFF, 0xFFFFFFFF, len(fname), len(extra), 0, 0, 0, 0o600 << 16,
                               0xFFFFFFFF)
        central += fname + extra
    cd_offset = len(out)
    out += central
    zip64_eocd = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(members), len(members),
                       len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, zip64_eocd, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(path, "wb") as f:
        f.write(out)
    with np.load(path) as z:
        assert z.files == [n for n, _ in members]
        for name, a in members:
            assert np.array_equal(z[name], a)
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None


def as_expected(array):
    """The values the reader must produce: float32 in C order, shape kept (also for 0-d arrays).

    uint8 arrays stay uint8 (exact in float32 and converted by the safetensors reader), which keeps
    the 40000 random bytes of compressed_large small in expected.safetensors.
    """
    if array.dtype == np.uint8:
        return array.copy(order="C")
    with np.errstate(over="ignore"):  # 1e39 in dtype_f8 is inf as float32, as in Swift
        return array.astype("<f4", order="C")


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    expected = {}
    dtypes = {}
    for stem, array in npy_cases().items():
        write_npy(stem, array)
        expected[stem] = as_expected(array)
        dtypes[stem] = array.dtype.str
    write_refused()

    order = {}
    for stem, (kind, members) in npz_cases().items():
        write_npz(stem, kind, members)
        order[stem] = [name for name, _ in members]
        for name, a in members:
            expected[f"{stem}.{name}"] = as_expected(a)

    zip64_members = [("first", grid((3, 2), "<f4", 1.5, -1)), ("second", np.array([4, 5, 6], dtype="<u2"))]
    write_zip64(os.path.join(OUT_DIR, "zip64.npz"), zip64_members)
    order["zip64"] = [n for n, _ in zip64_members]
    for name, a in zip64_members:
        expected[f"zip64.{name}"] = as_expected(a)

    metadata = {
        "npz_order": json.dumps(order),
        "dtypes": json.dumps(dtypes),
        "generator": "tools/reference/make_numpy_fixtures.py",
        "numpy_version": np.__version__,
    }
    write_fixture(save_file, expected, metadata, os.path.join(OUT_DIR, "expected.safetensors"),
                  f"{len(dtypes)} .npy files and {len(order)} archives")


if __name__ == "__main__":
    main()
