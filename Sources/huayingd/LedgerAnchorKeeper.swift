import Foundation
import Logging
import WorkflowEngine
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the ledger's head anchored outside the database (`ledger-head.json`, see
/// `LedgerAnchor`) and runs the start-up checks against it:
///
/// 1. the clock: a simulated start earlier than the state's clock high-water mark is refused;
///    a real clock behind it is logged (the ledger then clamps its rows' times);
/// 2. the anchor: a ledger shorter than the anchored head, or whose row at the anchor's seq
///    has another hash, refuses to start — unless `--accept-restore`, which records a
///    `state.restored` row; so does a missing anchor where `state.runs` shows earlier runs
///    (the two are written by the same start: the anchor was deleted, perhaps with the
///    ledger's tail). `--init-state` on an empty ledger moves the old anchor aside instead;
/// 3. the key: a keyed ledger needs its key; a configured key on an unkeyed ledger needs
///    `--key-ledger` once (a new ledger is keyed at once);
/// 4. the chain from the last verified checkpoint to the end (a CRITICAL log line when broken:
///    the daemon keeps running, and the checkpoint stays, so every start says it again).
///
/// After start, `committed(_:)` (the engine's `onCommit`) logs one line per commit that moved
/// the head and hands the new anchor to an `AnchorWriter` thread: the write's two `fsync`s
/// took 17 ms here, too long for the loop. The file may therefore trail the database by the
/// last commits (after a crash too), never lead it, which is the direction the start-up check
/// accepts.
///
/// - Important: Loop thread only.
final class LedgerAnchorKeeper {
    /// What the command line asked for at start.
    struct StartOptions {
        /// `--accept-restore`: the database is a restored copy, older than the anchor.
        var acceptRestore = false
        /// `--key-ledger`: key an existing unkeyed ledger from its next row on.
        var keyLedger = false
        /// `--init-state`: begin a new, empty history; on an empty ledger the old anchor is
        /// moved aside (`ledger-head.json.before-init-INSTANT`) and the new history anchored afresh.
        var initState = false
    }

    /// A start-up check that refuses to start, with what to do.
    struct Refusal: Error, CustomStringConvertible {
        var description: String
    }

    let path: String
    private let logger: Logger
    private var anchor: LedgerAnchor?
    private let clock: any EngineClock
    private let writer: AnchorWriter

    init(path: String, clock: any EngineClock, logger: Logger) {
        self.path = path
        self.clock = clock
        self.logger = logger
        writer = AnchorWriter(path: path, logger: logger)
    }

    /// Writes the last anchor and stops the writer thread (idempotent).
    func close() {
        writer.stop()
    }

    deinit { writer.stop() }

    /// Runs the start-up checks (see the type's documentation) and writes the anchor.
    /// - Parameter earlierRuns: `state.runs` records an earlier start (`StateFiles.hasEarlierRuns`).
    /// - Throws: `Refusal` or `LedgerAnchor.FileError` when the daemon must not start.
    func check(_ engine: WorkflowEngine, keyConfigured: Bool, options: StartOptions, earlierRuns: Bool) throws {
        let head = engine.ledgerHead
        // --init-state on an empty ledger: a new history, which the old anchor must not judge.
        let newHistory = options.initState && head.seq == 0
        if options.initState {
            if newHistory {
                try setOldAnchorAside()
            } else {
                logger.notice("--init-state ignored: the state database's ledger already holds \(head.seq) rows",
                              metadata: ["ledger.seq": "\(head.seq)"])
            }
        }
        let existing = try LedgerAnchor.read(path: path)
        let now = Self.millis(clock.now)

        // 1. The clock never moves backwards.
        let highWater = max(existing?.clockHighWater ?? Int64.min, head.seq > 0 ? head.at : Int64.min)
        if highWater != Int64.min, now < highWater {
            if clock.mode == "simulated" {
                throw Refusal(description: """
                    --simulated-clock \(Self.iso(now)) is earlier than the latest time this state has seen, \(Self.iso(highWater)) \
                    (ledger row \(head.seq) or the last clock move); a clock never moves backwards: start at \(Self.iso(highWater)) \
                    or later, or use a fresh --state-dir
                    """)
            }
            logger.warning("the wall clock is behind the latest time this state has seen; ledger rows keep that time until the clock catches up",
                           metadata: ["clock": "\(Self.iso(now))", "high_water": "\(Self.iso(highWater))"])
        }

        // 2. The database reaches the anchored head.
        // --accept-restore takes the database as it is; `unreachedAnchor` is the anchored head its
        // ledger does not reach (nil when the anchor itself was lost).
        var acceptingRestore = false
        var unreachedAnchor: LedgerHead?
        if let existing, let mismatch = try engine.compareLedger(with: existing.head) {
            guard options.acceptRestore else {
                throw Refusal(description: """
                    the ledger does not reach its anchored head (\(path)): \(mismatch.reason). Rows the daemon committed are gone \
                    (deleted behind its back, a lost WAL, or an older copy of state.db put in place). If you restored a backup on \
                    purpose, start once with --accept-restore (the restore is recorded in the ledger); otherwise put the newest \
                    backup in place (docs/operations.md, "Backup and restore")
                    """)
            }
            acceptingRestore = true
            unreachedAnchor = existing.head
        } else if existing == nil, earlierRuns, !newHistory {
            guard options.acceptRestore else {
                throw Refusal(description: """
                    the anchored ledger head \(path) is missing, but state.runs shows earlier runs in this state directory, \
                    which wrote it: it was deleted, perhaps together with the ledger's last rows, and nothing can tell whether \
                    state.db is complete. Put ledger-head.json back if you have it (a backup of the state directory), or the \
                    newest backup of state.db (docs/operations.md, "Backup and restore"); if state.db is known to be complete, \
                    or you restored a backup on purpose, start once with --accept-restore (recorded in the ledger as state.restored)
                    """)
            }
            acceptingRestore = true
        } else if options.acceptRestore {
            logger.notice("--accept-restore given, but the database reaches its anchored head: nothing to accept")
        } else if existing == nil, head.seq > 0 {
            logger.notice("no anchored ledger head yet; anchoring the database's head and verifying the whole chain once",
                          metadata: ["ledger.seq": "\(head.seq)", "anchor": "\(path)"])
        }

        // 3. The key.
        if !keyConfigured, let keyedFrom = engine.ledgerKeyedFrom {
            throw Refusal(description: """
                the ledger is keyed (HMAC-SHA256) from row \(keyedFrom), and no key is configured: set ledger.hmac_key_file \
                in the config to the key it was keyed with
                """)
        }
        if acceptingRestore {
            let full = try engine.verifyLedger(from: .genesis)
            guard full.ok else {
                throw Refusal(description: """
                    --accept-restore: the restored database's own ledger does not verify (row \(full.firstBadSeq ?? 0): \
                    \(full.reason ?? "?")); put another backup in place
                    """)
            }
        }
        if keyConfigured, engine.ledgerKeyedFrom == nil {
            let rows = engine.ledgerHead.seq
            guard rows == 0 || options.keyLedger else {
                throw Refusal(description: """
                    ledger.hmac_key_file is configured, but the ledger's \(rows) rows are not keyed: start once with --key-ledger \
                    to key it from row \(rows + 1) on. If this ledger was keyed before, its keyed rows are gone: it was re-chained \
                    without the key — put the newest backup in place
                    """)
            }
            let keyed = try engine.keyLedger(actor: "huayingd")
            logger.notice("ledger keyed with HMAC-SHA256", metadata: ["ledger.seq": "\(keyed.seq)"])
        } else if options.keyLedger {
            logger.notice("--key-ledger given, but \(keyConfigured ? "the ledger is keyed already" : "no ledger.hmac_key_file is configured"): nothing to do")
        }

        // 4. The chain since the last verified checkpoint.
        var checkpoint = existing?.checkpoint ?? .genesis
        if acceptingRestore {
            let recorded = try engine.recordRestore(anchor: unreachedAnchor, actor: "huayingd (--accept-restore)")
            logger.warning(unreachedAnchor == nil
                ? "state accepted without its anchored ledger head (--accept-restore); recorded in the ledger"
                : "state restored from an older copy; recorded in the ledger", metadata: [
                "anchor.seq": "\(unreachedAnchor.map { "\($0.seq)" } ?? "missing")", "restored.seq": "\(head.seq)", "ledger.seq": "\(recorded.seq)",
            ])
            checkpoint = recorded
        } else if try engine.ledgerPosition(at: checkpoint.seq)?.hash != checkpoint.hash {
            // The checkpoint row was re-chained although the anchor holds: check everything.
            checkpoint = .genesis
        }
        let started = Date()
        let result = try engine.verifyLedger(from: checkpoint)
        if result.ok {
            checkpoint = engine.ledgerHead
            logger.info("ledger verified since the last checkpoint", metadata: [
                "rows": "\(result.rowsChecked)", "ledger.seq": "\(checkpoint.seq)",
                "ms": "\(Int(Date().timeIntervalSince(started) * 1000))",
            ])
        } else {
            logger.critical("""
                the ledger's hash chain is broken at row \(result.firstBadSeq ?? 0): \(result.reason ?? "?"); huayingd keeps running \
                and appends after it. Run `huaying audit --verify` and see docs/operations.md, "The anchored ledger head"
                """)
        }

        let written = LedgerAnchor(head: engine.ledgerHead, checkpoint: checkpoint, clockMode: clock.mode,
                                   clockHighWater: max(highWater, now))
        try written.write(path: path)
        anchor = written
        writer.start()
    }

    /// `--init-state` on an empty ledger: renames the old anchor to
    /// `ledger-head.json.before-init-INSTANT` (kept for inspection: it names the head of the
    /// history that is gone) and says so at NOTICE.
    private func setOldAnchorAside() throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        let old: String
        do {
            old = try LedgerAnchor.read(path: path).map { "it named row \($0.head.seq), hash \($0.head.hash)" } ?? "it is gone"
        } catch {
            old = "it could not be read: \(error)"
        }
        let second = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let stamp = DaemonTime.iso8601(second).filter { $0 != "-" && $0 != ":" }  // 20261201T150000Z
        var aside = "\(path).before-init-\(stamp)"
        var suffix = 1
        while lstat(aside, &info) == 0 {
            suffix += 1
            aside = "\(path).before-init-\(stamp)-\(suffix)"
        }
        guard rename(path, aside) == 0 else {
            throw Refusal(description: "--init-state: cannot move the old anchored ledger head \(path) aside to \(aside): \(String(cString: strerror(errno)))")
        }
        logger.notice("--init-state: the old anchored ledger head was moved aside (\(old)); the new, empty history is anchored afresh",
                      metadata: ["anchor": "\(path)", "moved_to": "\(aside)"])
    }

    /// The engine's `onCommit`: rewrites the anchor when the head moved (or a simulated clock
    /// moved on), and logs the new head, one line per commit.
    func committed(_ head: LedgerHead) {
        guard var next = anchor else { return }
        let now = Self.millis(clock.now)
        let moved = head != next.head
        guard moved || (clock.mode == "simulated" && now > next.clockHighWater) else { return }
        next.head = head
        next.clockMode = clock.mode
        next.clockHighWater = max(next.clockHighWater, now, head.at)
        anchor = next
        writer.submit(next)
        if moved { logger.info("ledger head", metadata: ["ledger.seq": "\(head.seq)", "ledger.hash": "\(head.hash)"]) }
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    static func iso(_ millis: Int64) -> String {
        DaemonTime.iso8601(Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}

@available(*, unavailable)
extension LedgerAnchorKeeper: Sendable {}

/// Writes anchors on a thread of its own, newest first: a burst of commits (a clock advance
/// through many due instants) becomes one write of the latest head. A failed write is retried
/// every second until a newer anchor replaces it.
///
/// `@unchecked Sendable`: `pending`, `stopping` and `running` are only touched under
/// `condition`; the thread touches nothing of the loop's.
final class AnchorWriter: @unchecked Sendable {
    private let path: String
    private let logger: Logger
    private let condition = NSCondition()
    private var pending: LedgerAnchor?
    private var stopping = false
    private var running = false
    private var thread: Thread?

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    /// Starts the thread (once).
    func start() {
        condition.lock()
        defer { condition.unlock() }
        guard thread == nil, !stopping else { return }
        running = true
        let thread = Thread { [self] in run() }
        thread.name = "huayingd ledger anchor"
        self.thread = thread
        thread.start()
    }

    /// Replaces whatever was waiting to be written.
    func submit(_ anchor: LedgerAnchor) {
        condition.lock()
        pending = anchor
        condition.signal()
        condition.unlock()
    }

    /// Writes what is pending, then ends the thread and waits for it (idempotent).
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
        // The thread's block holds this writer: let go of the thread, or the two keep each
        // other alive (LeakSanitizer found the cycle at every daemon exit).
        thread = nil
        condition.unlock()
    }

    private func run() {
        condition.lock()
        while true {
            while pending == nil && !stopping { condition.wait() }
            guard let anchor = pending else { break }
            pending = nil
            condition.unlock()
            var failed = false
            do {
                try anchor.write(path: path)
            } catch {
                failed = true
                logger.error("cannot anchor the ledger head; retrying", metadata: ["error": "\(error)"])
            }
            condition.lock()
            if failed && pending == nil {
                pending = anchor
                if stopping { break }
                _ = condition.wait(until: Date().addingTimeInterval(1))
            }
        }
        running = false
        condition.broadcast()
        condition.unlock()
    }
}
