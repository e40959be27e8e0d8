/// What a history store throws: the kind of failure, for code to act on,
/// and one line for people saying what failed, in which history and, when
/// something can be done, what to do. Each store has its own kinds
/// (`SQLiteHistoryError`, `PostgresHistoryError`); the shape is the same.
public struct HistoryStoreError<Kind: Sendable & Equatable>: Error, CustomStringConvertible, Sendable {
    public var kind: Kind
    public var description: String

    package init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
