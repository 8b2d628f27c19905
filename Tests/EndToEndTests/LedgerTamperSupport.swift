import Foundation
import SQLiteStore
import Testing
@testable import WorkflowEngine

/// What a tamperer with write access to the database (but not to the key) can do, done the
/// way they would: drop the triggers, change rows, and compute the hashes again.
enum Tamper {
    static func dropTriggers(_ db: Database) throws {
        try db.execute("DROP TRIGGER IF EXISTS ledger_no_update; DROP TRIGGER IF EXISTS ledger_no_delete")
    }

    static func deleteLast(_ count: Int, _ db: Database) throws {
        try dropTriggers(db)
        try db.execute("DELETE FROM ledger WHERE seq > (SELECT max(seq) FROM ledger) - ?", [.integer(Int64(count))])
    }

    /// Recomputes every row's prev_hash and hash (plain sha256) from `seq` on.
    static func rechain(from seq: Int64, _ db: Database) throws {
        try dropTriggers(db)
        var previous = try db.queryOne("SELECT hash FROM ledger WHERE seq = ?", [.integer(seq - 1)])?.text("hash") ?? Ledger.genesis
        for row in try db.query("SELECT * FROM ledger WHERE seq >= ? ORDER BY seq", [.integer(seq)]) {
            let hash = Ledger.hash(prev: previous, seq: try row.int("seq"), at: try row.int("at"), actor: try row.text("actor"),
                                   instance: try row.optionalInt("instance"), step: try row.optionalText("step"),
                                   event: try row.text("event"), text: try row.text("text"), fieldsJSON: try row.text("fields"))
            try db.execute("UPDATE ledger SET prev_hash = ?, hash = ? WHERE seq = ?", [.text(previous), .text(hash), .integer(try row.int("seq"))])
            previous = hash
        }
    }

    /// Appends a row with a correct plain sha256 hash.
    static func append(_ db: Database, at: Int64, actor: String, instance: Int64?, step: String?, event: String, text: String,
                       fields: [String: String]) throws -> Int64 {
        let head = try #require(try db.queryOne("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1"))
        let seq = try head.int("seq") + 1, previous = try head.text("hash")
        let json = Ledger.json(fields)
        let hash = Ledger.hash(prev: previous, seq: seq, at: at, actor: actor, instance: instance, step: step, event: event,
                               text: text, fieldsJSON: json)
        try db.execute("INSERT INTO ledger (seq, at, actor, instance, step, event, text, fields, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [.integer(seq), .integer(at), .text(actor), instance.map { .integer($0) } ?? .null, step.map { .text($0) } ?? .null,
                        .text(event), .text(text), .text(json), .text(previous), .text(hash)])
        return seq
    }
}
