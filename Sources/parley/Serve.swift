import ArgumentParser
import Foundation
import Logging
import ParleyServer
import ServiceLifecycle
import UnixSignals

/// `parley serve`: runs the server until SIGINT or SIGTERM.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Parley server.",
        discussion: """
            Settings come from flags, then environment variables, then a JSON config file (--config or \
            PARLEY_CONFIG, keys as in the README's table), then defaults. Any variable may instead name a file \
            with the _FILE suffix (OPENAI_API_KEY_FILE=/run/secrets/key). An upstream without a key takes \
            PARLEY_UPSTREAM_<NAME>_API_KEY.

            SETTINGS:
            \(SettingsReport.help)
            """)

    @Flag(name: .customLong("print-config"), help: "Print the settings in effect (secrets masked) and where each comes from, then exit.")
    var printConfig = false

    @OptionGroup var settingFlags: SettingFlags

    func run() async throws {
        let loader = try settingFlags.loader()
        let settings = try settingFlags.load(with: loader)
        if printConfig {
            FileHandle.standardOutput.write(Data(try SettingsReport.effective(settings, loader: loader).utf8))
            return
        }
        let level = settings.logLevel
        let format = settings.logFormat
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = DeferredMetadataLogHandler(StreamLogHandler.standardError(label: label))
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
        let logger = Logger(label: "parley")
        if settings.tasksOnEventLoops {
            if TasksOnEventLoops.install() {
                logger.info("Swift's tasks run on the event loops")
            } else {
                logger.warning("Swift's global executor was already hooked; tasks run where that hook puts them")
            }
        }
        let metrics = settings.metricsEnabled ? ParleyMetrics.bootstrap() : nil
        let traces = try TraceExport.bootstrap(environment: ProcessInfo.processInfo.environment, logger: logger)
        let application = try await buildApplication(config: settings, logger: logger, metrics: metrics) { port in
            // Always shown, whatever the log level, and unbuffered for scripts reading a redirected stdout.
            FileHandle.standardOutput.write(Data("Parley is listening on http://\(settings.host):\(port)\n".utf8))
        }
        let group = ServiceGroup(configuration: .init(
            services: (traces.map { [$0] } ?? []) + [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
