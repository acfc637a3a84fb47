"""An OTLP/gRPC trace receiver that checks what Vigil's collector checks, with the stack's
own material: TLS with its `<stack>-ingest-tls` certificate, client certificates against
that Secret's CA bundle when asked (mTLS), and the BasicAuth header against its htpasswd
file (bcrypt), as the collector's basicauth extension does.

    receiver.py DIR PORT [--require-client-cert]

DIR holds tls.crt, tls.key, ca.crt and htpasswd. Prints "listening" when it serves, then
one line per request: "accepted USER" or "rejected REASON".
"""
import base64
import sys
from concurrent import futures

import bcrypt
import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Traces(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, htpasswd):
        self.users = {}
        for line in htpasswd.decode().splitlines():
            user, _, digest = line.partition(":")
            if digest:
                self.users[user] = digest.encode()

    def Export(self, request, context):
        header = dict(context.invocation_metadata()).get("authorization", "")
        user, password = None, None
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except Exception:
                user = None
        digest = self.users.get(user or "")
        if digest is None or not bcrypt.checkpw(password.encode(), digest):
            print("rejected " + ("no such user" if digest is None else "wrong password"), flush=True)
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "unauthenticated")
        spans = sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
        print(f"accepted {user} spans={spans}", flush=True)
        return trace_service_pb2.ExportTraceServiceResponse()


def main():
    directory, port = sys.argv[1], int(sys.argv[2])
    mtls = "--require-client-cert" in sys.argv[3:]
    credentials = grpc.ssl_server_credentials(
        [(read(f"{directory}/tls.key"), read(f"{directory}/tls.crt"))],
        root_certificates=read(f"{directory}/ca.crt") if mtls else None,
        require_client_auth=mtls,
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(read(f"{directory}/htpasswd")), server)
    server.add_secure_port(f"127.0.0.1:{port}", credentials)
    server.start()
    print("listening", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
