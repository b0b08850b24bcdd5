import Foundation

/// Text made from ``Setting/all`` for people: `parley serve --help`, `--print-config`, and the README's table.
public enum SettingsReport {
    /// The settings part of `parley serve --help`.
    public static var help: String {
        var lines: [String] = []
        for setting in Setting.all {
            var names: [String] = []
            if let flag = setting.flag { names.append("--\(flag) <value>") }
            if let variable = setting.environment { names.append(variable) }
            lines.append("  " + names.joined(separator: ", "))
            var text = plain(setting.help)
            if case .value = setting.defaultValue { text += " (default \(plain(setting.defaultText)))" }
            else if setting.defaultText != "–" { text += " (default: \(plain(setting.defaultText)))" }
            if setting.flag == nil { text += " No flag: keep secrets out of process listings." }
            if setting.repeatable { text += " (repeatable)" }
            lines += wrap(text, width: 78, indent: "      ")
        }
        return lines.joined(separator: "\n")
    }

    /// `--print-config`: each setting, its value in effect (secrets masked) and where it came from.
    public static func effective(_ config: ParleyConfig, loader: ConfigLoader) throws -> String {
        let width = Setting.all.map(\.key.count).max() ?? 0
        let sources = try loader.sources()
        return Setting.all.filter { $0.key != "upstream" }.map { setting in
            let key = setting.key.padding(toLength: width, withPad: " ", startingAt: 0)
            let found = ([setting.key] + setting.alsoFrom).compactMap { sources[$0] }
            let source = found.isEmpty ? "default" : found.joined(separator: ", ")
            return "\(key) = \(setting.display(in: config))  (from \(source))"
        }.joined(separator: "\n") + "\n"
    }

    /// The README's configuration table.
    public static var markdownTable: String {
        var lines = ["| key / flag | environment | default | meaning |", "|---|---|---|---|"]
        for setting in Setting.all {
            let key = setting.inFile ? "`\(setting.key)`" : "–"
            let flag = setting.flag.map { "`--\($0)`" } ?? "–"
            let environment = setting.environment.map { "`\($0)`" } ?? "–"
            // A `|` inside a cell, even in code, would end the cell.
            let help = setting.help.replacingOccurrences(of: "|", with: "\\|")
            lines.append("| \(key) / \(flag) | \(environment) | \(setting.defaultText) | \(help) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Lines of at most `width` characters (unless a word is longer), each starting with `indent`.
    static func wrap(_ text: String, width: Int, indent: String) -> [String] {
        var lines: [String] = []
        var line = indent
        for word in text.split(separator: " ") {
            if line.count > indent.count, line.count + 1 + word.count > width {
                lines.append(line)
                line = indent
            }
            line += (line.count > indent.count ? " " : "") + word
        }
        if line.count > indent.count { lines.append(line) }
        return lines
    }

    /// Markdown's code marks removed, for the terminal.
    static func plain(_ text: String) -> String { text.replacingOccurrences(of: "`", with: "") }
}
