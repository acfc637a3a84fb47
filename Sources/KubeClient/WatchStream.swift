import AsyncHTTPClient
import KubeModel
import NIOCore

/// The events of one watch response: newline-delimited JSON, decoded one at a time as
/// chunks arrive. `ERROR` events are thrown as `KubeAPIError`. `BOOKMARK` events carry only
/// a resourceVersion (a typed object could not be decoded from them): they are not
/// delivered, and the iterator's `resourceVersion` moves on with them.
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
            struct Object: Decodable {
                struct Meta: Decodable { var resourceVersion: String? }
                var metadata: Meta?
            }
            var type: WatchEvent<T>.EventType
            var object: Object?
        }

        /// The resourceVersion of the last event read, bookmarks included: where a new
        /// watch resumes.
        public private(set) var resourceVersion: String?

        public mutating func next() async throws -> WatchEvent<T>? {
            while true {
                if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Array(buffer[..<nl])
                    buffer.removeSubrange(...nl)
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x0d }) { continue }
                    guard let event = try decodeEvent(line) else { continue }
                    return event
                }
                if finished {
                    if buffer.isEmpty { return nil }
                    let line = buffer
                    buffer = []
                    guard let event = try decodeEvent(line) else { continue }
                    return event
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

        /// The event, or nil for a bookmark (its resourceVersion recorded).
        mutating func decodeEvent(_ line: [UInt8]) throws -> WatchEvent<T>? {
            // Kinds kept as JSON are parsed once, type and object together.
            if T.self is any FastJSONDecodable.Type { return try decodeParsed(line) }
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
            if let rv = head.object?.metadata?.resourceVersion { resourceVersion = rv }
            if head.type == .bookmark { return nil }
            do {
                return try JSONCoding.decode(WatchEvent<T>.self, from: line)
            } catch {
                throw KubeAPIError(code: 0, reason: "Decode", message: "cannot decode \(kind) watch event: \(error)", method: "WATCH")
            }
        }

        /// `decodeEvent` for a kind decoded from parsed JSON: one parse of the line.
        mutating func decodeParsed(_ line: [UInt8]) throws -> WatchEvent<T>? {
            let value: JSONValue
            do {
                value = try JSONValue.parse(line)
            } catch {
                throw KubeAPIError(code: 0, reason: "Decode", message: "malformed watch event: \(error)", method: "WATCH")
            }
            guard let type = value["type"]?.stringValue.flatMap(WatchEvent<T>.EventType.init(rawValue:)) else {
                throw KubeAPIError(code: 0, reason: "Decode", message: "malformed watch event: no known type", method: "WATCH")
            }
            if type == .error {
                let status = (try? JSONCoding.decode(WatchEvent<KubeStatus>.self, from: line))?.object
                throw KubeAPIError(code: status?.code ?? 500, reason: status?.reason ?? "WatchError", message: status?.message ?? "watch error", method: "WATCH")
            }
            if let rv = value["object"]?["metadata"]?["resourceVersion"]?.stringValue { resourceVersion = rv }
            if type == .bookmark { return nil }
            do {
                guard let fast = T.self as? any FastJSONDecodable.Type, let object = try fast.init(json: value["object"] ?? .null) as? T else {
                    return try JSONCoding.decode(WatchEvent<T>.self, from: line)
                }
                return WatchEvent(type: type, object: object)
            } catch {
                throw KubeAPIError(code: 0, reason: "Decode", message: "cannot decode \(kind) watch event: \(error)", method: "WATCH")
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(chunks: body.makeAsyncIterator(), kind: kind)
    }
}
