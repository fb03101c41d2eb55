import CompressNIO
import FoundationEssentials
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchboardCore
import SwitchboardWeb

/// Where the browser-facing files come from: the copies compiled into the binary, or a directory
/// (`http.web_dir`) read again on every request, for working on the console or the client without
/// rebuilding. Keeps each file's gzip form once made.
final class WebAssetSource: Sendable {
    private let directory: String?
    private let compressed = NIOLockedValueBox<[String: ByteBuffer]>([:])

    init(directory: String?) {
        self.directory = directory
    }

    /// The file `name` (one of the built-in names), or nil when it does not exist.
    func asset(named name: String) async -> WebAsset? {
        guard WebAssets.builtIn[name] != nil else { return nil }
        guard let directory else { return WebAssets.builtIn[name] }
        let path = directory + "/" + name
        let bytes = try? await NIOThreadPool.singleton.runIfActive {
            FileManager.default.contents(atPath: path).map { [UInt8]($0) }
        }
        return bytes.flatMap { $0 }.map { WebAsset(name: name, bytes: $0) }
    }

    /// The gzip form of `asset`, made once per content version; nil when it cannot be made.
    func gzipped(_ asset: WebAsset) -> ByteBuffer? {
        if let done = compressed.withLockedValue({ $0[asset.etag] }) { return done }
        var input = ByteBuffer(bytes: asset.bytes)
        guard let output = try? input.compress(with: .gzip()) else { return nil }
        compressed.withLockedValue { cache in
            if cache.count > 64 { cache.removeAll() }
            cache[asset.etag] = output
        }
        return output
    }
}
