import Foundation
import ParleyCore
import ParleyMockLLM
import ParleyTestSupport
import ParleyStore
import Testing

/// The contract suite on a real PostgreSQL server started for the run, each check on a fresh database.
@Suite(.serialized) struct PostgresStoreTests {
    @Test(.enabled(if: PostgresTestServer.binaryDirectory != nil || PostgresTestServer.required,
                   "PostgreSQL binaries not found; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
    func contractOnPostgres() async throws {
        let server = try await PostgresTestServer.start()
        defer { server.stop() }
        for (index, check) in SQLiteStoreTests.checks.enumerated() {
            let (store, pool) = try await server.freshStore(name: "contract_\(index)")
            do {
                try await check.1(store)
            } catch {
                Issue.record("\(check.0): \(error)")
            }
            pool.cancel()
        }
        for (index, check) in KnowledgeStoreContract.checks.enumerated() {
            let (store, pool) = try await server.freshStore(name: "knowledge_\(index)")
            do {
                try await check.1(store)
            } catch {
                Issue.record("\(check.0): \(error)")
            }
            pool.cancel()
        }
        for (index, check) in AccountStoreContract.checks.enumerated() {
            let (store, pool) = try await server.freshStore(name: "accounts_\(index)")
            do {
                try await check.1(store)
            } catch {
                Issue.record("\(check.0): \(error)")
            }
            pool.cancel()
        }
    }

    @Test(.enabled(if: PostgresTestServer.binaryDirectory != nil || PostgresTestServer.required,
                   "PostgreSQL binaries not found; set PARLEY_REQUIRE_SERVICES=1 to make this a failure"))
    func migrationsAreIdempotentAndURLsParse() async throws {
        let server = try await PostgresTestServer.start()
        defer { server.stop() }
        let (store, pool) = try await server.freshStore(name: "twice")
        try await store.migrate()
        try await store.ping()
        pool.cancel()
        _ = try PostgresConversationStore.configuration(url: "postgres://parley:secret@127.0.0.1:\(server.port)/twice")
        #expect(throws: ParleyError.self) { try PostgresConversationStore.configuration(url: "mysql://x") }
    }
}
