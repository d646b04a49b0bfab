"""Reads captures from bgpmond through its gRPC API, with stubs generated
from runtime/proto/proto/bgpmon/v1/bgpmon.proto by grpcio-tools.

Usage: read_captures.py STUBS_DIR ADDRESS SESSION ORIGIN_AS

Prints the number of captures of ORIGIN_AS, then the first one's collector,
peer AS and advertised prefixes.
"""

import ipaddress
import sys

sys.path.insert(0, sys.argv[1])

import grpc  # noqa: E402

from bgpmon.v1 import bgpmon_pb2, bgpmon_pb2_grpc  # noqa: E402


def prefix_text(prefix):
    return f"{ipaddress.ip_address(prefix.address)}/{prefix.length}"


def main():
    address, session, origin = sys.argv[2], sys.argv[3], int(sys.argv[4])
    with grpc.insecure_channel(address) as channel:
        client = bgpmon_pb2_grpc.BgpmonStub(channel)
        request = bgpmon_pb2.ReadCapturesRequest(
            session_id=session,
            filter=bgpmon_pb2.CaptureFilter(origin_ases=[origin]),
        )
        captures = [c for batch in client.ReadCaptures(request) for c in batch.captures]
        print(len(captures))
        first = captures[0]
        print(first.collector, first.peer_as, " ".join(prefix_text(p) for p in first.advertised))
        try:
            client.GetSession(bgpmon_pb2.GetSessionRequest(id="no-such-session"))
        except grpc.RpcError as error:
            print(error.code().name)


if __name__ == "__main__":
    main()
