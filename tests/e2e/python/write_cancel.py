"""Cancels a WriteCaptures call from grpcio after unflushed captures, and
ends another stream without flushing: only flushed captures may be stored.

Usage: write_cancel.py STUBS_DIR ADDRESS SESSION METRICS_URL

Prints the stored count after the cancel, the cancelled call's status code,
the reply of the unflushed stream, and the stored count at the end.
"""

import ipaddress
import sys
import threading
import time
import urllib.request

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402

from bgpmon.v1 import bgpmon_pb2, bgpmon_pb2_grpc  # noqa: E402


def captures(start, n):
    peer = ipaddress.ip_address("192.0.2.1").packed
    net = ipaddress.ip_address("10.0.0.0").packed
    return [
        bgpmon_pb2.Capture(
            timestamp_us=t * 1_000_000,
            collector="py",
            peer_ip=peer,
            peer_as=64496,
            origin_as=64500,
            advertised=[bgpmon_pb2.Prefix(address=net, length=24)],
        )
        for t in range(start, start + n)
    ]


def metric(url, name):
    with urllib.request.urlopen(url, timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return int(line.split()[1])
    raise SystemExit(f"metric {name} is missing")


def wait_for(what, check):
    deadline = time.monotonic() + 60
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)


def main():
    address, session, metrics = sys.argv[2], sys.argv[3], sys.argv[4]
    with grpc.insecure_channel(address) as channel:
        client = bgpmon_pb2_grpc.BgpmonStub(channel)

        def count():
            request = bgpmon_pb2.CountCapturesRequest(session_id=session)
            return client.CountCaptures(request).count

        release = threading.Event()

        def requests():
            yield bgpmon_pb2.WriteCapturesRequest(
                session_id=session, captures=captures(1, 10), flush=True
            )
            yield bgpmon_pb2.WriteCapturesRequest(captures=captures(100, 30))
            # Keep the stream open, so the call ends by the cancel alone.
            release.wait(120)

        call = client.WriteCaptures.future(requests())
        wait_for("the flush", lambda: count() == 10)
        wait_for(
            "the unflushed captures to reach the server",
            lambda: metric(metrics, "bgpmon_ingest_captures_received_total") == 40,
        )
        call.cancel()
        try:
            call.result()
            code = "OK"
        except grpc.FutureCancelledError:
            code = "CANCELLED"
        except grpc.RpcError as error:
            code = error.code().name
        release.set()
        wait_for(
            "the server to roll the stream back",
            lambda: metric(metrics, "bgpmon_ingest_captures_rolled_back_total") == 30,
        )
        print(count())
        print(code)

        # A stream that ends without a flush commits nothing of it.
        reply = client.WriteCaptures(
            iter([bgpmon_pb2.WriteCapturesRequest(session_id=session, captures=captures(200, 30))])
        )
        print(reply.captures_written)
        print(count())


if __name__ == "__main__":
    main()
