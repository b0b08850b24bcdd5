import Foundation

/// What was typed before, newest last, kept in a file readable only by its user (one JSON string per line, so
/// that a multi-line message stays one entry). Bounded: the oldest entries go past ``limit``.
public struct History: Sendable {
    public static let limit = 1_000
    public private(set) var entries: [String]
    let file: String?
    /// Lines in the file (it is rewritten with only the kept entries when it reaches twice the limit).
    private var fileLines = 0

    /// The history kept in `file` (created when first written), or only in memory when `file` is nil.
    public init(file: String?) {
        self.file = file
        guard let file, let data = FileManager.default.contents(atPath: file) else {
            entries = []
            return
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        fileLines = lines.count
        entries = lines.compactMap { try? JSONDecoder().decode(String.self, from: Data($0.utf8)) }.suffix(Self.limit).map { $0 }
    }

    /// Adds `entry` (not when blank or the same as the last), and appends it to the file.
    public mutating func add(_ entry: String) {
        guard !entry.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, entry != entries.last else { return }
        entries.append(entry)
        if entries.count > Self.limit { entries.removeFirst(entries.count - Self.limit) }
        save(appending: entry)
        fileLines += 1
        if fileLines >= 2 * Self.limit {
            compact()
            fileLines = entries.count
        }
    }

    /// The newest entry before `index` (exclusive) that contains `query`, case-insensitively.
    public func search(_ query: String, before index: Int) -> Int? {
        guard !query.isEmpty else { return nil }
        return entries[..<min(index, entries.count)].lastIndex { $0.localizedCaseInsensitiveContains(query) }
    }

    private func save(appending entry: String) {
        guard let file, let line = try? JSONEncoder().encode(entry) else { return }
        let folder = (file as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        let descriptor = open(file, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let bytes = line + Data("\n".utf8)
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }

    private func compact() {
        guard let file else { return }
        let text = entries.compactMap { (try? JSONEncoder().encode($0)).map { String(decoding: $0, as: UTF8.self) } }
            .joined(separator: "\n") + "\n"
        let temporary = file + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else { return }
        _ = rename(temporary, file)
    }

    /// Where the chat history is kept: `$XDG_STATE_HOME/parley/history` (`~/.local/state/parley/history`).
    public static func defaultFile(environment: [String: String]) -> String {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let state = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.local/state"
        return state + "/parley/history"
    }
}
