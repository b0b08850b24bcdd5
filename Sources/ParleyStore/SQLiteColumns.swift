import CParleySQLite
import GRDB

/// A row's columns, read by position: GRDB's `Row`, or ``SQLiteColumns`` straight from a statement.
protocol ColumnsByPosition {
    var count: Int { get }
    subscript<Value: DatabaseValueConvertible & StatementColumnConvertible>(column index: Int) -> Value { get }
}

extension Row: ColumnsByPosition {
    subscript<Value: DatabaseValueConvertible & StatementColumnConvertible>(column index: Int) -> Value { self[index] }
}

/// The current row of a statement SQLite is stepping through, read by position without a `Row`: GRDB's row cursor
/// makes a table of the lowercased column names every time a statement runs (about 500 instructions a column, 23
/// columns for a message), which reading by position never looks at. Valid only until the statement steps again.
struct SQLiteColumns: ColumnsByPosition {
    let statement: SQLiteStatement
    let count: Int

    subscript<Value: DatabaseValueConvertible & StatementColumnConvertible>(_ index: Int) -> Value { self[column: index] }

    subscript<Value: DatabaseValueConvertible & StatementColumnConvertible>(column index: Int) -> Value {
        precondition(index >= 0 && index < count, "no column \(index) in a row of \(count)")
        guard let value = Value.fromStatement(statement, atUncheckedIndex: CInt(index)) else {
            // What GRDB's `Row` does with a value that is not of the type asked for (a NULL where none may be).
            fatalError("column \(index) does not hold a \(Value.self)")
        }
        return value
    }
}

/// A cursor handing each row of a statement to `decode` as ``SQLiteColumns``. Like GRDB's own cursors, it binds the
/// arguments when made and resets the statement when it goes.
final class SQLiteColumnsCursor<Element>: DatabaseCursor {
    let _statement: Statement
    var _isDone = false
    private let decode: (SQLiteColumns) throws -> Element
    private let columnCount: Int

    init(_ statement: Statement, arguments: StatementArguments, decode: @escaping (SQLiteColumns) throws -> Element) throws {
        _statement = statement
        self.decode = decode
        columnCount = statement.columnCount
        try statement.setArguments(arguments)  // Resets the statement, then binds.
    }

    deinit {
        // Ends the statement even when not stepped to its end (a RETURNING statement's changes are already made).
        sqlite3_reset(_statement.sqliteStatement)
    }

    func _element(sqliteStatement: SQLiteStatement) throws -> Element {
        try decode(SQLiteColumns(statement: sqliteStatement, count: columnCount))
    }
}
