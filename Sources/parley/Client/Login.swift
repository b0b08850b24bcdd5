import ArgumentParser
import Foundation
import ParleyClient

/// `parley login`: checks an API key against a server and stores it for the client commands, in a file only
/// the user can read; `parley logout` forgets it.
struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Store an API key for a server, after checking it, in a file only you can read.",
        discussion: """
            The key (pk-…, from the web UI's 👤 dialog or `parley keys create`) is read without echo at the \
            prompt, or as the first line of standard input when piped; never as an argument, which other users \
            and the shell's history could see. PARLEY_API_KEY, when set, is used instead of a stored key.
            """)

    @OptionGroup var connection: ClientOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let base = try? connection.settings()
        let url = base?.url ?? connection.url ?? ClientSettings.defaultURL
        guard let key = readKey(prompt: "API key for \(url): ")?.trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty else {
            fail("no key given")
        }
        let settings: ClientSettings
        do { settings = try ClientSettings(url: url, key: key) } catch { fail("\(error)") }
        let remote = RemoteParley(settings: settings)
        do {
            _ = try await remote.models()
        } catch {
            await remote.shutdown()
            fail("the key was not stored: \(error)")
        }
        await remote.shutdown()
        let file = CredentialFile(environment: environment)
        do { try file.store(key: key, for: settings.url) } catch { fail("\(error)") }
        emit("Signed in to \(settings.url). The key is stored in \(file.path) (readable only by you).\n")
    }

    /// A line from the terminal with echo off, or the first line of piped input.
    private func readKey(prompt: String) -> String? {
        isatty(STDIN_FILENO) != 0 ? hiddenLine(prompt: prompt) : readLine(strippingNewline: true)
    }
}

/// `parley logout`: forgets the key stored for a server.
struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Forget the API key stored for a server.")

    @OptionGroup var connection: ClientOptions

    func run() async throws {
        let settings: ClientSettings
        do { settings = try connection.settings() } catch { fail("\(error)") }
        let file = CredentialFile(environment: ProcessInfo.processInfo.environment)
        let removed: Bool
        do { removed = try file.remove(for: settings.url) } catch { fail("\(error)") }
        emit(removed ? "Forgot the key for \(settings.url).\n" : "No key was stored for \(settings.url).\n")
    }
}
