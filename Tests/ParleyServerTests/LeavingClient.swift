/// A client that sends one HTTP request over a plain TCP connection, reads until the answer has started, then
/// closes the connection — as a browser tab or a script killed mid-answer does. (Cancelling an HTTP client's
/// task only asks the client to close; this closes for certain, at a known point.)
enum LeavingClient {
    /// Sends `body` to `path` on 127.0.0.1:`port`; returns what arrived before leaving, once `started` holds
    /// for it (or the server closed first).
    static func post(port: Int, path: String, body: String, headers: [String: String] = [:],
                     leaveWhen started: @escaping @Sendable (String) -> Bool) async throws -> String {
        let request = HardeningTests.request("POST", path, port: port,
                                             headers: headers.merging(["Content-Type": "application/json"]) { own, _ in own },
                                             body: body)
        return try await RawHTTP.exchange(port: port, request, leaveWhen: started).text
    }
}
