/// Reads `parley serve`'s setting flags (`--cache off`, `--cache=off`, `--upstream a=… --upstream b=…`) from the
/// command line by ``Setting/all``, so every setting in the table has its flag and no flag exists outside it.
public enum SettingArguments {
    /// A flag that cannot be read, with the message shown to the user.
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// The values by setting key; a repeatable flag's values joined by newlines, in order.
    public static func parse(_ arguments: [String]) throws(Problem) -> [String: String] {
        var values: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw Problem(description: "Unexpected argument '\(argument)'; settings are given as --name value (see --help)")
            }
            let body = argument.dropFirst(2)
            let name: String
            let value: String
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                value = String(body[body.index(after: equals)...])
            } else {
                name = String(body)
                guard index < arguments.count else { throw Problem(description: "Missing value for '--\(name) <value>'") }
                value = arguments[index]
                index += 1
            }
            guard let setting = Setting.flagged(name) else {
                throw Problem(description: "Unknown option '--\(name)'\(suggestion(for: name))")
            }
            if let earlier = values[setting.key] {
                guard setting.repeatable else { throw Problem(description: "'--\(name)' is given more than once") }
                values[setting.key] = earlier + "\n" + value
            } else {
                values[setting.key] = value
            }
        }
        return values
    }

    /// `; did you mean '--cache-ttl'?` for a flag that begins a real one or shares most of its words.
    static func suggestion(for name: String) -> String {
        if let flag = Setting.all.compactMap(\.flag).first(where: { $0.hasPrefix(name) }) {
            return "; did you mean '--\(flag)'?"
        }
        let words = Set(name.split(separator: "-"))
        let scored = Setting.all.compactMap { setting -> (String, Int)? in
            guard let flag = setting.flag else { return nil }
            let shared = words.intersection(flag.split(separator: "-")).count
            return shared > 0 ? (flag, shared) : nil
        }
        guard let best = scored.max(by: { $0.1 < $1.1 }) else { return "" }
        return "; did you mean '--\(best.0)'?"
    }
}
