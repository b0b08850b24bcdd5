import Foundation
import Logging
import Synchronization

/// Owns the running generation jobs of this process: starts them, lets clients subscribe and stop them,
/// flushes their partial text to the store on a fixed interval (all dirty jobs in one write), and
/// drains them on shutdown.
public final class GenerationHub: Sendable {
    public struct Settings: Sendable {
        /// How often partial text is written to the store.
        public var flushInterval: Duration
        /// Events kept per job for reattaching subscribers.
        public var eventBufferLimit: Int
        /// How long a subscriber may go without anything to send before it is asked to send a keep-alive.
        public var keepAliveInterval: Duration
        /// Most answers generated at once; more are refused with ``ParleyError/unavailable(_:)``.
        public var maxRunningJobs: Int
        /// How long a generation's lease lasts without renewal; a replica that dies leaves its answers
        /// `streaming` for at most this long (plus ``leaseCheckInterval``) before another marks them `interrupted`.
        public var leaseDuration: Duration
        /// How often the leases of running generations are renewed, and expired ones reaped.
        public var leaseCheckInterval: Duration
        public init(flushInterval: Duration = .milliseconds(200), eventBufferLimit: Int = 2048,
                    keepAliveInterval: Duration = .seconds(15), maxRunningJobs: Int = 1000,
                    leaseDuration: Duration = .seconds(15), leaseCheckInterval: Duration = .seconds(5)) {
            self.flushInterval = flushInterval
            self.eventBufferLimit = eventBufferLimit
            self.keepAliveInterval = keepAliveInterval
            self.maxRunningJobs = maxRunningJobs
            self.leaseDuration = leaseDuration
            self.leaseCheckInterval = leaseCheckInterval
        }
    }

    let store: any ConversationStore
    /// Carries progress, end and stop notices between replicas.
    public let bus: any EventBus
    /// Where notices from the bus arrive in this process.
    public let board: NoticeBoard
    let settings: Settings
    let logger: Logger
    private let jobs = Mutex<[UUID: GenerationJob]>([:])
    private let accepting = Mutex(true)
    private let flushFailing = Mutex(false)
    private let pendingNotices = Mutex<[BusNotice]>([])

    /// A hub for one process: notices stay in it.
    public convenience init(store: any ConversationStore, settings: Settings = Settings(), logger: Logger) {
        let board = NoticeBoard()
        self.init(store: store, bus: LocalEventBus(board: board), board: board, settings: settings, logger: logger)
    }

    /// `bus` must deliver to `board`.
    public init(store: any ConversationStore, bus: any EventBus, board: NoticeBoard, settings: Settings = Settings(),
                logger: Logger) {
        self.store = store
        self.bus = bus
        self.board = board
        self.settings = settings
        self.logger = logger
        board.onStop { [weak self] messageID in
            _ = self?.job(for: messageID)?.requestStop(.userRequest)
        }
    }

    /// How long a new generation's lease lasts.
    public var leaseDuration: Duration { settings.leaseDuration }

    public var keepAliveInterval: Duration { settings.keepAliveInterval }

    /// The number of jobs running now.
    public var runningCount: Int { jobs.withLock { $0.count } }

    /// Throws when no new job could start now (shutting down, or at ``Settings/maxRunningJobs``); checked
    /// before a turn is stored so a refused request stores nothing.
    public func checkCapacity() throws {
        guard accepting.withLock({ $0 }) else { throw ParleyError.unavailable("the server is shutting down") }
        guard runningCount < settings.maxRunningJobs else { throw Self.busy(settings.maxRunningJobs) }
    }

    private static func busy(_ limit: Int) -> ParleyError {
        .unavailable("the server is already generating \(limit) answers; try again shortly")
    }

    /// The running job writing this assistant message, if it runs in this process.
    public func job(for messageID: UUID) -> GenerationJob? {
        jobs.withLock { $0[messageID] }
    }

    /// Starts generating the assistant message of a stored turn.
    public func start(user: Message, assistant: Message, request: ChatRequest, provider: any ChatProvider)
        throws -> GenerationJob
    {
        let job = GenerationJob(user: user, assistant: assistant, bufferLimit: settings.eventBufferLimit)
        job.publish(.message(user))
        job.publish(.message(assistant))
        let refusal = accepting.withLock { accepting -> ParleyError? in
            guard accepting else { return .unavailable("the server is shutting down") }
            return jobs.withLock { jobs in
                guard jobs.count < settings.maxRunningJobs else { return Self.busy(settings.maxRunningJobs) }
                jobs[assistant.id] = job
                return nil
            }
        }
        if let refusal { throw refusal }
        // The job runs on this thread until it first waits (the upstream call): no hand-off before the request is sent.
        let task = Task.immediate { [self] in
            await self.run(job, request: request, provider: provider)
        }
        job.attach(task: task)
        return job
    }

    /// Stops a running job and waits for its final state. Returns false if it does not run here.
    @discardableResult
    public func stop(messageID: UUID, reason: StopReason = .userRequest) async -> Bool {
        guard let job = job(for: messageID) else { return false }
        _ = job.requestStop(reason)
        await job.waitUntilFinished()
        return true
    }

    /// Stops this process's jobs in a conversation whose answers are at `fromIndex` or later (every job, by
    /// default: before the conversation is deleted or cleared) and waits for them.
    public func stopAll(conversationID: UUID, fromIndex: Int = 0) async {
        let running = jobs.withLock {
            $0.values.filter { $0.conversationID == conversationID && $0.assistantMessage.index >= fromIndex }
        }
        for job in running { _ = job.requestStop(.userRequest) }
        for job in running { await job.waitUntilFinished() }
    }

    /// The running jobs now.
    var runningJobs: [GenerationJob] { jobs.withLock { Array($0.values) } }

    /// Until cancelled, for the life of the server: writes partial text every flush interval, asks idle
    /// subscribers for keep-alives, renews the leases of running jobs and reaps expired ones.
    public func runBackgroundWork() async {
        var lastKeepAlive = ContinuousClock.now
        var lastLeaseCheck = ContinuousClock.now
        await checkLeases()
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: settings.flushInterval)
            } catch {
                break
            }
            await flush()
            if ContinuousClock.now - lastKeepAlive >= settings.keepAliveInterval {
                lastKeepAlive = .now
                for job in runningJobs { job.keepAlive() }
            }
            if ContinuousClock.now - lastLeaseCheck >= settings.leaseCheckInterval {
                lastLeaseCheck = .now
                await checkLeases()
            }
        }
    }

    /// Writes the partial text of every job whose text changed since the last flush, in one transaction.
    public func flush() async {
        let running = jobs.withLock { Array($0.values) }
        var updates: [PartialAnswer] = []
        var dirtyJobs: [GenerationJob] = []
        for job in running {
            if let partial = job.takeDirtyContent() {
                updates.append(partial)
                dirtyJobs.append(job)
            }
        }
        var notices = pendingNotices.withLock { pending in
            defer { pending.removeAll() }
            return pending
        }
        if !updates.isEmpty {
            do {
                try await store.savePartialContent(updates)
                if flushFailing.withLock({ failing in defer { failing = false }; return failing }) {
                    logger.notice("saving partial text again")
                }
                if bus.reachesOtherReplicas {
                    notices += zip(dirtyJobs, updates).map { job, update in job.progressNotice(stored: update.content) }
                }
            } catch {
                for job in dirtyJobs { job.markDirty() }
                // Logged once per outage, not every flush.
                if !flushFailing.withLock({ failing in defer { failing = true }; return failing }) {
                    logger.warning("could not save partial text; will keep trying",
                                   metadata: ["error": "\(error)", "jobs": "\(updates.count)"])
                }
            }
        }
        if !notices.isEmpty { await bus.publish(notices) }
    }

    /// Tells other replicas about ends of answers: at once on a local bus, else with the next flush, so a busy
    /// replica sends one notice batch per flush interval rather than one per answer.
    func announce(_ notices: [BusNotice]) async {
        if bus.reachesOtherReplicas {
            pendingNotices.withLock { $0 += notices }
        } else {
            await bus.publish(notices)
        }
    }

    /// Refuses new jobs, lets running ones finish for up to `grace`, then stops the rest as `interrupted`.
    public func shutdown(grace: Duration) async {
        accepting.withLock { $0 = false }
        let deadline = ContinuousClock.now + grace
        while runningCount > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let remaining = jobs.withLock { Array($0.values) }
        if !remaining.isEmpty {
            logger.notice("interrupting generations at shutdown", metadata: ["count": "\(remaining.count)"])
        }
        for job in remaining { _ = job.requestStop(.shutdown) }
        for job in remaining { await job.waitUntilFinished() }
    }

    // MARK: - The job itself

    private func run(_ job: GenerationJob, request: ChatRequest, provider: any ChatProvider) async {
        let started = ContinuousClock.now
        var outcome: MessageCompletion
        var failureKind: String?
        do {
            let info = try await provider.streamChat(request) { delta in job.append(delta) }
            if let reason = job.stopReason { throw StopSignal(reason: reason) }
            let content = job.content
            let earlier = job.assistantMessage
            let usage = info.usage ?? TokenUsage(
                promptTokens: request.messages.reduce(0) { $0 + TokenEstimator.tokens(in: $1) },
                completionTokens: TokenEstimator.tokens(in: String(content.dropFirst(earlier.content.count)))
                    + TokenEstimator.tokens(in: String(job.reasoning.dropFirst(earlier.reasoning?.count ?? 0))))
            // A continued answer counts the tokens of every part it was written in.
            outcome = MessageCompletion(content: content, status: .complete, promptTokens: usage.promptTokens,
                                        completionTokens: usage.completionTokens + (earlier.completionTokens ?? 0),
                                        cache: info.cache, finishReason: info.finishReason)
        } catch {
            let content = job.content
            switch job.stopReason {
            case .userRequest?:
                outcome = MessageCompletion(content: content, status: .cancelled)
            case .shutdown?:
                outcome = MessageCompletion(content: content, status: .interrupted,
                                            errorMessage: "the server shut down while generating")
            case .endedElsewhere(let status)?:
                outcome = MessageCompletion(
                    content: content, status: status,
                    errorMessage: status == .cancelled ? nil : "this server lost the generation's lease")
            case nil:
                let text: String
                if let providerError = error as? ProviderError {
                    text = providerError.description
                    failureKind = providerError.kind
                } else if let domainError = error as? ParleyError {
                    text = domainError.description
                    failureKind = "model_unavailable"
                } else if error is CancellationError {
                    text = "generation was cancelled"
                    failureKind = "cancelled"
                } else {
                    text = "generation failed: \(error)"
                    failureKind = "internal_error"
                }
                outcome = MessageCompletion(content: content, status: .error, errorMessage: text)
            }
        }
        let ended = ContinuousClock.now
        outcome.latencyMs = Int((ended - started).wholeMilliseconds)
        if let first = job.firstTokenAt { outcome.timeToFirstTokenMs = Int((first - started).wholeMilliseconds) }
        let reasoning = job.reasoning
        if !reasoning.isEmpty {
            outcome.reasoning = reasoning
            outcome.reasoningMs = job.reasoningMilliseconds(until: ended) ?? job.assistantMessage.reasoningMs
        }

        var final = job.assistantMessage
        final.content = outcome.content
        final.status = outcome.status
        final.errorMessage = outcome.errorMessage
        final.promptTokens = outcome.promptTokens
        final.completionTokens = outcome.completionTokens
        final.timeToFirstTokenMs = outcome.timeToFirstTokenMs
        final.latencyMs = outcome.latencyMs
        final.reasoning = outcome.reasoning
        final.reasoningMs = outcome.reasoningMs
        final.finishReason = outcome.finishReason
        do {
            final = try await storeFinalState(of: job.messageID, outcome)
        } catch {
            logger.error("could not store the end of a generation",
                         metadata: ["message": "\(job.messageID)", "error": "\(error)"])
            if failureKind == nil {
                failureKind = "storage_error"
                final.errorMessage = "the answer could not be saved: \(error)"
            }
        }
        if let prompt = final.promptTokens, let completion = final.completionTokens, final.status == .complete {
            job.publish(.usage(messageID: job.messageIDString,
                               TokenUsage(promptTokens: prompt, completionTokens: completion)))
        }
        if let failureKind {
            job.finish(with: .error(kind: failureKind, text: final.errorMessage ?? "generation failed", message: final))
        } else {
            job.finish(with: .done(final))
        }
        _ = jobs.withLock { $0.removeValue(forKey: job.messageID) }
        await announce([.finished(messageID: job.messageID)])
    }

    /// Writes the end of an answer, retrying for up to 30 s while the database is unavailable (an outage
    /// shorter than that loses nothing). A stopped job runs in a cancelled task; these writes and waits must
    /// not inherit that cancellation, so they run in tasks of their own.
    private func storeFinalState(of id: UUID, _ completion: MessageCompletion) async throws -> Message {
        let store = self.store
        let deadline = ContinuousClock.now + .seconds(30)
        var delay = Duration.milliseconds(250)
        while true {
            do {
                return try await Task.immediate { try await store.finishMessage(id: id, completion) }.value
            } catch ParleyError.unavailable(let reason) {
                guard ContinuousClock.now + delay < deadline, accepting.withLock({ $0 }) else {
                    throw ParleyError.unavailable(reason)
                }
                logger.warning("could not store the end of an answer; retrying",
                               metadata: ["message": "\(id)", "error": "\(reason)"])
                let pause = delay
                await Task { try? await Task.sleep(for: pause) }.value
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    private struct StopSignal: Error { var reason: StopReason }
}
