"""Shared by the make_*.py fixture generators."""
import json
import os
import struct


def canonicalize_header(path):
    """Rewrites the JSON header with sorted keys so that reruns give identical bytes.

    save_file serialises __metadata__ from a hash map, whose key order changes between runs;
    the tensor bytes and offsets do not. The header stays compact and space-padded to 8 bytes.
    """
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob[8 + n:])


def write_fixture(save_file, tensors, metadata, path, summary):
    """Saves with the caller's safetensors `save_file`, canonicalises the header, reports."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    save_file(tensors, path, metadata=metadata)
    canonicalize_header(path)
    print(f"wrote {summary}, {len(tensors)} tensors, {os.path.getsize(path)} bytes to {os.path.normpath(path)}")
