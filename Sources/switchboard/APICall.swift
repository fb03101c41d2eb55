import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

extension ClientOptions {
    /// Sends one HTTP API request with the credential; returns the body of a 2xx answer, or prints the
    /// problem to standard error and exits 1.
    func call(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws
        -> String
    {
        guard let url = URL(string: self.url + path) else { throw ValidationError("--url is not a valid URL") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let credential { request.setValue("Bearer \(credential)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let text = String(decoding: data, as: UTF8.self)
        guard let status = (response as? HTTPURLResponse)?.statusCode, (200..<300).contains(status) else {
            FileHandle.standardError.write(Data((text + "\n").utf8))
            throw ExitCode(1)
        }
        return text
    }
}
