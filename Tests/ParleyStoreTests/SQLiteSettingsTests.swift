import CParleySQLite
import Foundation
@testable import ParleyStore
import Testing

/// SQLite's memory statistics (a process-wide mutex taken on each of its allocations) are off once a store has
/// opened, when the store was SQLite's first use in the process, as in `parley serve`.
@Suite struct SQLiteSettingsTests {
    @Test func memoryStatisticsAreOffWhenTheStoreCameFirst() async throws {
        let (store, directory) = try await SQLiteStoreTests.freshStore()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = store
        // In this test process another test may have used SQLite first; then the setting could not be applied
        // and SQLite still counts. Either way the recorded outcome must be the truth.
        #expect((parley_sqlite_counts_memory() == 0) == SQLiteConversationStore.memoryStatisticsTurnedOff)
    }
}
