public import SwitchboardCore

/// Turns whatever credential a request or connection presents into a principal: an `sbk_` API key
/// (looked up by `APIKeyAuthenticator`) or a client token (checked by `ClientTokenVerifier`).
public final class Authenticator: Sendable {
    /// API keys.
    public let keys: APIKeyAuthenticator
    /// Client tokens; nil when neither `jwt.secret` nor `jwt.public_keys` is configured.
    public let tokens: ClientTokenVerifier?

    /// Makes an authenticator.
    public init(keys: APIKeyAuthenticator, tokens: ClientTokenVerifier?) {
        self.keys = keys
        self.tokens = tokens
    }

    /// The principal of an API key or client token; no credential → anonymous.
    public func principal(for credential: String?) async throws(SwitchboardError) -> Principal {
        guard let credential, !credential.isEmpty else { return .anonymous }
        if credential.hasPrefix(APIKeyGenerator.prefix) { return try await keys.principal(for: credential) }
        guard let tokens else {
            throw SwitchboardError(
                .unauthorized,
                "the credential is not an API key, and client tokens are not configured (jwt.secret, jwt.public_keys)"
            )
        }
        return try await tokens.principal(for: credential)
    }

    /// The principal of an API key, the only credential the HTTP API's write and admin calls take.
    public func keyPrincipal(for credential: String) async throws(SwitchboardError) -> Principal {
        guard credential.hasPrefix(APIKeyGenerator.prefix) else {
            throw SwitchboardError(.unauthorized, "this call needs an API key (sbk_…), not a client token")
        }
        return try await keys.principal(for: credential)
    }
}
