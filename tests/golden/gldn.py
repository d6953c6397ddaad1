"""gldn.py — the writer of the GLDN reference files read by tests/testlib.c:
b"GLDN", uint32 version (1), uint32 entry count, then per entry: uint32 name
length, name bytes, uint32 rank, uint32 dims[rank], float32 data (all
little-endian)."""
import struct

import numpy as np


class GoldenFile:
    """Collects named float32 arrays and writes them as one GLDN file."""

    def __init__(self):
        self.entries = []

    def put(self, name, array):
        a = np.ascontiguousarray(array, dtype=np.float32)
        self.entries.append((name, list(a.shape), a.tobytes()))

    def write(self, path):
        with open(path, "wb") as f:
            f.write(b"GLDN" + struct.pack("<II", 1, len(self.entries)))
            for name, dims, data in self.entries:
                nb = name.encode()
                f.write(struct.pack("<I", len(nb)) + nb + struct.pack("<I", len(dims)))
                f.write(struct.pack(f"<{len(dims)}I", *dims) + data)
        print(f"wrote {len(self.entries)} tensors to {path}")
