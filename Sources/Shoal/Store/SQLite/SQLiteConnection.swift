import CSQLite
import Foundation

/// Owns one SQLite connection (`sqlite3*`), closed in `deinit`. Not
/// thread-safe: its owner serializes every use (one connection per
/// partition file, used under the partition store's lock).
final class SQLiteConnection {
    let path: String
    private let handle: OpaquePointer

    /// Opens (or creates, with `create`) the database at `path`.
    init(path: String, readOnly: Bool = false, create: Bool = true) throws(StoreError) {
        self.path = path
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        flags |= readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        var opened: OpaquePointer?
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard code == SQLITE_OK, let opened else {
            let message = opened.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(opened)
            throw Self.error(code, message, path: path, doing: "opening")
        }
        handle = opened
    }

    private var isOpen = true

    deinit {
        close()
    }

    /// Closes the database (its statements must be finalized first).
    func close() {
        guard isOpen else { return }
        isOpen = false
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws(StoreError) {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard code == SQLITE_OK else {
            throw Self.error(code, message.map { String(cString: $0) } ?? "", path: path, doing: "running \(sql.prefix(60))")
        }
    }

    func prepare(_ sql: String) throws(StoreError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw failure(code, doing: "preparing \(sql.prefix(60))")
        }
        return SQLiteStatement(statement, connection: self)
    }

    /// Runs `body` in one transaction: committed when it returns, rolled
    /// back when it throws.
    func transaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The rowid the last INSERT on this connection assigned.
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows the last statement inserted, updated or deleted.
    var changes: Int64 { Int64(sqlite3_changes(handle)) }

    /// The integer a one-row, one-column query returns.
    func integer(_ sql: String) throws(StoreError) -> Int64? {
        let statement = try prepare(sql)
        guard try statement.step() else { return nil }
        return statement.isNull(0) ? nil : statement.int64(0)
    }

    /// The error for a failed call on this connection, with SQLite's message.
    func failure(_ code: Int32, doing action: String) -> StoreError {
        Self.error(code, String(cString: sqlite3_errmsg(handle)), path: path, doing: action)
    }

    static func error(_ code: Int32, _ message: String, path: String, doing action: String) -> StoreError {
        let category: StoreError.Code = switch code & 0xff {
        case SQLITE_FULL: .full
        case SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_READONLY: .io
        case SQLITE_CORRUPT, SQLITE_NOTADB: .corrupt
        case SQLITE_BUSY, SQLITE_LOCKED: .locked
        default: .sqlite
        }
        return StoreError(code: category, reason: "\(path): \(action) failed: \(message) (SQLite \(code))", sqliteCode: code)
    }
}
