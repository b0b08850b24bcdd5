import ArgumentParser
import ParleyServer

/// The settings given on the command line (`--name value`, read by ``SettingArguments`` from the one settings
/// table), shared by `parley serve` and `parley migrate`.
struct SettingFlags: ParsableArguments {
    @Argument(parsing: .allUnrecognized, help: .init("Settings as --name value or --name=value (parley serve --help lists them).",
                                                     valueName: "settings"))
    var arguments: [String] = []

    func validate() throws {
        _ = try loader()
    }

    /// The loader over these flags and the environment; bad flags are usage errors.
    func loader() throws -> ConfigLoader {
        do {
            return ConfigLoader(flags: try SettingArguments.parse(arguments))
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The settings in effect; a bad value is a usage error naming where it came from.
    func load(with loader: ConfigLoader) throws -> ParleyConfig {
        do {
            return try loader.load()
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
    }
}
