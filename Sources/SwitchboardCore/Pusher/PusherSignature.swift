public import Crypto

/// The HMAC-SHA256 signatures of the Pusher protocol: channel authorisation (`key:signature` for
/// `private-` and `presence-` subscriptions), user sign-in, the HTTP API's `auth_signature`, and
/// Pusher-format webhooks (`X-Pusher-Signature`). Every signature is lower-case hex; every check
/// compares in constant time.
public enum PusherSignature {
    /// The `auth` value a client presents to subscribe to `channel`: `key:hex(HMAC(secret,
    /// "socket_id:channel[:channel_data]"))`.
    public static func channelAuth(
        key: String,
        secret: [UInt8],
        socketID: String,
        channel: String,
        channelData: String? = nil
    ) -> String {
        var content = socketID + ":" + channel
        if let channelData { content += ":" + channelData }
        return key + ":" + hexMAC(Array(content.utf8), secret: secret)
    }

    /// The `auth` value of a user sign-in: `key:hex(HMAC(secret, "socket_id::user::user_data"))`.
    public static func userAuth(key: String, secret: [UInt8], socketID: String, userData: String) -> String {
        key + ":" + hexMAC(Array((socketID + "::user::" + userData).utf8), secret: secret)
    }

    /// Whether `presented` (a client's `auth` value) is `expected`, compared in constant time.
    public static func matches(_ presented: String, expected: String) -> Bool {
        ConstantTime.equals(Array(presented.utf8), Array(expected.utf8))
    }

    /// `X-Pusher-Signature` of a webhook body.
    public static func webhook(body: [UInt8], secret: [UInt8]) -> String {
        hexMAC(body, secret: secret)
    }

    /// The string the HTTP API signs: `METHOD\nPATH\nQUERY`, the query's parameters other than
    /// `auth_signature` sorted by name, as `name=value` joined by `&`, names lower-cased and values
    /// not escaped (the client signs them before it escapes them for the URL).
    public static func apiStringToSign(method: String, path: String, parameters: [(String, String)]) -> String {
        var pairs: [(name: String, value: String)] = []
        for (name, value) in parameters where name.lowercased() != "auth_signature" {
            pairs.append((name.lowercased(), value))
        }
        pairs.sort { $0.name == $1.name ? $0.value < $1.value : $0.name < $1.name }
        let query = pairs.map { $0.name + "=" + $0.value }.joined(separator: "&")
        return method.uppercased() + "\n" + path + "\n" + query
    }

    /// The `auth_signature` of an HTTP API request.
    public static func apiSignature(
        method: String,
        path: String,
        parameters: [(String, String)],
        secret: [UInt8]
    ) -> String {
        hexMAC(Array(apiStringToSign(method: method, path: path, parameters: parameters).utf8), secret: secret)
    }

    /// `body_md5`: the lower-case hex MD5 of a request body.
    public static func bodyMD5(_ body: [UInt8]) -> String {
        Hex.encode(Insecure.MD5.hash(data: body))
    }

    static func hexMAC(_ content: [UInt8], secret: [UInt8]) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: secret)))
    }
}
