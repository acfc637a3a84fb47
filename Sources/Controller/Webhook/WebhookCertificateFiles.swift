import Foundation
import Logging
import ServiceLifecycle

/// The webhook's certificate from files another issuer keeps (`--webhook-cert-dir`, for
/// example a cert-manager Certificate's Secret mounted there, with cert-manager's CA
/// injector writing the `caBundle`): `tls.crt` and `tls.key`, read again whenever they
/// change, so a renewal serves without a restart.
public final class WebhookCertificateFiles: Service, Sendable {
    let directory: String
    let tls: WebhookTLS
    let logger: Logger

    public init(directory: String, tls: WebhookTLS, logger: Logger) {
        self.directory = directory
        self.tls = tls
        self.logger = logger
    }

    /// Loads the files once (the server needs a certificate before it serves).
    public func load() throws -> String {
        let cert = try String(contentsOfFile: "\(directory)/tls.crt", encoding: .utf8)
        let key = try String(contentsOfFile: "\(directory)/tls.key", encoding: .utf8)
        try tls.update(certificatePEM: cert, keyPEM: key)
        return cert + key
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var last = ""
            while !Task.isCancelled {
                do {
                    let cert = try String(contentsOfFile: "\(self.directory)/tls.crt", encoding: .utf8)
                    let key = try String(contentsOfFile: "\(self.directory)/tls.key", encoding: .utf8)
                    if cert + key != last {
                        try self.tls.update(certificatePEM: cert, keyPEM: key)
                        last = cert + key
                        self.logger.info("webhook serving certificate loaded from files", metadata: ["directory": "\(self.directory)", "serial": "\(self.tls.serial ?? "")"])
                    }
                } catch {
                    self.logger.warning("webhook certificate files unreadable; serving the last good one", metadata: ["directory": "\(self.directory)", "error": "\(error)"])
                }
                try await Task.sleep(nanoseconds: 10_000_000_000)
            }
        }
    }
}
