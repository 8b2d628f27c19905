import Crypto
import Foundation
import Logging
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

/// The outcome of checking the ledger: its hash chain, its anchored head, its order in time and
/// its agreement with the instance and reminder tables.
public struct LedgerCheck: Sendable, Equatable {
    public var ok: Bool
    public var rowsChecked: Int
    /// The first row found wrong (for a missing tail: the first missing row).
    public var firstBadSeq: Int64?
    /// Every problem found, in one line (`problems` joined with "; "); nil when `ok`.
    public var reason: String?
    /// Each problem on its own, first the chain's, then the cross-checks'.
    public var problems: [String] = []

    public init(ok: Bool, rowsChecked: Int, firstBadSeq: Int64?, reason: String?, problems: [String] = []) {
        self.ok = ok
        self.rowsChecked = rowsChecked
        self.firstBadSeq = firstBadSeq
        self.reason = reason
        self.problems = problems.isEmpty ? reason.map { [$0] } ?? [] : problems
    }
}

/// A position in the ledger: a row's sequence number, hash and time (epoch milliseconds).
/// Row 0 is the genesis: no row, hash of 64 zeros.
public struct LedgerHead: Sendable, Equatable, Codable {
    public var seq: Int64
    public var hash: String
    public var at: Int64

    public init(seq: Int64, hash: String, at: Int64) {
        self.seq = seq
        self.hash = hash
        self.at = at
    }

    public static let genesis = LedgerHead(seq: 0, hash: String(repeating: "0", count: 64), at: Int64.min)
}

/// The append-only, hash-chained ledger: every row's `hash` is
/// `sha256(prev_hash ‖ canonical row)` — or, once the ledger is keyed (a `ledger.keyed` row,
/// see `LedgerKey`), `HMAC-SHA256(key, prev_hash ‖ canonical row)` from that row on — so
/// editing, deleting or reordering any row breaks the chain from that row on, and `verify()`
/// names the first bad one. A row is never earlier than the one before it: `entry` clamps
/// `at` to the head's and records the clock's reading in the row's `clock.reading` field.
///
/// New rows are made in memory by a unit of work (`entry(after:…)`), written when it commits,
/// and become the head only after COMMIT succeeded (`committed(_:entries:)`): a rolled-back
/// batch leaves the head as it was without any repair.
///
/// - Important: Loop thread only.
final class Ledger {
    static let genesis = LedgerHead.genesis.hash
    /// The event of the row from which the chain is keyed.
    static let keyedEvent = LedgerEvent.ledgerKeyed.rawValue
    /// The field where `entry` keeps the clock's reading when it was earlier than the head.
    static let clockReadingField = "clock.reading"
    let db: Database
    /// The newest committed row.
    private(set) var head: LedgerHead
    /// The head the chain's end is compared with by `verifyAll` (the engine's committed head;
    /// for a check on a connection of its own, the head when the check was asked for).
    var committed: LedgerHead
    /// The HMAC key, when the configuration names one.
    var key: SymmetricKey?
    /// The seq of the `ledger.keyed` row, when the ledger is keyed.
    private(set) var keyedFrom: Int64?
    /// Receives the notice of a wall clock earlier than the head (once per such episode).
    var logger: Logger?
    private var clockBehind = false

    init(db: Database) throws {
        self.db = db
        head = try Self.readHead(db)
        committed = head
        keyedFrom = try db.queryOne("SELECT min(seq) AS seq FROM ledger WHERE event = ?", [.text(Self.keyedEvent)])?.optionalInt("seq")
    }

    static func readHead(_ db: Database) throws -> LedgerHead {
        if let row = try db.queryOne("SELECT seq, hash, at FROM ledger ORDER BY seq DESC LIMIT 1") {
            return LedgerHead(seq: try row.int("seq"), hash: try row.text("hash"), at: try row.int("at"))
        }
        return .genesis
    }

    /// The row at `seq`, as a position (nil when there is none).
    func position(at seq: Int64) throws -> LedgerHead? {
        guard seq > 0 else { return .genesis }
        guard let row = try db.queryOne("SELECT seq, hash, at FROM ledger WHERE seq = ?", [.integer(seq)]) else { return nil }
        return LedgerHead(seq: try row.int("seq"), hash: try row.text("hash"), at: try row.int("at"))
    }

    struct KeyMissing: Error, CustomStringConvertible {
        var keyedFrom: Int64
        var description: String {
            "the ledger is keyed (HMAC-SHA256) from row \(keyedFrom), and no ledger key is configured; set ledger.hmac_key_file in huaying.yaml"
        }
    }

    /// Refuses to chain rows when the ledger is keyed and the key is not configured (a unit of
    /// work checks this before it starts, so no unkeyed row can follow a keyed one).
    func checkKey() throws {
        if let keyedFrom, key == nil { throw KeyMissing(keyedFrom: keyedFrom) }
    }

    /// The row that follows `head`, which becomes the new head (of the caller's unit of work).
    func entry(after head: inout LedgerHead, at: Date, actor: String, instance: Int64?, step: String?, event: LedgerEvent,
               text: String, fields: [String: String]) -> LedgerEntry {
        let seq = head.seq + 1
        var atMillis = Millis.from(at)
        var fields = fields
        if atMillis < head.at {
            // A wall clock that went backwards (NTP step, a wrong RTC), or several rows in one
            // millisecond: keep the ledger in order.
            if head.at - atMillis >= 1000 {
                fields[Self.clockReadingField] = Self.iso8601(at)
                if !clockBehind {
                    clockBehind = true
                    logger?.warning("the clock is earlier than the last ledger row; rows keep the last row's time until it catches up",
                                    metadata: ["clock": "\(Self.iso8601(at))", "ledger.at": "\(Self.iso8601(Millis.date(head.at)))"])
                }
            }
            atMillis = head.at
        } else if clockBehind {
            clockBehind = false
            logger?.notice("the clock has caught up with the ledger")
        }
        let keyed = keyedFrom != nil || event == .ledgerKeyed
        let fieldsJSON = Self.json(fields)
        let hash = Self.hash(prev: head.hash, seq: seq, at: atMillis, actor: actor, instance: instance, step: step,
                             event: event.rawValue, text: text, fieldsJSON: fieldsJSON, key: keyed ? key : nil)
        let entry = LedgerEntry(seq: seq, at: Millis.date(atMillis), actor: actor, instance: instance, step: step, event: event.rawValue,
                                text: text, fields: fields, prevHash: head.hash, hash: hash, fieldsJSON: fieldsJSON, atMillis: atMillis)
        head = LedgerHead(seq: seq, hash: hash, at: atMillis)
        return entry
    }

    /// Makes a committed unit of work's head the ledger's head.
    func committed(_ newHead: LedgerHead, entries: [LedgerEntry]) {
        head = newHead
        committed = newHead
        if keyedFrom == nil, let keyed = entries.first(where: { $0.event == Self.keyedEvent }) { keyedFrom = keyed.seq }
    }

    /// Recomputes the chain from the first row, compares its end with the committed head and
    /// cross-checks the instance and reminder tables.
    /// (See `verifyAll()` in LedgerVerification.swift.)
    func verify() throws -> LedgerCheck {
        try verifyAll()
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// The canonical form: every field length-prefixed, so no two rows serialise alike.
    /// With `key`, the HMAC-SHA256 of the same canonical form.
    static func hash(prev: String, seq: Int64, at: Int64, actor: String, instance: Int64?, step: String?,
                     event: String, text: String, fieldsJSON: String, key: SymmetricKey? = nil) -> String {
        var canonical = prev
        for part in ["\(seq)", "\(at)", actor, instance.map { "\($0)" } ?? "-", step ?? "-", event, text, fieldsJSON] {
            canonical += "|\(part.utf8.count):\(part)"
        }
        if let key {
            return hex(HMAC<SHA256>.authenticationCode(for: Data(canonical.utf8), using: key))
        }
        let digest = SHA256.hash(data: Data(canonical.utf8))
        return hex(digest)
    }

    /// A string map in the canonical form the hash covers (`FlatJSON.encode`).
    static func json(_ fields: [String: String]) -> String { FlatJSON.encode(fields) }

    static func fields(_ json: String) -> [String: String] { FlatJSON.decode(json) }
}

/// The lower-case hex sha256 of a whole content: a workflow version's name, and how a reload
/// tells that an org chart or calendar file changed (any edit, even one that keeps the size).
public func sha256Hex(_ data: Data) -> String {
    hex(SHA256.hash(data: data))
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
