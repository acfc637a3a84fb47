"""An OTLP trace receiver that checks what Vigil's collector checks, with the stack's own
material: TLS with its `<stack>-ingest-tls` certificate, client certificates against that
Secret's CA bundle when asked (mTLS), and the BasicAuth header against its htpasswd file
(bcrypt), as the collector's basicauth extension does. OTLP/gRPC by default; OTLP/HTTP
(protobuf, POST /v1/traces) with --http.

    receiver.py DIR PORT [--require-client-cert] [--http]

DIR holds tls.crt, tls.key, ca.crt and htpasswd. Prints "listening" when it serves, then
one line per request: "accepted USER spans=N" or "rejected REASON".
"""
import base64
import http.server
import ssl
import sys
from concurrent import futures

import bcrypt
import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Users:
    def __init__(self, htpasswd):
        self.users = {}
        for line in htpasswd.decode().splitlines():
            user, _, digest = line.partition(":")
            if digest:
                self.users[user] = digest.encode()

    def check(self, header):
        """The user a BasicAuth header proves, or None after printing why not."""
        user, password = None, None
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except Exception:
                user = None
        digest = self.users.get(user or "")
        if digest is None or not bcrypt.checkpw(password.encode(), digest):
            print("rejected " + ("no such user" if digest is None else "wrong password"), flush=True)
            return None
        return user


def spans(request):
    return sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)


class Traces(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, users):
        self.users = users

    def Export(self, request, context):
        user = self.users.check(dict(context.invocation_metadata()).get("authorization", ""))
        if user is None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "unauthenticated")
        print(f"accepted {user} spans={spans(request)}", flush=True)
        return trace_service_pb2.ExportTraceServiceResponse()


def serve_grpc(directory, port, mtls, users):
    credentials = grpc.ssl_server_credentials(
        [(read(f"{directory}/tls.key"), read(f"{directory}/tls.crt"))],
        root_certificates=read(f"{directory}/ca.crt") if mtls else None,
        require_client_auth=mtls,
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(users), server)
    server.add_secure_port(f"127.0.0.1:{port}", credentials)
    server.start()
    print("listening", flush=True)
    server.wait_for_termination()


def serve_http(directory, port, mtls, users):
    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self, code, body=b""):
            self.send_response(code)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path != "/v1/traces":
                print(f"rejected path {self.path}", flush=True)
                return self.answer(404)
            if self.headers.get("Content-Type") != "application/x-protobuf":
                print(f"rejected content type {self.headers.get('Content-Type')}", flush=True)
                return self.answer(415)
            user = users.check(self.headers.get("Authorization", ""))
            if user is None:
                return self.answer(401)
            request = trace_service_pb2.ExportTraceServiceRequest()
            request.ParseFromString(body)
            print(f"accepted {user} spans={spans(request)}", flush=True)
            self.answer(200, trace_service_pb2.ExportTraceServiceResponse().SerializeToString())

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(f"{directory}/tls.crt", f"{directory}/tls.key")
    if mtls:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(f"{directory}/ca.crt")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print("listening", flush=True)
    server.serve_forever()


def main():
    directory, port = sys.argv[1], int(sys.argv[2])
    flags = sys.argv[3:]
    users = Users(read(f"{directory}/htpasswd"))
    serve = serve_http if "--http" in flags else serve_grpc
    serve(directory, port, "--require-client-cert" in flags, users)


if __name__ == "__main__":
    main()
