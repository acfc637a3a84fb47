import Foundation
import KubeClient
import KubeModel
import Logging
import Render
import ServiceLifecycle
import Synchronization

/// Options of `vigil run`.
public struct ControllerOptions: Sendable {
    /// Watch one namespace, or all with nil.
    public var namespace: String?
    public var workers: Int
    /// Every stack is reconciled again this often (seconds), which writes nothing when nothing changed.
    public var resyncPeriod: Double
    /// Watch reconnect backoff bounds (seconds).
    public var reconnectBase: Double
    public var reconnectMax: Double
    /// The clock reconciles use (certificate deadlines, condition times).
    public var now: @Sendable () -> Date
    /// On SIGTERM, how long reconciles in flight may run before they are cancelled.
    public var shutdownTimeout: Double = 10
    /// How often (seconds) Vigil asks whether the Prometheus Operator's CRDs are served,
    /// to switch between PrometheusRule and the Prometheus ConfigMap.
    public var monitoringDiscoveryInterval: Double = 30
    /// What stacks may choose: collector images, tolerations, node selectors.
    public var policy: OperatorPolicy = .standard

    public init(
        namespace: String? = nil, workers: Int = 2, resyncPeriod: Double = 600, reconnectBase: Double = 0.2, reconnectMax: Double = 30,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.now = now
        self.namespace = namespace
        self.workers = workers
        self.resyncPeriod = resyncPeriod
        self.reconnectBase = reconnectBase
        self.reconnectMax = reconnectMax
    }
}

/// The operator: informers for stacks and the kinds they own, a work queue, and workers
/// running the reconciler. A `Service`: it stops on graceful shutdown (SIGTERM).
public final class StackController: Service, Sendable {
    public static let ownedKinds: [ResourceDescriptor] = Kinds.owned

    let client: KubeClient
    let options: ControllerOptions
    let logger: Logger
    public let queue: WorkQueue
    public let stackInformer: Informer<ObservabilityStack>
    public let ownedInformers: [Informer<Unstructured>]
    /// Every Secret, by metadata only and uncached (the list paged, one page held at a
    /// time): a change to one a stack references wakes the stack, which then reads it.
    public let referencedSecrets: Informer<Unstructured>
    /// The nodes' addresses (nothing else of them is kept): the health port's peers.
    public let nodes: Informer<NodeAddresses>
    /// Namespaces (watching every namespace only): their consent annotation decides where a
    /// stack may publish client Secrets.
    public let namespaces: Informer<Namespace>?
    /// Pods, each kept as its name, start time and the Secrets it reads: the consumers of
    /// client Secrets, whose restarts end a rotation's overlap.
    public let pods: Informer<PodSecretUse>
    /// The nodes' addresses, as the informer last saw them.
    let nodeAddresses = NodeAddressBook()
    public let reconciler: StackReconciler
    let metrics: OperatorMetrics?
    /// With leader election, only the leader reconciles; the others keep caches warm.
    let elector: LeaderElector?
    /// The Prometheus Operator's kinds the cluster serves; nil until first asked.
    let monitoring = Shared<Set<String>?>(nil)

    public init(client: KubeClient, options: ControllerOptions, metrics: OperatorMetrics? = nil, elector: LeaderElector? = nil, logger: Logger) {
        self.elector = elector
        self.client = client
        self.options = options
        self.logger = logger
        self.metrics = metrics
        var onGet: (@Sendable (Double) -> Void)? = nil
        if let metrics { onGet = { metrics.recordQueueWait($0) } }
        let queue = WorkQueue(onGet: onGet)
        self.queue = queue
        stackInformer = Informer(
            client: client, resource: ObservabilityStack.resource, namespace: options.namespace,
            reconnectBase: options.reconnectBase, reconnectMax: options.reconnectMax, logger: logger
        ) { event in
            switch event {
            case .upserted(let s): queue.add(s.metadata.key)
            case .deleted(let s): queue.add(s.metadata.key)
            }
        }
        ownedInformers = Self.ownedKinds.map { resource in
            Informer<Unstructured>(
                client: client, resource: resource, namespace: options.namespace, labelSelector: Labels.managedSelector,
                reconnectBase: options.reconnectBase, reconnectMax: options.reconnectMax, transform: CachedForm.transform(for: resource),
                indexKeys: OwnedIndex.keys, logger: logger
            ) { event in
                // A change to an owned object wakes its owner.
                let o: Unstructured
                switch event {
                case .upserted(let x): o = x
                case .deleted(let x): o = x
                }
                if let owner = o.metadata.controllerOwner, owner.kind == ObservabilityStack.resource.kind, let ns = o.metadata.namespace {
                    queue.add("\(ns)/\(owner.name)")
                } else if let ns = o.metadata.labels?[Annotations.stackNamespaceLabel], let name = o.metadata.labels?[Labels.stack] ?? o.metadata.labels?[Labels.instance] {
                    // A client Secret in another namespace names its stack by labels.
                    queue.add("\(ns)/\(name)")
                }
            }
        }
        let stackStore = stackInformer.store
        referencedSecrets = Informer<Unstructured>(
            client: client, resource: Secret.resource, namespace: options.namespace,
            reconnectBase: options.reconnectBase, reconnectMax: options.reconnectMax, caches: false, metadataOnly: true, logger: logger
        ) { event in
            let o: Unstructured
            switch event {
            case .upserted(let x): o = x
            case .deleted(let x): o = x
            }
            guard let ns = o.metadata.namespace, let name = o.metadata.name, o.metadata.labels?[Labels.managedBy] != Labels.managerValue else { return }
            for s in stackStore.filter({ $0.metadata.namespace == ns && StackReferences.secretNames($0).contains(name) }) {
                queue.add(s.metadata.key)
            }
        }
        let book = nodeAddresses
        nodes = Informer<NodeAddresses>(
            client: client, resource: NodeAddresses.resource, namespace: nil, reconnectBase: options.reconnectBase, reconnectMax: options.reconnectMax,
            logger: logger
        ) { event in
            // New addresses wake every stack whose health port takes its peers from nodes.
            guard book.apply(event) else { return }
            for s in stackStore.all where s.spec.networkPolicy?.nodeCIDRs?.isEmpty ?? true { queue.add(s.metadata.key) }
        }
        if options.namespace == nil {
            namespaces = Informer<Namespace>(
                client: client, resource: Namespace.resource, namespace: nil, reconnectBase: options.reconnectBase, reconnectMax: options.reconnectMax,
                logger: logger
            ) { event in
                // Consent given or taken back: the stacks with a client there look again.
                let ns: Namespace
                switch event {
                case .upserted(let x): ns = x
                case .deleted(let x): ns = x
                }
                let name = ns.metadata.name ?? ""
                for s in stackStore.all where s.spec.ingest?.basicAuth?.clients?.contains(where: { $0.namespace == name }) == true {
                    queue.add(s.metadata.key)
                }
            }
        } else {
            namespaces = nil
        }
        let namespaceStore = namespaces?.store
        pods = Informer<PodSecretUse>(
            client: client, resource: PodSecretUse.resource, namespace: options.namespace, reconnectBase: options.reconnectBase,
            reconnectMax: options.reconnectMax, logger: logger
        ) { event in
            // A pod that reads a client Secret (`<ns>.<stack>-otlp-client`) wakes its stack.
            let pod: PodSecretUse
            switch event {
            case .upserted(let p): pod = p
            case .deleted(let p): pod = p
            }
            for secret in pod.secrets where secret.hasSuffix("-otlp-client") {
                guard let dot = secret.firstIndex(of: ".") else { continue }
                let ns = String(secret[..<dot])
                let name = String(secret[secret.index(after: dot)...].dropLast("-otlp-client".count))
                queue.add("\(ns)/\(name)")
            }
        }
        let podStore = pods.store
        let nodeInformer = nodes
        let monitoring = self.monitoring
        // With leader election, every write is fenced on the lease.
        let writer: any ClusterWriter = elector.map { e in FencedWriter(client, fence: { e.isLeader }) } ?? client
        reconciler = StackReconciler(
            stacks: stackInformer.store,
            owned: ownedInformers.map { OwnedKind(resource: $0.resource, store: $0.store) },
            writer: writer,
            events: EventRecorder(writer: writer, now: options.now, logger: logger),
            now: options.now,
            watchNamespace: options.namespace,
            monitoringKinds: { monitoring.value.withLock { $0 } ?? [] },
            nodeAddresses: { book.addresses },
            acceptedStacks: { ns in namespaceStore?.get(ns).map { Annotations.acceptedStacks($0.metadata.annotations) } },
            nodeCount: { nodeInformer.hasFailed ? nil : book.count },
            podsReading: { ns, secret in podStore.filter { $0.metadata.namespace == ns && $0.secrets.contains(secret) } },
            policy: options.policy,
            logger: logger
        )
    }

    /// True once every informer has listed and the monitoring API was looked up. Nodes
    /// count once listed, or once listing them failed (Vigil may not be allowed to: the
    /// health port then stays open, and each stack's status says so).
    public var hasSynced: Bool {
        stackInformer.hasSynced && ownedInformers.allSatisfy(\.hasSynced) && monitoring.value.withLock { $0 } != nil
            && (nodes.hasSynced || nodes.hasFailed) && (namespaces?.hasSynced ?? true) && pods.hasSynced
    }

    /// Asks, now and every `monitoringDiscoveryInterval`, which of the Prometheus Operator's
    /// kinds the cluster serves; when that changes, every stack is reconciled, so that rules
    /// move between PrometheusRule and the ConfigMap.
    func monitoringDiscoveryLoop() async {
        while !Task.isCancelled {
            do {
                let kinds = try await client.monitoringKinds()
                let previous = monitoring.value.withLock { old in
                    defer { old = kinds }
                    return old
                }
                if previous != kinds {
                    let rules = kinds.contains(PrometheusRules.resource.plural)
                    logger.info(
                        rules ? "monitoring.coreos.com/v1 PrometheusRule is served: rules go into PrometheusRules" : "PrometheusRule is not served: rules go into the Prometheus ConfigMap",
                        metadata: ["kinds": "\(kinds.sorted())"]
                    )
                    if previous != nil { for s in stackInformer.store.all { queue.add(s.metadata.key) } }
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("cannot look up the monitoring.coreos.com API; keeping the last answer", metadata: ["error": "\(error)"])
                monitoring.value.withLock { if $0 == nil { $0 = [] } }
            }
            do { try await Task.sleep(nanoseconds: UInt64(options.monitoringDiscoveryInterval * 1e9)) } catch { return }
        }
    }

    struct WorkersFinished: Error {}
    struct ShutdownDeadline: Error {}

    /// Runs until graceful shutdown (SIGTERM): then it takes no more work, lets the
    /// reconciles in flight finish for up to `options.shutdownTimeout` seconds, cancels
    /// what remains, and releases the leader lease.
    public func run() async throws {
        logger.info("starting", metadata: ["namespace": "\(options.namespace ?? "<all>")", "workers": "\(options.workers)"])
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.runAll() }
                group.addTask {
                    do { try await gracefulShutdown() } catch { return }
                    self.logger.info("shutting down: no new work; waiting for reconciles in flight", metadata: ["timeout_s": "\(self.options.shutdownTimeout)"])
                    self.queue.shutdown()
                    try await Task.sleep(nanoseconds: UInt64(self.options.shutdownTimeout * 1e9))
                    throw ShutdownDeadline()
                }
                // The first to end decides: the work is done, or the deadline passed.
                do {
                    _ = try await group.next()
                } catch is ShutdownDeadline {
                    logger.warning("shutdown deadline passed; cancelling the reconciles still running")
                }
                group.cancelAll()
            }
        } catch is CancellationError {}
        queue.shutdown()
        await elector?.release()
        logger.info("stopped")
    }

    /// Informers, the timer, the resync, the elector and the workers; returns once the
    /// workers have finished (the queue was shut down).
    func runAll() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let elector = self.elector {
                group.addTask { try await elector.run() }
            }
            group.addTask { await self.stackInformer.run() }
            for informer in self.ownedInformers {
                group.addTask { await informer.run() }
            }
            group.addTask { await self.referencedSecrets.run() }
            group.addTask { await self.nodes.run() }
            group.addTask { await self.pods.run() }
            if let namespaces = self.namespaces { group.addTask { await namespaces.run() } }
            group.addTask { await self.queue.runTimer() }
            group.addTask { await self.resyncLoop() }
            group.addTask { await self.monitoringDiscoveryLoop() }
            group.addTask {
                // Reconciling before every cache is filled would re-create what exists.
                while !self.hasSynced {
                    if self.queue.isShuttingDown { throw WorkersFinished() }
                    do { try await Task.sleep(nanoseconds: 50_000_000) } catch { return }
                }
                self.logger.info("caches synced", metadata: ["stacks": "\(self.stackInformer.store.count)"])
                guard let elector = self.elector else {
                    await self.runWorkers(while: { true })
                    throw WorkersFinished()
                }
                // Workers run only while this process leads; a lost lease stops them and
                // the process stands by until it leads again.
                while !self.queue.isShuttingDown {
                    if !elector.isLeader {
                        self.logger.info("waiting for the leader lease", metadata: ["lease": "\(elector.config.namespace)/\(elector.config.name)"])
                        while !elector.isLeader {
                            if self.queue.isShuttingDown { throw WorkersFinished() }
                            do { try await Task.sleep(nanoseconds: 50_000_000) } catch { return }
                        }
                    }
                    // What happened while standing by is in the caches, not the queue.
                    for s in self.stackInformer.store.all { self.queue.add(s.metadata.key) }
                    await self.runWorkers(while: { elector.isLeader })
                    if !self.queue.isShuttingDown {
                        self.logger.warning("not the leader any more: reconciles stopped; standing by")
                    }
                }
                throw WorkersFinished()
            }
            do {
                while try await group.next() != nil {}
            } catch is WorkersFinished {
                group.cancelAll()
            }
        }
    }

    /// The workers, until the queue shuts down (they finish what they hold, within the
    /// shutdown grace) or `condition` turns false (checked every 50 ms: they are cancelled
    /// at once, with what they hold in flight).
    func runWorkers(while condition: @escaping @Sendable () -> Bool) async {
        await withTaskGroup(of: Bool.self) { workers in
            for _ in 0..<max(1, options.workers) {
                workers.addTask {
                    await self.worker()
                    return false
                }
            }
            workers.addTask {
                while condition() {
                    if self.queue.isShuttingDown { return false }
                    do { try await Task.sleep(nanoseconds: 50_000_000) } catch { return false }
                }
                return true
            }
            for await lost in workers where lost {
                workers.cancelAll()
            }
        }
    }

    func worker() async {
        while let key = await queue.get() {
            let started = ContinuousClock.now
            func record(_ outcome: String) {
                guard let metrics else { return }
                let d = ContinuousClock.now - started
                metrics.recordReconcile(result: outcome, seconds: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
                let stack = stackInformer.store.get(key)
                metrics.observe(stackKey: key, status: stack?.metadata.deletionTimestamp == nil ? stack?.status : nil)
            }
            let result: ReconcileResult
            do {
                result = try await reconciler.reconcile(key)
                switch result {
                case .requeueAfter: record("requeue_after")
                case .done, .terminal: record("success")
                }
            } catch let e as KubeAPIError where e.isConflict {
                record("requeue")
                // Someone else wrote first: look again soon, without counting a failure.
                logger.debug("conflict; requeueing", metadata: ["stack": "\(key)"])
                queue.done(key)
                queue.addAfter(key, delay: 0.05)
                continue
            } catch is CancellationError {
                queue.done(key)
                return
            } catch is LeaderElector.NotLeader {
                // The lease was lost mid-reconcile: the write was not sent. The next leader
                // (or this process, leading again) reconciles every stack anew.
                logger.info("not the leader: reconcile abandoned before its next write", metadata: ["stack": "\(key)"])
                queue.done(key)
                return
            } catch {
                if Task.isCancelled {
                    queue.done(key)
                    return
                }
                record("error")
                logger.error("reconcile failed", metadata: ["stack": "\(key)", "error": "\(error)", "failures": "\(queue.failures(key) + 1)"])
                queue.done(key)
                queue.addRateLimited(key)
                continue
            }
            queue.forget(key)
            queue.done(key)
            if case .requeueAfter(let d) = result { queue.addAfter(key, delay: d) }
        }
    }

    /// The exposition text of `/metrics`, with the queue's figures brought up to date.
    public func metricsText() -> [UInt8] {
        guard let metrics else { return [] }
        metrics.observe(queue: queue)
        return metrics.render()
    }

    /// Periodically queues every cached stack; a converged stack costs no request.
    func resyncLoop() async {
        while !Task.isCancelled {
            do { try await Task.sleep(nanoseconds: UInt64(options.resyncPeriod * 1e9)) } catch { return }
            for s in stackInformer.store.all { queue.add(s.metadata.key) }
        }
    }
}

/// A value behind a lock, shared by reference between tasks and closures (a `Mutex` itself
/// cannot be captured).
public final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    public init(_ initial: Value) { value = Mutex(initial) }
    public func withLock<R: Sendable>(_ body: (inout sending Value) throws -> sending R) rethrows -> R { try value.withLock(body) }
}
