/// Checks the signature of a request to the Pusher HTTP API (`/apps/{id}/…`), as the official server
/// libraries make it: `auth_key`, `auth_timestamp` (within ten minutes of now), `auth_version` `1.0`,
/// `body_md5` when there is a body, and `auth_signature` over all of them (`PusherSignature`).
public enum PusherAPIAuthentication {
    /// How far the signed timestamp may be from now, either way (Pusher's own window).
    public static let toleranceSeconds: Int64 = 600

    /// Why a request was refused; each is answered `401` with its sentence.
    public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        case missingParameter(String)
        case unknownKey
        case unsupportedVersion
        case timestampOutOfTolerance
        case bodyDigestMismatch
        case signatureMismatch

        /// The sentence the API answers with.
        public var description: String {
            switch self {
            case .missingParameter(let name): "the \(name) query parameter is missing"
            case .unknownKey: "auth_key does not name an app's key"
            case .unsupportedVersion: "auth_version must be 1.0"
            case .timestampOutOfTolerance: "auth_timestamp is more than 600 seconds from the server's time"
            case .bodyDigestMismatch: "body_md5 is not the MD5 of the body"
            case .signatureMismatch: "auth_signature does not match"
            }
        }
    }

    /// Why the request is refused, or nil when it is signed by the app: `parameters` are its query's
    /// name/value pairs, percent-decoded, in order.
    public static func refusal(
        method: String,
        path: String,
        parameters: [(String, String)],
        body: [UInt8],
        key: String,
        secret: [UInt8],
        now: Int64
    ) -> Refusal? {
        func value(_ name: String) -> String? { parameters.first { $0.0.lowercased() == name }?.1 }
        guard let presentedKey = value("auth_key") else { return .missingParameter("auth_key") }
        guard let timestamp = value("auth_timestamp") else { return .missingParameter("auth_timestamp") }
        guard let version = value("auth_version") else { return .missingParameter("auth_version") }
        guard let signature = value("auth_signature") else { return .missingParameter("auth_signature") }
        guard ConstantTime.equals(Array(presentedKey.utf8), Array(key.utf8)) else { return .unknownKey }
        guard version == "1.0" else { return .unsupportedVersion }
        guard let seconds = Int64(timestamp), SignedTimestamp.isWithin(toleranceSeconds, of: now, seconds) else {
            return .timestampOutOfTolerance
        }
        if !body.isEmpty || value("body_md5") != nil {
            guard let digest = value("body_md5") else { return .missingParameter("body_md5") }
            guard digest.lowercased() == PusherSignature.bodyMD5(body) else { return .bodyDigestMismatch }
        }
        let expected = PusherSignature.apiSignature(method: method, path: path, parameters: parameters, secret: secret)
        guard PusherSignature.matches(signature.lowercased(), expected: expected) else {
            return .signatureMismatch
        }
        return nil
    }
}
