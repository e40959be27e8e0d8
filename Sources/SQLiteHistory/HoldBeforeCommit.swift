#if DEBUG
    import Foundation
    import GRDB

    /// Debug builds only: with MVM_TEST_HOLD_RECORD_SECONDS set, a transaction
    /// that inserts a run waits that long before it commits, all its rows
    /// written, after saying so on standard error. The nightly integration test
    /// kills mvm then, and checks that the file opens sound, without the run.
    /// It observes the transaction from outside (GRDB calls it before every
    /// commit), so that the store's own code is the same as in a release build.
    final class HoldBeforeCommit: TransactionObserver {
        private let seconds: Double
        /// Whether the open transaction inserted into the run table.
        private var recordsARun = false

        private init(seconds: Double) {
            self.seconds = seconds
        }

        static func install(on database: any DatabaseWriter, environment: [String: String]) {
            guard let seconds = environment["MVM_TEST_HOLD_RECORD_SECONDS"].flatMap(Double.init) else { return }
            database.add(transactionObserver: HoldBeforeCommit(seconds: seconds), extent: .databaseLifetime)
        }

        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
            if case .insert(tableName: "run") = eventKind { return true }
            return false
        }

        func databaseDidChange(with event: DatabaseEvent) {
            recordsARun = true
        }

        func databaseWillCommit() throws {
            guard recordsARun else { return }
            FileHandle.standardError.write(
                Data("test: holding the history transaction open for \(seconds) s before it commits\n".utf8))
            Thread.sleep(forTimeInterval: seconds)
        }

        func databaseDidCommit(_ db: Database) {
            recordsARun = false
        }

        func databaseDidRollback(_ db: Database) {
            recordsARun = false
        }
    }
#endif
