import AsyncHTTPClient
import KubeModel
import NIOCore

/// The events of one watch response: newline-delimited JSON, decoded one at a time as
/// chunks arrive. `ERROR` events are thrown as `KubeAPIError`.
public struct WatchStream<T: MetadataBearing>: AsyncSequence {
    public typealias Element = WatchEvent<T>
    let body: HTTPClientResponse.Body
    let kind: String

    public struct AsyncIterator: AsyncIteratorProtocol {
        var chunks: HTTPClientResponse.Body.AsyncIterator
        var buffer: [UInt8] = []
        var finished = false
        let kind: String

        struct Head: Decodable {
            var type: WatchEvent<T>.EventType
        }

        public mutating func next() async throws -> WatchEvent<T>? {
            while true {
                if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Array(buffer[..<nl])
                    buffer.removeSubrange(...nl)
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x0d }) { continue }
                    return try Self.decodeEvent(line, kind: kind)
                }
                if finished {
                    if buffer.isEmpty { return nil }
                    let line = buffer
                    buffer = []
                    return try Self.decodeEvent(line, kind: kind)
                }
                do {
                    guard let chunk = try await chunks.next() else {
                        finished = true
                        continue
                    }
                    buffer.append(contentsOf: chunk.readableBytesView)
                } catch {
                    throw KubeAPIError.transport(error, method: "WATCH", path: "")
                }
            }
        }

        static func decodeEvent(_ line: [UInt8], kind: String) throws -> WatchEvent<T> {
            let head: Head
            do {
                head = try JSONCoding.decode(Head.self, from: line)
            } catch {
                throw KubeAPIError(code: 0, reason: "Decode", message: "malformed watch event: \(error)", method: "WATCH")
            }
            if head.type == .error {
                let status = (try? JSONCoding.decode(WatchEvent<KubeStatus>.self, from: line))?.object
                throw KubeAPIError(code: status?.code ?? 500, reason: status?.reason ?? "WatchError", message: status?.message ?? "watch error", method: "WATCH")
            }
            do {
                return try JSONCoding.decode(WatchEvent<T>.self, from: line)
            } catch {
                throw KubeAPIError(code: 0, reason: "Decode", message: "cannot decode \(kind) watch event: \(error)", method: "WATCH")
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(chunks: body.makeAsyncIterator(), kind: kind)
    }
}
