/// The browser-facing files compiled into the binary (`Assets/`), and the HTTP API's OpenAPI document:
/// nothing is read from disk or fetched from elsewhere at run time.
public enum WebAssets {
    /// Every built-in file by name.
    public static let builtIn: [String: WebAsset] = {
        let files: [(String, [UInt8])] = [
            ("client.js", PackageResources.client_js), ("client.d.ts", PackageResources.client_d_ts),
            ("console.html", PackageResources.console_html), ("console.css", PackageResources.console_css),
            ("console.js", PackageResources.console_js), ("chat.html", PackageResources.chat_html),
            ("orders.html", PackageResources.orders_html), ("openapi.json", PackageResources.openapi_json),
        ]
        return Dictionary(uniqueKeysWithValues: files.map { ($0.0, WebAsset(name: $0.0, bytes: $0.1)) })
    }()

    /// The names of the example pages, served only in development mode.
    public static let examples: Set<String> = ["chat.html", "orders.html"]
}
