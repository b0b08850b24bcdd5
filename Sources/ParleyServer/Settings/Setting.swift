import Foundation

/// One setting of `parley serve`: its config-file key, environment variable, command-line flag, default, help
/// text, and how its effective value is shown. ``Setting/all`` is the only list of settings: the config-file
/// reader, the environment, the command line (``SettingArguments``), `--help`, `--print-config` and the
/// README's configuration table all come from it.
public struct Setting: Sendable {
    /// What a setting is when it is not given.
    public enum Default: Sendable, Equatable {
        /// A literal value, shown as code (`8080`); `--print-config` with nothing set shows exactly this.
        case value(String)
        /// A description (`first listed`, `off`) where there is no single literal.
        case described(String)
    }

    /// Key in the config file, and the name the loader asks for.
    public let key: String
    /// Environment variable (also read from a file named by `<variable>_FILE`); `nil` for flag-only settings.
    public let environment: String?
    /// Long flag without dashes; `nil` for secrets, which stay out of process listings.
    public let flag: String?
    public let defaultValue: Default
    /// One or two sentences for `--help` and the README.
    public let help: String
    /// Whether the config file may hold it.
    public let inFile: Bool
    /// Whether the flag may be given several times (each use adds one value).
    public let repeatable: Bool
    /// Whether `--print-config` masks it.
    public let secret: Bool
    /// Other settings whose values also end up in this one's effective value (the upstream list).
    public let alsoFrom: [String]
    /// The value in effect, as `--print-config` shows it; `nil` when unset.
    let effective: @Sendable (ParleyConfig) -> String?

    init(_ key: String, environment: String?, flag: String?, default defaultValue: Default, help: String,
         inFile: Bool = true, repeatable: Bool = false, secret: Bool = false, alsoFrom: [String] = [],
         effective: @escaping @Sendable (ParleyConfig) -> String?) {
        self.key = key
        self.environment = environment
        self.flag = flag
        self.defaultValue = defaultValue
        self.help = help
        self.inFile = inFile
        self.repeatable = repeatable
        self.secret = secret
        self.alsoFrom = alsoFrom
        self.effective = effective
    }

    /// The setting with this key.
    public static func named(_ key: String) -> Setting? { all.first { $0.key == key } }

    /// The setting whose flag this is (`cache-ttl`).
    public static func flagged(_ flag: String) -> Setting? { all.first { $0.flag == flag } }

    /// The default as written in help text and the README.
    public var defaultText: String {
        switch defaultValue {
        case .value(let value): "`\(value)`"
        case .described(let text): text
        }
    }

    /// The value in effect under `config`, shown as `--print-config` shows it (secrets masked).
    public func display(in config: ParleyConfig) -> String {
        guard let value = effective(config) else { return "(unset)" }
        return secret ? SecretMask.mask(value) : value
    }
}

/// How secrets are shown: never their text.
enum SecretMask {
    static func mask(_ value: String) -> String { value.isEmpty ? "(empty)" : "********" }

    /// A URL with its password replaced (`postgres://parley:********@db/parley`).
    static func maskingPassword(inURL url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return url }
        let userInfo = rest[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<schemeEnd.upperBound]) + userInfo[..<colon] + ":********" + String(rest[at...])
    }
}
