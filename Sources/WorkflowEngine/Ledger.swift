import Crypto
import Foundation
import ControlProtocol
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
    /// The canonical fields JSON and `at` in ms, as hashed (kept so writing needs no re-encoding).
    var fieldsJSON = ""
    var atMillis: Int64 = 0
}

/// The outcome of checking the hash chain.
public struct LedgerCheck: Sendable, Equatable {
    public var ok: Bool
    public var rowsChecked: Int
    public var firstBadSeq: Int64?
    public var reason: String?
}

/// The newest row of the ledger: what the next row chains to.
struct LedgerHead: Equatable, Sendable {
    var seq: Int64
    var hash: String
    /// The `at` of the newest row (ms); no row is ever written earlier than this.
    var at: Int64

    static let genesis = LedgerHead(seq: 0, hash: Ledger.genesis, at: Int64.min)
}

/// The append-only, hash-chained ledger: every row's `hash` is
/// `sha256(prev_hash ‖ canonical row)`, so editing, deleting or reordering any row breaks the
/// chain from that row on, and `verify()` names the first bad one.
///
/// New rows are made in memory by a unit of work (`chain(after:…)`), written when it commits,
/// and become the committed `head` only after COMMIT succeeded: a rolled-back batch leaves the
/// head as it was without any repair.
///
/// - Important: Loop thread only.
final class Ledger {
    static let genesis = String(repeating: "0", count: 64)
    private let db: Database
    /// The newest committed row.
    private(set) var head: LedgerHead

    init(db: Database) throws {
        self.db = db
        head = try Self.readHead(db)
    }

    static func readHead(_ db: Database) throws -> LedgerHead {
        guard let row = try db.queryOne("SELECT seq, hash, at FROM ledger ORDER BY seq DESC LIMIT 1") else { return .genesis }
        return LedgerHead(seq: try row.int("seq"), hash: try row.text("hash"), at: try row.int("at"))
    }

    /// Makes the head of a committed unit of work the ledger's head.
    func committed(_ newHead: LedgerHead) {
        head = newHead
    }

    /// The row that follows `head`, which becomes the new head.
    static func chain(after head: inout LedgerHead, at: Int64, actor: String, instance: Int64?, step: String?,
                      event: LedgerEvent, text: String, fields: [String: String]) -> LedgerEntry {
        let seq = head.seq + 1
        let fieldsJSON = json(fields)
        let hash = hash(prev: head.hash, seq: seq, at: at, actor: actor, instance: instance, step: step,
                        event: event.rawValue, text: text, fieldsJSON: fieldsJSON)
        let entry = LedgerEntry(seq: seq, at: Millis.date(at), actor: actor, instance: instance, step: step, event: event.rawValue,
                                text: text, fields: fields, prevHash: head.hash, hash: hash, fieldsJSON: fieldsJSON, atMillis: at)
        head = LedgerHead(seq: seq, hash: hash, at: max(head.at, at))
        return entry
    }

    /// Recomputes the chain from the first row.
    func verify() throws -> LedgerCheck {
        try Self.verify(db)
    }

    /// Recomputes the chain of the ledger in `db`, reading rows one at a time (memory stays
    /// flat however long the ledger is). Used on the loop's connection by tests, and on a
    /// read-only connection of its own off the loop thread by `audit --verify`.
    static func verify(_ db: Database) throws -> LedgerCheck {
        var previous = Self.genesis
        var expectedSeq: Int64 = 1
        var checked = 0
        var failure: LedgerCheck?
        struct Stop: Error {}
        do {
            try db.prepare("SELECT seq, at, actor, instance, step, event, text, fields, prev_hash, hash FROM ledger ORDER BY seq").forEachRow { row in
                let seq = try row.int("seq")
                func bad(_ reason: String) throws -> Never {
                    failure = LedgerCheck(ok: false, rowsChecked: checked, firstBadSeq: seq, reason: reason)
                    throw Stop()
                }
                if seq != expectedSeq { try bad("row \(expectedSeq) is missing (the next row is \(seq))") }
                let stored = try row.text("hash")
                if try row.text("prev_hash") != previous { try bad("prev_hash does not match the hash of row \(seq - 1)") }
                let computed = Self.hash(prev: previous, seq: seq, at: try row.int("at"), actor: try row.text("actor"),
                                         instance: try row.optionalInt("instance"), step: try row.optionalText("step"),
                                         event: try row.text("event"), text: try row.text("text"), fieldsJSON: try row.text("fields"))
                if computed != stored { try bad("content does not match its hash (the row was edited)") }
                previous = stored
                expectedSeq += 1
                checked += 1
            }
        } catch is Stop {
            return failure!
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

    /// A string map in the canonical form the hash covers (`FlatJSON.encode`).
    static func json(_ fields: [String: String]) -> String { FlatJSON.encode(fields) }

    static func fields(_ json: String) -> [String: String] { FlatJSON.decode(json) }
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
