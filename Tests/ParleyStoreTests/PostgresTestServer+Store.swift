import Logging
import ParleyMockLLM
import ParleyTestSupport
import ParleyStore

extension PostgresTestServer {
    /// Creates an empty database and returns a migrated store on it, with its pool running in `task`.
    func freshStore(name: String) async throws -> (PostgresConversationStore, Task<Void, Never>) {
        var logger = Logger(label: "parley.test.pg")
        logger.logLevel = .error
        try await createDatabase(name)
        let store = PostgresConversationStore(configuration: try PostgresConversationStore.configuration(url: url(database: name)),
                                              logger: logger)
        let task = await store.startPool()
        try await store.migrate()
        return (store, task)
    }
}
