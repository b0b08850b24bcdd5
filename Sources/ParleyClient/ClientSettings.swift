import Foundation

/// Where the client connects and with which key: `--url`, else `PARLEY_URL`, else the local server
/// (`http://127.0.0.1:8080`); the key from `PARLEY_API_KEY`, else the one `parley login` stored for that server.
public struct ClientSettings: Sendable {
    public static let defaultURL = "http://127.0.0.1:8080"
    /// The server's root, without a trailing slash.
    public let url: String
    public let key: String?

    public init(url: String?, environment: [String: String], credentials: CredentialFile) throws {
        let chosen = url ?? environment["PARLEY_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultURL
        self.url = try Self.normalized(chosen)
        self.key = environment["PARLEY_API_KEY"].flatMap { $0.isEmpty ? nil : $0 } ?? credentials.key(for: self.url)
    }

    /// A given server and key.
    public init(url: String, key: String?) throws {
        self.url = try Self.normalized(url)
        self.key = key
    }

    /// `http(s)://host[:port][/path]` without a trailing slash; anything else is refused.
    public static func normalized(_ url: String) throws -> String {
        var text = url.trimmingCharacters(in: .whitespaces)
        while text.hasSuffix("/") { text.removeLast() }
        guard let components = URLComponents(string: text), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
              components.host?.isEmpty == false, components.query == nil else {
            throw ClientFailure("'\(url)' is not a server address (http://host:port)")
        }
        return text
    }
}

/// The keys `parley login` stored, one per server, in a file only its owner can read: `credentials.json` in
/// `$XDG_CONFIG_HOME/parley` (`~/.config/parley` when unset; `~/Library/Application Support/parley` on macOS).
public struct CredentialFile: Sendable {
    public let path: String

    public init(environment: [String: String]) {
        let home = environment["HOME"] ?? NSHomeDirectory()
        #if os(macOS)
        let folder = home + "/Library/Application Support/parley"
        #else
        let folder = (environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config") + "/parley"
        #endif
        path = folder + "/credentials.json"
    }

    private struct Contents: Codable {
        var servers: [String: Entry] = [:]
    }
    private struct Entry: Codable {
        var key: String
    }

    public func key(for url: String) -> String? {
        read()?.servers[url]?.key
    }

    /// Stores `key` for `url`, replacing any other; the folder is made private (0700) and the file is written
    /// with mode 0600 before the key goes in.
    public func store(key: String, for url: String) throws {
        var contents = read() ?? Contents()
        contents.servers[url] = Entry(key: key)
        try write(contents)
    }

    /// Forgets the key of `url`; true when there was one.
    public func remove(for url: String) throws -> Bool {
        guard var contents = read(), contents.servers.removeValue(forKey: url) != nil else { return false }
        try write(contents)
        return true
    }

    private func read() -> Contents? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(Contents.self, from: data)
    }

    private func write(_ contents: Contents) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(contents)
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw ClientFailure("cannot write \(temporary)")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        try handle.write(contentsOf: data)
        try handle.close()
        guard rename(temporary, path) == 0 else { throw ClientFailure("cannot write \(path)") }
    }
}
