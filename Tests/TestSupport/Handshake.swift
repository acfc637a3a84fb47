import Foundation

/// One TLS handshake between a server that requires a client certificate and a client,
/// both Python's `ssl` (OpenSSL), over loopback: the server's and the client's verdicts
/// (`ok`, or `refused: <reason>`). The real check that two certificate Secrets work
/// together, as the collector's mTLS would use them.
public func tlsHandshake(
    serverCertificate: String, serverKey: String, serverTrust: String, clientCertificate: String?, clientKey: String?, clientTrust: String, serverName: String
) async throws -> (server: String, client: String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("handshake-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    func file(_ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
    let args = [
        try file("server.crt", serverCertificate), try file("server.key", serverKey), try file("server-ca.crt", serverTrust),
        try clientCertificate.map { try file("client.crt", $0) } ?? "-", try clientKey.map { try file("client.key", $0) } ?? "-",
        try file("client-ca.crt", clientTrust), serverName,
    ]
    let out = try await runTool(["python3", try file("handshake.py", handshakeScript)] + args).output
    func verdict(_ side: String) -> String {
        out.split(separator: "\n").first { $0.hasPrefix("\(side)=") }.map { String($0.dropFirst(side.count + 1)) } ?? "no verdict: \(out.prefix(400))"
    }
    return (verdict("server"), verdict("client"))
}

let handshakeScript = #"""
import socket, ssl, sys, threading
# server_cert server_key server_ca client_cert|- client_key|- client_ca server_name
sc, sk, sca, cc, ck, cca, name = sys.argv[1:8]
srv = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
srv.load_cert_chain(sc, sk)
srv.load_verify_locations(sca)
srv.verify_mode = ssl.CERT_REQUIRED
cli = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
cli.load_verify_locations(cca)
if cc != "-":
    cli.load_cert_chain(cc, ck)
lsock = socket.socket()
lsock.bind(("127.0.0.1", 0))
lsock.listen(1)
port = lsock.getsockname()[1]
result = {}
def serve():
    conn, _ = lsock.accept()
    conn.settimeout(5)
    try:
        s = srv.wrap_socket(conn, server_side=True)
        s.sendall(s.recv(5))
        result["server"] = "ok"
        s.close()
    except Exception as e:
        result["server"] = "refused: %s" % e
        conn.close()
t = threading.Thread(target=serve)
t.start()
c = socket.create_connection(("127.0.0.1", port), timeout=5)
try:
    s = cli.wrap_socket(c, server_hostname=name)
    s.sendall(b"hello")
    data = s.recv(5)
    result["client"] = "ok" if data == b"hello" else "refused: no echo"
except Exception as e:
    result["client"] = "refused: %s" % e
    c.close()
t.join(10)
print("server=%s" % result.get("server", "none"))
print("client=%s" % result.get("client", "none"))
"""#
