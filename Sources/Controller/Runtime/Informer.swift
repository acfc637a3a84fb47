import KubeClient
import KubeModel
import Logging
import Synchronization

/// What an informer saw change.
public enum InformerEvent<T: MetadataBearing>: Sendable {
    case upserted(T)
    case deleted(T)
}

/// List-then-watch cache of one kind: lists, then watches from the list's resourceVersion
/// with bookmarks, resumes from the last seen version when a watch ends or fails, and lists
/// again after `410 Gone`. Failures back off exponentially, so an API server that is down
/// costs a few requests a minute, never a hot loop.
public final class Informer<T: MetadataBearing>: Sendable {
    public let resource: ResourceDescriptor
    public let store: Store<T>
    let client: KubeClient
    let namespace: String?
    let labelSelector: String?
    let handler: @Sendable (InformerEvent<T>) -> Void
    let logger: Logger
    let syncedState = Mutex(false)
    let failedState = Mutex(false)
    let reconnectBase: Double
    let reconnectMax: Double
    /// Whether objects are kept. Without a cache the informer only reports changes (every
    /// object of a relist counts as one), for kinds too large to hold, such as Secrets.
    let caches: Bool
    /// Whether the server sends metadata alone (`PartialObjectMetadata`): no Secret data
    /// ever reaches Vigil through this informer.
    let metadataOnly: Bool

    public init(
        client: KubeClient, resource: ResourceDescriptor, namespace: String?, labelSelector: String? = nil,
        reconnectBase: Double = 0.2, reconnectMax: Double = 30, caches: Bool = true, metadataOnly: Bool = false,
        transform: (@Sendable (T) -> T)? = nil, indexKeys: (@Sendable (T) -> [String])? = nil, logger: Logger,
        handler: @escaping @Sendable (InformerEvent<T>) -> Void
    ) {
        self.store = Store(transform: transform, indexKeys: indexKeys)
        self.caches = caches
        self.metadataOnly = metadataOnly
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.handler = handler
        self.logger = logger
        self.reconnectBase = reconnectBase
        self.reconnectMax = reconnectMax
    }

    /// True once the first list has filled the cache.
    public var hasSynced: Bool { syncedState.withLock { $0 } }
    /// True once a list or watch has failed (for optional kinds that Vigil may not be
    /// allowed to read: it carries on without them).
    public var hasFailed: Bool { failedState.withLock { $0 } }

    /// Runs until the task is cancelled.
    public func run() async {
        var backoff = Backoff(base: reconnectBase, max: reconnectMax)
        var resourceVersion: String? = nil
        while !Task.isCancelled {
            do {
                if resourceVersion == nil {
                    resourceVersion = try await relist()
                }
                let stream = try await client.watch(
                    T.self, resource: resource, namespace: namespace, labelSelector: labelSelector, resourceVersion: resourceVersion, metadataOnly: metadataOnly
                )
                if backoff.failures > 0 {
                    logger.info("watch re-established", metadata: ["resource": "\(resource)", "after_attempts": "\(backoff.failures)"])
                    client.throttle.reset("watch")
                }
                var delivered = false
                var events = stream.makeAsyncIterator()
                while true {
                    let next = try await events.next()
                    // Bookmarks move the version on without an event.
                    if let rv = events.resourceVersion { resourceVersion = rv }
                    guard let event = next else { break }
                    delivered = true
                    switch event.type {
                    case .added, .modified:
                        if !caches || store.upsert(event.object) { handler(.upserted(event.object)) }
                    case .deleted:
                        store.remove(event.object.metadata.key)
                        handler(.deleted(event.object))
                    case .bookmark, .error:
                        break
                    }
                }
                // The server ended the watch (its timeout): resume from the last version.
                if delivered { backoff.reset() }
                if !delivered, backoff.failures > 0 {
                    try await Task.sleep(nanoseconds: UInt64(backoff.next() * 1e9))
                }
            } catch is CancellationError {
                return
            } catch let e as KubeAPIError where e.isGone {
                logger.info("watch expired; listing again", metadata: ["resource": "\(resource)"])
                resourceVersion = nil
            } catch {
                if Task.isCancelled { return }
                failedState.withLock { $0 = true }
                let delay = backoff.next()
                // Every informer fails at once when the API server goes: one warning for
                // them all every few seconds, counting the attempts held back.
                let unreachable = (error as? KubeAPIError)?.isTransport ?? true
                if let held = client.throttle.allow(unreachable ? "watch" : "watch \(resource)") {
                    logger.warning(
                        unreachable ? "API server unreachable; reconnecting" : "watch failed; retrying",
                        metadata: [
                            "resource": "\(resource)", "error": "\(error)", "retry_in_s": "\(Int(delay * 1000) / 1000)", "attempt": "\(backoff.failures)",
                            "similar_warnings_held_back": "\(held)",
                        ]
                    )
                }
                do { try await Task.sleep(nanoseconds: UInt64(delay * 1e9)) } catch { return }
            }
        }
    }

    /// Lists everything, replaces the cache, and reports what changed while not watching.
    func relist() async throws -> String? {
        guard caches else {
            // Page by page, each handed on and dropped: one page in memory at most.
            let version = try await client.listPages(T.self, resource: resource, namespace: namespace, labelSelector: labelSelector, metadataOnly: metadataOnly) {
                for o in $0 { handler(.upserted(o)) }
            }
            syncedState.withLock { $0 = true }
            return version
        }
        let list = try await client.list(T.self, resource: resource, namespace: namespace, labelSelector: labelSelector)
        let (removed, changed) = store.replace(with: list.items)
        syncedState.withLock { $0 = true }
        for o in changed { handler(.upserted(o)) }
        for o in removed { handler(.deleted(o)) }
        logger.debug("listed", metadata: ["resource": "\(resource)", "count": "\(list.items.count)"])
        return list.metadata.resourceVersion
    }
}
