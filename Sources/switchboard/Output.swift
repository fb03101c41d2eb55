import Glibc

/// Terminal output helpers.
enum Output {
    /// Flushes standard output, so that piped readers see each line at once.
    static func flush() {
        // fflush(NULL) flushes every output stream without naming the C global `stdout`.
        fflush(nil)
    }
}
