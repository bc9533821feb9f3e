#!/usr/bin/env python3
"""Writes a nested NDJSON dump of about SIZE_MB megabytes (default 1000) to PATH (default dump.ndjson)."""
import json
import random
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "dump.ndjson"
size = int(sys.argv[2] if len(sys.argv) > 2 else 1000) * 1_000_000
rnd = random.Random(42)
written = 0
i = 0
with open(path, "w") as f:
    while written < size:
        i += 1
        row = {
            "id": i,
            "name": f"user-{rnd.randrange(10**6)}",
            "score": rnd.random() * 100,
            "created_at": f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T12:{rnd.randint(0, 59):02d}:00Z",
            "day": f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
            "tags": [f"t{rnd.randrange(50)}" for _ in range(rnd.randrange(5))],
            "address": {"city": rnd.choice(["Oslo", "Rome", "Lima"]), "zip": f"{rnd.randrange(10**5):05d}",
                        "geo": {"lat": rnd.uniform(-90, 90), "lon": rnd.uniform(-180, 180)}},
            "items": [{"sku": f"s{rnd.randrange(1000)}", "qty": rnd.randint(1, 9)} for _ in range(rnd.randrange(4))],
            "active": rnd.random() < 0.5,
        }
        line = json.dumps(row) + "\n"
        f.write(line)
        written += len(line)
print(f"{path}: {i} rows, {written / 1e6:.0f} MB", file=sys.stderr)
