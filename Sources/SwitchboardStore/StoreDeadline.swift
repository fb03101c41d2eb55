import NIOConcurrencyHelpers

/// A deadline on one call to a database server, for the calls that must never wait forever.
///
/// A query in flight when PostgreSQL restarts can be left unanswered by the client library: its await
/// never returns (seen under load in the three-node chaos test: a group commit's `COMMIT`, which then
/// held every later publish of the node, and a graceful shutdown with it). `run` gives the caller
/// `StoreError` after `limit` and leaves the call behind: it runs on in its own task, which is
/// cancelled, and whatever it returns later is dropped. A call that was only slow may still take
/// effect after the error (a commit whose outcome is then unknown to the caller, as after any lost
/// connection); callers treat the error as they treat a lost connection.
public enum StoreDeadline {
    /// The limit on one transaction or read: far beyond any answer a live database gives.
    public static let standard = Duration.seconds(30)

    private final class Race<T: Sendable>: Sendable {
        let continuation = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)

        /// Resumes the caller once: the first of the call and the deadline wins.
        func finish(_ result: Result<T, any Error>) {
            let waiting = continuation.withLockedValue { continuation in
                defer { continuation = nil }
                return continuation
            }
            waiting?.resume(with: result)
        }
    }

    /// Runs `operation`; throws `StoreError` naming `what` when it has not finished within `limit`
    /// (measured by `sleep`: `Task.sleep`, or a test's own clock).
    public static func run<T: Sendable>(
        within limit: Duration = standard,
        _ what: String,
        sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) },
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let race = Race<T>()
        let work = NIOLockedValueBox<Task<Void, Never>?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                race.continuation.withLockedValue { $0 = continuation }
                let timer = Task {
                    await sleep(limit)
                    guard !Task.isCancelled else { return }
                    work.withLockedValue { $0 }?.cancel()
                    race.finish(.failure(StoreError("\(what): the database gave no answer within \(limit)")))
                }
                work.withLockedValue { work in
                    work = Task {
                        let result: Result<T, any Error>
                        do {
                            result = .success(try await operation())
                        } catch {
                            result = .failure(error)
                        }
                        timer.cancel()
                        race.finish(result)
                    }
                }
            }
        } onCancel: {
            work.withLockedValue { $0 }?.cancel()
        }
    }
}
