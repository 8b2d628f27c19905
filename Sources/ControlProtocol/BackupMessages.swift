/// The `backup` command: the daemon copies its database into a new file with SQLite's
/// online backup, a slice of pages per loop turn, then verifies the copy's ledger.
///
/// - `{"command": "backup", "arguments": {"path": "/abs/file.db"}}` starts a backup (admins
///   only; the file must not exist) and answers its first `BackupStatus`.
/// - `{"command": "backup", "arguments": {"job": 1}}` answers that backup's status; the CLI
///   asks until `state` is `done` or `failed`.
public struct BackupStatus: Codable, Equatable, Sendable {
    /// The job's number in this daemon run.
    public var job: Int
    /// The backup file (absolute).
    public var path: String
    /// `copying`, `verifying`, `done` or `failed`.
    public var state: String
    public var pagesTotal: Int
    public var pagesCopied: Int
    /// Ledger rows of the copy verified so far.
    public var rowsVerified: Int
    /// The copy's ledger head (once verified).
    @NullEncoded public var ledgerHeadSeq: Int?
    @NullEncoded public var ledgerHeadHash: String?
    /// The file's size once written.
    @NullEncoded public var bytes: Int?
    /// Why it failed; nil unless `state` is `failed`.
    @NullEncoded public var error: String?
    /// Loop turns the copy and the verification took, and the longest one.
    public var slices: Int
    public var longestSliceMilliseconds: Double

    public init(job: Int, path: String, state: String, pagesTotal: Int = 0, pagesCopied: Int = 0, rowsVerified: Int = 0,
                ledgerHeadSeq: Int? = nil, ledgerHeadHash: String? = nil, bytes: Int? = nil, error: String? = nil,
                slices: Int = 0, longestSliceMilliseconds: Double = 0) {
        self.job = job
        self.path = path
        self.state = state
        self.pagesTotal = pagesTotal
        self.pagesCopied = pagesCopied
        self.rowsVerified = rowsVerified
        self.ledgerHeadSeq = ledgerHeadSeq
        self.ledgerHeadHash = ledgerHeadHash
        self.bytes = bytes
        self.error = error
        self.slices = slices
        self.longestSliceMilliseconds = longestSliceMilliseconds
    }

    /// Whether the job is over (`done` or `failed`).
    public var isFinished: Bool { state == "done" || state == "failed" }

    enum CodingKeys: String, CodingKey {
        case job, path, state
        case pagesTotal = "pages_total"
        case pagesCopied = "pages_copied"
        case rowsVerified = "rows_verified"
        case ledgerHeadSeq = "ledger_head_seq"
        case ledgerHeadHash = "ledger_head_hash"
        case bytes, error, slices
        case longestSliceMilliseconds = "longest_slice_ms"
    }
}
