import Crypto
import Foundation
import SQLiteStore

/// One ledger row as stored.
public struct LedgerEntry: Sendable, Equatable {
    public var seq: Int64
    public var at: Date
    public var actor: String
    public var instance: Int64?
    public var step: String?
    public var event: String
    public var text: String
    public var fields: [String: String]
    public var prevHash: String
    public var hash: String
}

/// The outcome of checking the hash chain.
public struct LedgerCheck: Sendable, Equatable {
    public var ok: Bool
    public var rowsChecked: Int
    public var firstBadSeq: Int64?
    public var reason: String?
}

/// The append-only, hash-chained ledger: every row's `hash` is
/// `sha256(prev_hash ‖ canonical row)`, so editing, deleting or reordering any row breaks the
/// chain from that row on, and `verify()` names the first bad one.
///
/// - Important: Loop thread only; `append` must run inside the caller's transaction.
final class Ledger {
    static let genesis = String(repeating: "0", count: 64)
    private let db: Database
    private var head: (seq: Int64, hash: String)

    init(db: Database) throws {
        self.db = db
        if let row = try db.queryOne("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1") {
            head = (try row.int("seq"), try row.text("hash"))
        } else {
            head = (0, Self.genesis)
        }
    }

    /// Re-reads the head after a rolled-back transaction (the in-memory head may be ahead).
    func reloadHead() throws {
        if let row = try db.queryOne("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1") {
            head = (try row.int("seq"), try row.text("hash"))
        } else {
            head = (0, Self.genesis)
        }
    }

    @discardableResult
    func append(at: Date, actor: String, instance: Int64?, step: String?, event: String, text: String,
                fields: [String: String] = [:]) throws -> Int64 {
        let seq = head.seq + 1
        let atMillis = Millis.from(at)
        let fieldsJSON = Self.json(fields)
        let hash = Self.hash(prev: head.hash, seq: seq, at: atMillis, actor: actor, instance: instance, step: step,
                             event: event, text: text, fieldsJSON: fieldsJSON)
        try db.execute("""
            INSERT INTO ledger (seq, at, actor, instance, step, event, text, fields, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.integer(seq), .integer(atMillis), .text(actor), instance.map { .integer($0) } ?? .null,
                  step.map { .text($0) } ?? .null, .text(event), .text(text), .text(fieldsJSON), .text(head.hash), .text(hash)])
        head = (seq, hash)
        return seq
    }

    /// Recomputes the chain from the first row.
    func verify() throws -> LedgerCheck {
        var previous = Self.genesis
        var expectedSeq: Int64 = 1
        var checked = 0
        for row in try db.query("SELECT seq, at, actor, instance, step, event, text, fields, prev_hash, hash FROM ledger ORDER BY seq") {
            let seq = try row.int("seq")
            func bad(_ reason: String) -> LedgerCheck {
                LedgerCheck(ok: false, rowsChecked: checked, firstBadSeq: seq, reason: reason)
            }
            if seq != expectedSeq {
                return bad("row \(expectedSeq) is missing (the next row is \(seq))")
            }
            let stored = try row.text("hash")
            if try row.text("prev_hash") != previous {
                return bad("prev_hash does not match the hash of row \(seq - 1)")
            }
            let computed = Self.hash(prev: previous, seq: seq, at: try row.int("at"), actor: try row.text("actor"),
                                     instance: try row.optionalInt("instance"), step: try row.optionalText("step"),
                                     event: try row.text("event"), text: try row.text("text"), fieldsJSON: try row.text("fields"))
            if computed != stored {
                return bad("content does not match its hash (the row was edited)")
            }
            previous = stored
            expectedSeq += 1
            checked += 1
        }
        return LedgerCheck(ok: true, rowsChecked: checked, firstBadSeq: nil, reason: nil)
    }

    /// The canonical form: every field length-prefixed, so no two rows serialise alike.
    static func hash(prev: String, seq: Int64, at: Int64, actor: String, instance: Int64?, step: String?,
                     event: String, text: String, fieldsJSON: String) -> String {
        var canonical = prev
        for part in ["\(seq)", "\(at)", actor, instance.map { "\($0)" } ?? "-", step ?? "-", event, text, fieldsJSON] {
            canonical += "|\(part.utf8.count):\(part)"
        }
        let digest = SHA256.hash(data: Data(canonical.utf8))
        return hex(digest)
    }

    /// A string map as compact JSON with sorted keys: the canonical form the hash covers.
    /// Written by hand because it runs for every ledger row (JSONEncoder was a tenth of the
    /// catch-up time).
    static func json(_ fields: [String: String]) -> String {
        var out = "{"
        for (index, key) in fields.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            appendQuoted(key, to: &out)
            out += ":"
            appendQuoted(fields[key]!, to: &out)
        }
        return out + "}"
    }

    private static func appendQuoted(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    static func fields(_ json: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(json.utf8))) ?? [:]
    }
}

/// Lower-case hex of a digest. (`String(format: "%02x")` per byte cost a quarter of the
/// engine's time in the catch-up benchmark.)
func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}
