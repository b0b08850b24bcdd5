import ArgumentParser
import Foundation
import Logging
import ParleyServer

/// `parley users create`: an account from the shell — the first administrator of a fresh server, or anyone.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Manage accounts from the shell.",
        subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create an account (with --admin on a fresh server: the first administrator, who receives the chats stored before accounts existed).",
            discussion: "The password is read from --password-file, else typed at a prompt (not echoed), else read from standard input. Takes the settings of parley serve; the database is --database or PARLEY_DATABASE_URL.")

        @Flag(help: "Make the account an administrator.") var admin = false
        @Option(help: "Read the password from this file (its first line).") var passwordFile: String?
        @Option(help: "The name shown for the account.") var name = ""
        @Argument(help: "The account's email address.") var email: String
        @OptionGroup var settingFlags: SettingFlags

        func run() async throws {
            let settings = try settingFlags.load(with: try settingFlags.loader())
            let password = try PasswordInput.read(file: passwordFile, confirm: true)
            let id = try await runReporting {
                try await AccountCommands.createUser(config: settings, logger: quietLogger(settings), email: email,
                                                     password: password, name: name, admin: admin)
            }
            print("Created \(admin ? "administrator" : "user") \(email) (id \(id)).")
        }
    }
}

/// `parley keys create`: an API key for a script, printed once.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage API keys from the shell.",
        subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Create an API key for a user and print it (it is not shown again; only its digest is stored).")

        @Option(help: "The email of the key's owner.") var user: String
        @Option(help: "A name to recognise the key by.") var name = "shell"
        @Option(help: "What the key may use: chat (/api/v1), gateway (/v1), admin; comma-separated.") var scopes = "chat,gateway"
        @Option(help: "Days until the key expires (default: never).") var expiresInDays: Int?
        @OptionGroup var settingFlags: SettingFlags

        func validate() throws {
            if let days = expiresInDays, !(1...3650).contains(days) {
                throw ValidationError("--expires-in-days must be from 1 to 3650")
            }
        }

        func run() async throws {
            let settings = try settingFlags.load(with: try settingFlags.loader())
            let key = try await runReporting {
                try await AccountCommands.createKey(config: settings, logger: quietLogger(settings), email: user, name: name,
                                                    scopes: scopes, expiresInDays: expiresInDays)
            }
            print(key)
        }
    }
}

/// Logs warnings and worse to standard error, so standard output carries only the result.
func quietLogger(_ settings: ParleyConfig) -> Logger {
    var logger = Logger(label: "parley") { label in StreamLogHandler.standardError(label: label) }
    logger.logLevel = max(settings.logLevel, .warning)
    return logger
}

/// Runs `body`; a refusal (a taken email, a weak password) is a one-line error and exit status 1, not a trace.
func runReporting<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

/// Reads a password without echoing it.
enum PasswordInput {
    static func read(file: String?, confirm: Bool) throws -> String {
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read --password-file \(file)")
            }
            return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        }
        guard isatty(STDIN_FILENO) == 1 else { return readLine(strippingNewline: true) ?? "" }
        let password = hiddenLine(prompt: "Password: ")
        if confirm, hiddenLine(prompt: "Password again: ") != password { throw ValidationError("the passwords differ") }
        return password
    }
}

/// A line typed at the terminal with echo off (a password, a key), the prompt on standard error.
func hiddenLine(prompt: String) -> String {
    FileHandle.standardError.write(Data(prompt.utf8))
    var saved = termios()
    tcgetattr(STDIN_FILENO, &saved)
    var silent = saved
    silent.c_lflag &= ~tcflag_t(ECHO)
    tcsetattr(STDIN_FILENO, TCSANOW, &silent)
    defer {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved)
        FileHandle.standardError.write(Data("\n".utf8))
    }
    return readLine(strippingNewline: true) ?? ""
}
