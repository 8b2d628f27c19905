import ControlProtocol
import Crypto
import Foundation
import SQLiteStore

/// A walk along the hash chain from a known position, a slice of rows at a time, so a long
/// ledger (a backup's copy, a start-up check from an old checkpoint) can be checked without
/// holding the loop: each row must follow the previous one (seq + 1), name its hash, hash to
/// its own `hash` (HMAC from the `ledger.keyed` row on), and be no earlier than the one before.
///
/// The walk stops at the first bad row: everything after it is unverifiable.
public struct LedgerChainWalk {
    /// The last row that checked out (where the walk continues from).
    public private(set) var last: LedgerHead
    public private(set) var rowsChecked = 0
    public private(set) var firstBadSeq: Int64?
    public private(set) var problem: String?
    /// Whether a `ledger.keyed` row was passed (or the walk started beyond one).
    public private(set) var keyed: Bool
    private let key: SymmetricKey?
    private let keyID: String?
    public private(set) var finished = false

    /// Starts after `position` (genesis: from the first row).
    /// - Parameters:
    ///   - keyed: whether `position` is at or beyond the ledger's `ledger.keyed` row.
    ///   - key: the configured HMAC key, if any.
    public init(from position: LedgerHead, keyed: Bool, key: LedgerKey?) {
        self.init(from: position, keyed: keyed, key: key?.key)
    }

    init(from position: LedgerHead, keyed: Bool, key: SymmetricKey?) {
        last = position
        self.keyed = keyed
        self.key = key
        keyID = key.map(LedgerKey.id(of:))
    }

    /// Checks up to `rows` more rows. - Returns: true when the walk is over (end or bad row).
    public mutating func step(_ db: Database, rows: Int) throws -> Bool {
        guard !finished else { return true }
        let batch = try db.query("""
            SELECT seq, at, actor, instance, step, event, text, fields, prev_hash, hash FROM ledger
            WHERE seq > ? ORDER BY seq LIMIT ?
            """, [.integer(last.seq), .integer(Int64(rows))])
        for row in batch {
            let seq = try row.int("seq")
            func bad(_ reason: String) -> Bool {
                firstBadSeq = seq
                problem = reason
                finished = true
                return true
            }
            let expected = last.seq + 1
            if seq != expected {
                return seq == expected + 1
                    ? bad("row \(expected) is missing (the next row is \(seq))")
                    : bad("rows \(expected)–\(seq - 1) are missing (the next row is \(seq))")
            }
            if try row.text("prev_hash") != last.hash {
                return bad("prev_hash does not match the hash of row \(seq - 1)")
            }
            let event = try row.text("event")
            let fieldsJSON = try row.text("fields")
            if event == Ledger.keyedEvent && !keyed {
                keyed = true
                guard key != nil else {
                    return bad("the ledger is keyed (HMAC-SHA256) from this row on and no ledger key is configured, so it cannot be verified; set ledger.hmac_key_file")
                }
                if let recorded = Ledger.fields(fieldsJSON)["key.id"], let mine = keyID, recorded != mine {
                    return bad("the ledger was keyed with key \(recorded), but the configured key is \(mine)")
                }
            }
            let at = try row.int("at")
            let stored = try row.text("hash")
            let actor = try row.text("actor"), instance = try row.optionalInt("instance"), step = try row.optionalText("step")
            let text = try row.text("text")
            let computed = Ledger.hash(prev: last.hash, seq: seq, at: at, actor: actor, instance: instance, step: step,
                                       event: event, text: text, fieldsJSON: fieldsJSON, key: keyed ? key : nil)
            if computed != stored {
                if keyed, Ledger.hash(prev: last.hash, seq: seq, at: at, actor: actor, instance: instance, step: step,
                                      event: event, text: text, fieldsJSON: fieldsJSON) == stored {
                    return bad("the row has a plain sha256 hash where the keyed ledger needs its HMAC: it was written or re-chained without the key")
                }
                return bad("content does not match its hash (the row was edited)")
            }
            if at < last.at {
                return bad("its time \(Ledger.iso8601(Millis.date(at))) is earlier than row \(seq - 1)'s \(Ledger.iso8601(Millis.date(last.at))): time never goes backwards in the ledger")
            }
            last = LedgerHead(seq: seq, hash: stored, at: at)
            rowsChecked += 1
        }
        if batch.count < rows { finished = true }
        return finished
    }

    /// The walk's verdict alone (no anchored head, no cross-checks): for a backup's copy.
    public var result: LedgerCheck {
        LedgerCheck(ok: problem == nil, rowsChecked: rowsChecked, firstBadSeq: firstBadSeq, reason: problem)
    }
}

extension Ledger {
    /// Compares the ledger's end with an anchored head: a shorter ledger is missing its tail;
    /// a row at the anchor's seq with another hash was re-chained or replaced.
    /// - Returns: the first missing or differing row and what is wrong, nil when it matches.
    func compare(with anchor: LedgerHead) throws -> (seq: Int64, reason: String)? {
        guard anchor.seq > 0 else { return nil }
        let end = try db.queryOne("SELECT max(seq) AS seq FROM ledger")?.optionalInt("seq") ?? 0
        let anchored = "its anchored head is row \(anchor.seq) (hash \(anchor.hash.prefix(12))…)"
        if end < anchor.seq {
            let missing = end + 1 == anchor.seq ? "row \(anchor.seq) is missing" : "rows \(end + 1)–\(anchor.seq) are missing"
            let ends = end == 0 ? "the ledger is empty" : "the ledger ends at row \(end)"
            return (end + 1, "\(missing): \(ends), \(anchored)")
        }
        guard let row = try position(at: anchor.seq) else {
            return (anchor.seq, "row \(anchor.seq) is missing: \(anchored)")
        }
        if row.hash != anchor.hash {
            return (anchor.seq, "row \(anchor.seq) has hash \(row.hash.prefix(12))…, but \(anchored): the ledger was re-chained or replaced")
        }
        return nil
    }

    /// The chain from the first row, the committed head, the order in time, and the instance
    /// and reminder tables against the ledger (every instance has its `instance.started`
    /// row, every acknowledged reminder its `reminder.acknowledged` row, and no such row
    /// names a reminder that is not acknowledged).
    /// - Parameter cancellation: checked between chunks of rows; a cancelled verification
    ///   throws ``VerificationCancelled``.
    func verifyAll(cancellation: VerificationCancellation? = nil) throws -> LedgerCheck {
        var walk = LedgerChainWalk(from: .genesis, keyed: false, key: key)
        repeat {
            if cancellation?.isCancelled == true { throw VerificationCancelled() }
        } while try !walk.step(db, rows: 2_000)  // a chunk hashes in a few ms: a stop is noticed soon
        if cancellation?.isCancelled == true { throw VerificationCancelled() }
        // The chain's problem first, without a row prefix: the verdict reads "FAILED at row N: …".
        var problems = walk.problem.map { [$0] } ?? []
        var firstBad = walk.firstBadSeq
        if let mismatch = try compare(with: committed) {
            problems.append(mismatch.reason)
            firstBad = firstBad ?? mismatch.seq
        }
        if key != nil, keyedFrom == nil, head.seq > 0 {
            problems.append("a ledger key is configured but no row is keyed (no \(Self.keyedEvent) row): the ledger was re-chained without the key")
            firstBad = firstBad ?? 1
        }
        problems += try crossCheck()
        return LedgerCheck(ok: problems.isEmpty, rowsChecked: walk.rowsChecked, firstBadSeq: problems.isEmpty ? nil : firstBad,
                           reason: problems.isEmpty ? nil : problems.joined(separator: "; "), problems: problems)
    }

    /// What the instance and reminder tables say happened that the ledger does not (at most
    /// 20 findings of each kind, then a count).
    func crossCheck() throws -> [String] {
        var problems: [String] = []
        func collect(_ sql: String, _ describe: (Row) throws -> String) throws {
            let rows = try db.query(sql)
            for row in rows.prefix(20) { problems.append(try describe(row)) }
            if rows.count > 20 { problems.append("… and \(rows.count - 20) more like it") }
        }
        try collect("""
            SELECT i.id AS id FROM instance i
            WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE l.instance = i.id AND l.event = '\(LedgerEvent.instanceStarted.rawValue)')
            ORDER BY i.id
            """) { "instance \(try $0.int("id")) has no instance.started row in the ledger" }
        try collect("""
            SELECT r.id AS id, r.instance AS instance FROM reminder r
            WHERE r.state = '\(ReminderState.acked.rawValue)' AND NOT EXISTS (
                SELECT 1 FROM ledger l WHERE l.instance = r.instance AND l.step = r.step
                AND l.event = '\(LedgerEvent.reminderAcknowledged.rawValue)' AND json_extract(l.fields, '$.reminder') = CAST(r.id AS TEXT))
            ORDER BY r.id
            """) { "reminder \(try $0.int("id")) of instance \(try $0.int("instance")) is acknowledged, but the ledger has no reminder.acknowledged row for it" }
        try collect("""
            SELECT l.seq AS seq, json_extract(l.fields, '$.reminder') AS reminder, r.state AS state FROM ledger l
            LEFT JOIN reminder r ON r.id = CAST(json_extract(l.fields, '$.reminder') AS INTEGER)
            WHERE l.event = '\(LedgerEvent.reminderAcknowledged.rawValue)' AND (r.id IS NULL OR r.state <> '\(ReminderState.acked.rawValue)')
            ORDER BY l.seq
            """) { row in
            let reminder = try row.optionalText("reminder") ?? "?"
            let state = try row.optionalText("state").map { "is \($0)" } ?? "does not exist"
            return "row \(try row.int("seq")) acknowledges reminder \(reminder), which \(state) in the reminder table"
        }
        return problems
    }
}

/// The ledger's anchoring and keying, for the daemon's start-up checks (`huayingd`) and its
/// anchor file.
extension WorkflowEngine {
    /// The head of the ledger as the engine will continue it.
    public var ledgerHead: LedgerHead { ledger.head }

    /// The seq of the `ledger.keyed` row, when the ledger is keyed.
    public var ledgerKeyedFrom: Int64? { ledger.keyedFrom }

    /// The row at `seq` as a position (nil when there is none; genesis for 0).
    public func ledgerPosition(at seq: Int64) throws -> LedgerHead? { try ledger.position(at: seq) }

    /// Sets the HMAC key the ledger is (or will be) keyed with, and lets the ledger log a
    /// clock earlier than its head through the engine's logger.
    public func useLedgerKey(_ key: LedgerKey?) {
        ledger.key = key?.key
        ledger.logger = logger
    }

    /// Compares the ledger with an anchored head (see `Ledger.compare(with:)`).
    /// - Returns: the first missing or differing row and the reason, nil when they agree.
    public func compareLedger(with anchor: LedgerHead) throws -> (seq: Int64, reason: String)? {
        try ledger.compare(with: anchor)
    }

    /// Checks the chain from `checkpoint` to the end (the start-up check: only what was
    /// written since the last verified position). The checkpoint row itself must still have
    /// the checkpoint's hash.
    public func verifyLedger(from checkpoint: LedgerHead) throws -> LedgerCheck {
        if let mismatch = try ledger.compare(with: checkpoint) {
            return LedgerCheck(ok: false, rowsChecked: 0, firstBadSeq: mismatch.seq, reason: "the verified checkpoint does not hold: \(mismatch.reason)")
        }
        let keyed = ledger.keyedFrom.map { $0 <= checkpoint.seq } ?? false
        var walk = LedgerChainWalk(from: checkpoint, keyed: keyed, key: ledger.key)
        while try !walk.step(db, rows: 10_000) {}
        return walk.result
    }

    /// Keys the ledger: appends the `ledger.keyed` row (itself an HMAC), after which every row
    /// is chained with the key.
    /// - Throws: when no key was set with `useLedgerKey`, or the store fails.
    @discardableResult
    public func keyLedger(actor: String) throws -> LedgerHead {
        guard let key = ledger.key else { throw EngineError(.badArguments, "no ledger key is configured") }
        try perform { work in
            work.record(at: clock.now, actor: actor, instance: nil, step: nil, .ledgerKeyed, "账本自此行起以密钥链接（HMAC-SHA256）",
                        fields: ["key.id": LedgerKey.id(of: key), "unkeyed_rows": "\(ledger.head.seq)"])
        }
        return ledger.head
    }

    /// Records that a state was accepted with `huayingd --accept-restore`: a `state.restored`
    /// row naming the restored head and the anchor it did not reach (a copy whose ledger ends
    /// before the anchored head), or `anchor` `missing` when `ledger-head.json` was lost. After
    /// it the anchor follows the accepted ledger.
    @discardableResult
    public func recordRestore(anchor: LedgerHead?, actor: String) throws -> LedgerHead {
        let restored = ledger.head
        var fields = ["restored.seq": "\(restored.seq)", "restored.hash": restored.hash]
        let text: String
        if let anchor {
            text = "从备份恢复：账本末行 \(restored.seq)，原锚定末行 \(anchor.seq)"
            fields["anchor.seq"] = "\(anchor.seq)"
            fields["anchor.hash"] = anchor.hash
        } else {
            text = "锚定文件缺失，按现有账本接受：账本末行 \(restored.seq)"
            fields["anchor"] = "missing"
        }
        try perform { work in
            work.record(at: clock.now, actor: actor, instance: nil, step: nil, .stateRestored, text, fields: fields)
        }
        return ledger.head
    }
}
