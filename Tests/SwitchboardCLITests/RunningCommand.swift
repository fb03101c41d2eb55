import Foundation
import Glibc
import NIOConcurrencyHelpers

/// A running `switchboard` process whose standard output (and, when asked, standard error) is read
/// line by line.
///
/// Spawned with `posix_spawn` rather than Foundation's `Process`: on Linux, `Process.run()` reads
/// `/proc/self/fd` entries past their end and crashes now and then when tests spawn in parallel
/// (swift-corelibs-foundation #5472).
final class RunningCommand: Sendable {
    let pid: pid_t
    private let lines = NIOLockedValueBox<[String]>([])
    private let exitStatus = NIOLockedValueBox<Int32?>(nil)

    /// Spawns the binary with `arguments`, in this process's environment plus `environment`.
    init(_ arguments: [String], capturingStandardError: Bool = false, environment: [String: String] = [:]) throws {
        let output = try Self.pipe()
        let errors = capturingStandardError ? try Self.pipe() : nil
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output.write, 1)
        if let errors {
            posix_spawn_file_actions_adddup2(&actions, errors.write, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        // Close everything else in the child, as Foundation's Process does: an inherited listening
        // socket would keep a stopped test server's port open in the child.
        // (glibc ignores a close of a descriptor closed meanwhile.)
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap({ Int32($0) }) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        let argv = ([CLITests.binary] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let inherited = ProcessInfo.processInfo.environment.filter { environment[$0.key] == nil }
        let envp = (inherited.merging(environment) { $1 }).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        let result = posix_spawn(&pid, CLITests.binary, &actions, nil, argv, envp)
        close(output.write)
        if let errors { close(errors.write) }
        guard result == 0 else {
            close(output.read)
            if let errors { close(errors.read) }
            throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EIO)
        }
        self.pid = pid
        Self.collectLines(from: output.read, into: lines)
        if let errors { Self.collectLines(from: errors.read, into: lines) }
    }

    private static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
        // Close-on-exec, so that other children spawned meanwhile do not hold the pipe open; the
        // child's own ends are dup2'ed to 1 and 2, which clears the flag there.
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (fds[0], fds[1])
    }

    /// Reads `fd` (made non-blocking) from a task that polls it until end of file, splitting lines.
    /// Nothing blocks: a blocking read would hold one of the few threads that run every test's tasks.
    private static func collectLines(from fd: Int32, into lines: NIOLockedValueBox<[String]>) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        Task.detached {
            defer { close(fd) }
            var partial: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && (errno == EAGAIN || errno == EINTR) {
                    try? await Task.sleep(for: .milliseconds(20))
                    continue
                }
                guard count > 0 else { break }
                partial += buffer[..<count]
                while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: partial[..<newline], as: UTF8.self)
                    partial.removeSubrange(...newline)
                    lines.withLockedValue { $0.append(line) }
                }
            }
        }
    }

    /// Waits (polling the collected output, up to `seconds`) until `count` lines arrived.
    func waitForLines(_ count: Int, seconds: Double = 20) async -> [String] {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            let current = lines.withLockedValue { $0 }
            if current.count >= count { return current }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return lines.withLockedValue { $0 }
    }

    /// Waits (polling, up to `seconds`) for a line containing `text`.
    func waitForLine(containing text: String, seconds: Double = 20) async -> String? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if let line = lines.withLockedValue({ $0.first { $0.contains(text) } }) { return line }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Sends `signal` to the process, unless it was already reaped (its pid may be reused).
    func send(_ signal: Int32) {
        guard exitStatus.withLockedValue({ $0 }) == nil else { return }
        kill(pid, signal)
    }

    /// Waits (polling, up to `seconds`) for the process to exit; its exit code, or nil if it did not
    /// exit in time or was killed by a signal.
    func waitForExit(seconds: Double = 30) async -> Int32? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if let status = exitStatus.withLockedValue({ $0 }) { return status }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                // WIFEXITED / WEXITSTATUS, which Swift does not import as macros.
                let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
                exitStatus.withLockedValue { $0 = code }
                return code
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// Terminates the process and reaps it.
    func stop() async {
        send(SIGTERM)
        if await waitForExit(seconds: 10) == nil {
            send(SIGKILL)
            _ = await waitForExit(seconds: 10)
        }
    }
}
