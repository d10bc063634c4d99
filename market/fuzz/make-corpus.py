#!/usr/bin/env python3
"""make-corpus.py: writes the seed corpus of fuzz_market (market/fuzz/corpus-market).

Each file is one selector byte (bit 0: host API, bit 1: tenant bob, bit 7: close a round
after) followed by a raas.Envelope, encoded here by hand from raas.proto's field numbers so
that no protobuf package is needed. Run it from the source tree after changing raas.proto's
requests; the files are committed."""
import os
import sys


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, value):
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def msg(*fields):
    return b"".join(field(n, v) for n, v in fields)


def envelope(body_field, body, rid=1, version=1):
    return msg((1, version), (2, rid), (body_field, body))


BW, CORES, LLC = 3, 1, 4
seeds = {
    "hello": (0, envelope(10, msg((1, "fuzz"), (3, "alice")))),
    "hello-other-tenant": (0, envelope(10, msg((3, "bob")))),
    "bid": (0x80, envelope(11, msg((1, "b1"), (2, BW), (3, "h1"), (5, 40), (6, 30000000)))),
    "bid-any-host": (0x82, envelope(11, msg((1, "any"), (2, BW), (5, 80), (6, 20000000)), 2)),
    "bid-curve": (0x80, envelope(11, msg((1, "c"), (2, BW), (3, "h1"), (5, 30), (6, 50000000),
                                         (7, msg((1, 10), (2, 50000000))),
                                         (7, msg((1, 20), (2, 10000000)))), 3)),
    "bid-ranges": (0, envelope(11, msg((1, "r"), (2, BW), (3, "h1"), (4, 10), (5, 40),
                                       (6, 1000000), (8, msg((1, 10), (2, 20))),
                                       (8, msg((1, 30), (2, 40)))), 4)),
    "bid-bad-curve": (0, envelope(11, msg((1, "x"), (2, BW), (3, "h1"), (5, 10), (6, 1),
                                          (7, msg((1, 5), (2, 1))), (7, msg((1, 5), (2, 2)))), 5)),
    "bid-over-budget": (2, envelope(11, msg((1, "big"), (2, BW), (3, "h1"), (5, 100),
                                            (6, 10**15)), 6)),
    "bid-no-request-id": (0, envelope(11, msg((1, "b1"), (2, BW), (3, "h1"), (5, 1), (6, 1)), 0)),
    "acquire": (0x80, envelope(12, msg((1, CORES), (2, "h1"), (3, 2)), 7)),
    "acquire-any": (0, envelope(12, msg((1, CORES), (3, 1), (4, 30000000)), 8)),
    "release": (0x80, envelope(13, msg((1, CORES), (2, "h1")), 9)),
    "release-part": (0, envelope(13, msg((1, BW), (2, "h1"), (3, 5)), 10)),
    "cancel": (0, envelope(14, msg((1, "b1")), 11)),
    "query-prices": (0, envelope(15, msg((1, 1)), 12)),
    "query-holdings": (0, envelope(15, msg((1, 2), (2, BW)), 13)),
    "query-bids": (0, envelope(15, msg((1, 3)), 14)),
    "query-account": (2, envelope(15, msg((1, 4)), 15)),
    "query-rounds": (0, envelope(15, msg((1, 5), (4, 3)), 16)),
    "query-other-tenant": (0, envelope(15, msg((1, 4), (5, "bob")), 17)),
    "tenant-sends-notice": (0, envelope(21, msg((1, 3), (2, msg((1, "alice"), (2, BW), (4, 99)))), 18)),
    "host-register": (1, envelope(22, msg((1, "agent"), (2, msg((1, LLC), (2, 11), (3, 1))),
                                          (2, msg((1, BW), (2, 100), (3, 1)))), 19)),
    "host-register-unavailable": (1, envelope(22, msg((2, msg((1, LLC), (2, 11), (3, 0),
                                                              (4, "no resctrl")))), 20)),
    "heartbeat": (1, envelope(23, msg((1, 5)), 21)),
    "allocation-ack": (1, envelope(19, msg((1, 3), (2, 0),
                                           (3, msg((1, "alice"), (2, BW), (3, 22), (4, "EINVAL")))), 22)),
    "meters": (0x81, envelope(20, msg((1, 3), (4, msg((1, "alice"), (2, 10**9))),
                                      (4, msg((1, "mallory"), (2, 5)))), 23)),
    "host-sends-bid": (1, envelope(11, msg((1, "b"), (2, BW), (5, 1), (6, 1)), 24)),
    "version-2": (0, envelope(10, msg(), 25, version=2)),
    "no-body": (0, msg((1, 1), (2, 26))),
    "garbage": (0, b"\xff\xfe\xfd\xfc garbage"),
    "truncated": (0, envelope(11, msg((1, "b1"), (2, BW), (3, "h1"), (5, 40)), 27)[:7]),
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus-market")
os.makedirs(out, exist_ok=True)
for name, (sel, data) in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([sel]) + data)
print(f"wrote {len(seeds)} seeds to {out}")
