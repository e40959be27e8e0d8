// SQL written once for every SQL history store. A statement keeps its bound
// values apart from its text, so that each store renders it in its own
// dialect (placeholders, collations) and binds the values its driver's way;
// no value is ever spliced into the text.

/// The SQL a history store speaks.
package enum SQLDialect: Sendable {
    case sqlite
    case postgres
}

/// What a column holds, as the stores declare and read it.
package enum StoredType: Sendable {
    case text
    case real
    case integer
    /// SQLite keeps it as an INTEGER 0 or 1, PostgreSQL as a BOOLEAN.
    case boolean
}

/// A value bound to a statement or read from a row. Nil is a typed NULL:
/// PostgreSQL wants to know the type of every parameter.
package enum StoredValue: Sendable, Equatable {
    case text(String?)
    case real(Double?)
    case integer(Int64?)
    case boolean(Bool?)

    package static func null(_ type: StoredType) -> StoredValue {
        switch type {
        case .text: .text(nil)
        case .real: .real(nil)
        case .integer: .integer(nil)
        case .boolean: .boolean(nil)
        }
    }
}

/// A Swift value that a store binds as one `StoredValue`.
package protocol StoredValueConvertible {
    /// The type of the column it goes in, which also types its NULL.
    static var storedType: StoredType { get }
    var storedValue: StoredValue { get }
}

extension String: StoredValueConvertible {
    package static var storedType: StoredType { .text }
    package var storedValue: StoredValue { .text(self) }
}

extension Double: StoredValueConvertible {
    package static var storedType: StoredType { .real }
    package var storedValue: StoredValue { .real(self) }
}

extension Int: StoredValueConvertible {
    package static var storedType: StoredType { .integer }
    package var storedValue: StoredValue { .integer(Int64(self)) }
}

extension Bool: StoredValueConvertible {
    package static var storedType: StoredType { .boolean }
    package var storedValue: StoredValue { .boolean(self) }
}

extension Optional: StoredValueConvertible where Wrapped: StoredValueConvertible {
    package static var storedType: StoredType { Wrapped.storedType }
    package var storedValue: StoredValue { self?.storedValue ?? .null(Wrapped.storedType) }
}

/// One SQL statement with its bound values, written with interpolation:
/// `"SELECT header FROM run WHERE id = \(id)"` binds `id`.
/// `\(bytewise: "run.id")` orders text by its bytes in both dialects
/// (PostgreSQL's default collation follows the database's locale), and
/// `\(fragment)` splices another statement in.
package struct StoreStatement: Sendable, ExpressibleByStringInterpolation {
    fileprivate enum Part: Sendable {
        case sql(String)
        case value(StoredValue)
        case bytewise(String)
    }

    fileprivate var parts: [Part]

    /// SQL taken as it is, with no values: DDL, and names that cannot be
    /// bound (a schema). The caller has checked any name in it.
    package init(verbatim sql: String) {
        parts = [.sql(sql)]
    }

    package init(stringLiteral sql: String) {
        parts = [.sql(sql)]
    }

    package init(stringInterpolation: StringInterpolation) {
        parts = stringInterpolation.statement.parts
    }

    package mutating func append(sql: String) {
        parts.append(.sql(sql))
    }

    /// A bound value.
    package mutating func append(_ value: StoredValue) {
        parts.append(.value(value))
    }

    package struct StringInterpolation: StringInterpolationProtocol {
        fileprivate var statement = StoreStatement(verbatim: "")

        package init(literalCapacity: Int, interpolationCount: Int) {}

        package mutating func appendLiteral(_ sql: String) {
            statement.append(sql: sql)
        }

        /// A bound value.
        package mutating func appendInterpolation(_ value: some StoredValueConvertible) {
            statement.append(value.storedValue)
        }

        /// A bound value that may be NULL. Its own overload, so that an
        /// optional is bound as one, not taken for a mistake in a string.
        package mutating func appendInterpolation<Value: StoredValueConvertible>(_ value: Value?) {
            statement.append(value.storedValue)
        }

        /// `column`, compared byte by byte.
        package mutating func appendInterpolation(bytewise column: String) {
            statement.parts.append(.bytewise(column))
        }

        package mutating func appendInterpolation(_ fragment: StoreStatement) {
            statement.parts += fragment.parts
        }
    }

    /// The text in `dialect`'s placeholders (`?`, or `$1`, `$2`...) and the
    /// values in the order they bind.
    package func rendered(for dialect: SQLDialect) -> (sql: String, values: [StoredValue]) {
        var sql = ""
        var values: [StoredValue] = []
        for part in parts {
            switch part {
            case .sql(let text):
                sql += text
            case .value(let value):
                values.append(value)
                sql += dialect == .sqlite ? "?" : "$\(values.count)"
            case .bytewise(let column):
                sql += column + (dialect == .sqlite ? " COLLATE BINARY" : #" COLLATE "C""#)
            }
        }
        return (sql, values)
    }
}

/// A row as a store read it: one value per column the query declared.
package struct StoredRow: Sendable {
    package var values: [StoredValue]

    package init(_ values: [StoredValue]) {
        self.values = values
    }

    package func text(_ column: Int) throws -> String {
        try required(optionalText(column), column)
    }

    package func optionalText(_ column: Int) throws -> String? {
        guard case .text(let value) = try value(column) else { throw StoredRowError.wrongType(column: column) }
        return value
    }

    package func real(_ column: Int) throws -> Double {
        try required(optionalReal(column), column)
    }

    package func optionalReal(_ column: Int) throws -> Double? {
        guard case .real(let value) = try value(column) else { throw StoredRowError.wrongType(column: column) }
        return value
    }

    package func integer(_ column: Int) throws -> Int64 {
        guard case .integer(let value) = try value(column) else { throw StoredRowError.wrongType(column: column) }
        return try required(value, column)
    }

    private func value(_ column: Int) throws -> StoredValue {
        guard values.indices.contains(column) else { throw StoredRowError.missing(column: column) }
        return values[column]
    }

    private func required<T>(_ value: T?, _ column: Int) throws -> T {
        guard let value else { throw StoredRowError.null(column: column) }
        return value
    }
}

/// A row that does not hold what its query declared: a store's bug, or a
/// database changed by hand.
package enum StoredRowError: Error, CustomStringConvertible {
    case missing(column: Int)
    case wrongType(column: Int)
    case null(column: Int)

    package var description: String {
        switch self {
        case .missing(let column): "the row has no column \(column)"
        case .wrongType(let column): "column \(column) of the row is not of the type the query declared"
        case .null(let column): "column \(column) of the row is NULL where a value is required"
        }
    }
}

/// A SELECT written once for every store: its statement, the types of the
/// columns it returns (so that each store reads them its driver's way) and
/// how a row becomes a value.
package struct StoreQuery<Result: Sendable>: Sendable {
    package var statement: StoreStatement
    package var columns: [StoredType]
    package var decode: @Sendable (StoredRow) throws -> Result

    package init(
        _ statement: StoreStatement, columns: [StoredType], decode: @escaping @Sendable (StoredRow) throws -> Result
    ) {
        self.statement = statement
        self.columns = columns
        self.decode = decode
    }
}
