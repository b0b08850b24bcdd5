import Foundation
import Logging

/// Generation leases: each running job's message carries a lease this replica renews; when a replica dies its
/// leases lapse and any live replica marks those messages `interrupted`.
extension GenerationHub {
    /// Renews the leases of running jobs (stopping those whose message ended elsewhere), then reaps expired
    /// leases. Failures are logged and retried on the next check.
    public func checkLeases() async {
        let running = runningJobs
        if !running.isEmpty {
            do {
                let statuses = try await store.renewLeases(running.map(\.messageID), for: settings.leaseDuration)
                for job in running {
                    let status = statuses[job.messageID] ?? .cancelled
                    guard status != .streaming else { continue }
                    if job.requestStop(.endedElsewhere(status)) {
                        logger.info("stopping a generation that ended elsewhere",
                                    metadata: ["message": "\(job.messageID)", "status": "\(status.rawValue)"])
                    }
                }
            } catch {
                logger.warning("could not renew generation leases", metadata: ["error": "\(error)"])
            }
        }
        do {
            let reaped = try await store.interruptExpiredGenerations()
            if !reaped.isEmpty {
                logger.notice("marked answers whose server stopped as interrupted", metadata: ["count": "\(reaped.count)"])
                await announce(reaped.map { .finished(messageID: $0) })
            }
        } catch {
            logger.warning("could not reap expired generations", metadata: ["error": "\(error)"])
        }
    }
}
