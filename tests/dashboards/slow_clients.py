#!/usr/bin/env python3
"""slow_clients.py: slow and stuck HTTP clients against a daemon's HTTP side (common/httpd),
for tests/dashboards/test_dash_slow.sh. Plain sockets, so that each byte's timing is ours.

  slow_clients.py HOST PORT TIMEOUT_S

Runs at once, for about 3 * TIMEOUT_S:
  dribblers  50 requests whose head's last header arrives one byte every TIMEOUT_S / 4
             (never idle for the timeout), completed at the end: each must then get "200";
  stallers   50 requests that send half a head and then nothing: each must be closed by the
             server, not before TIMEOUT_S / 2 and within TIMEOUT_S + 3 s;
  readers    an ordinary GET /api/summary every 100 ms: each must be answered 200;
  sleepers   5 event streams (GET /api/events) with a 2 KiB receive buffer that never read.
Prints one line per kind and "ok" or the first failure; exit 0 when all held."""
import socket
import sys
import threading
import time

host, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
failures = []
lock = threading.Lock()
results = {"dribbled_200": 0, "stall_closed": 0, "reads_200": 0, "reads": 0}
stall_times = []


def fail(what):
    with lock:
        failures.append(what)


def connect(rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect((host, port))
    return s


def read_status(s, deadline):
    s.settimeout(max(0.1, deadline - time.time()))
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


def dribbler(i, stop_at):
    try:
        s = connect()
        s.sendall(b"GET /api/summary HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        while time.time() < stop_at:
            time.sleep(timeout / 4)
            s.sendall(b"a")
        s.sendall(b"\r\nConnection: close\r\n\r\n")
        line = read_status(s, time.time() + 10)
        if " 200 " in line + " ":
            with lock:
                results["dribbled_200"] += 1
        else:
            fail(f"dribbler {i}: answered {line!r}, want 200")
        s.close()
    except OSError as e:
        fail(f"dribbler {i}: {e}")


def staller(i):
    try:
        s = connect()
        t0 = time.time()
        s.sendall(b"GET /api/summary HTTP/1.1\r\nHost: x\r\nX-Half: ")
        s.settimeout(timeout + 3)
        try:
            got = s.recv(4096)
        except ConnectionResetError:
            got = b""
        except socket.timeout:
            fail(f"staller {i}: still open after {timeout + 3:.1f} s")
            return
        took = time.time() - t0
        with lock:
            stall_times.append(took)
        if took < timeout / 2:
            fail(f"staller {i}: closed after {took:.2f} s, before half the timeout")
        else:
            with lock:
                results["stall_closed"] += 1
        s.close()
    except OSError as e:
        fail(f"staller {i}: {e}")


def reader(stop_at):
    while time.time() < stop_at:
        try:
            s = connect()
            s.sendall(b"GET /api/summary HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            line = read_status(s, time.time() + 5)
            s.close()
            with lock:
                results["reads"] += 1
                if " 200 " in line + " ":
                    results["reads_200"] += 1
                else:
                    failures.append(f"reader: answered {line!r}")
        except OSError as e:
            fail(f"reader: {e}")
        time.sleep(0.1)


sleepers = []
for i in range(5):
    s = connect(rcvbuf=2048)
    s.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n")
    sleepers.append(s)  # never read

end = time.time() + 3 * timeout
threads = [threading.Thread(target=dribbler, args=(i, end)) for i in range(50)]
threads += [threading.Thread(target=staller, args=(i,)) for i in range(50)]
threads.append(threading.Thread(target=reader, args=(end,)))
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"dribblers: {results['dribbled_200']} of 50 answered 200 after {3 * timeout:.0f} s of one byte "
      f"per {timeout / 4:.2f} s")
if stall_times:
    print(f"stallers: {results['stall_closed']} of 50 closed by the server, after "
          f"{min(stall_times):.2f}..{max(stall_times):.2f} s (timeout {timeout:.1f} s)")
print(f"readers: {results['reads_200']} of {results['reads']} answered 200 meanwhile")
if results["reads"] < 5:
    fail(f"only {results['reads']} ordinary requests made")
for f in failures[:10]:
    print("FAIL: " + f)
# The sleepers stay open (unread) until the shell test has seen them dropped; it kills us.
sys.stdout.flush()
if failures:
    sys.exit(1)
print("ok")
sys.stdout.flush()
time.sleep(600)
