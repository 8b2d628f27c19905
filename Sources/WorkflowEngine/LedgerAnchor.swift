import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The ledger's head kept outside the database (`ledger-head.json` in the state directory),
/// rewritten after every commit, so a database that lost its last rows — deleted behind the
/// daemon's back, a lost WAL, an older copy put in its place — is noticed at the next start
/// (see docs/operations.md, "The anchored ledger head").
///
/// Besides the head it keeps the last position the start-up check verified (the chain is
/// checked from there, not from row 1, at each start) and the clock's high-water mark.
public struct LedgerAnchor: Codable, Sendable, Equatable {
    /// The file format; a later one is refused rather than misread.
    public var format = 1
    /// The head after the last commit.
    public var head: LedgerHead
    /// Up to where the start-up check last verified the chain.
    public var checkpoint: LedgerHead
    /// `real` or `simulated`: the clock of the run that wrote this.
    public var clockMode: String
    /// The latest instant that clock reached (epoch milliseconds): a later start on a
    /// simulated clock may not begin before it.
    public var clockHighWater: Int64

    public init(head: LedgerHead, checkpoint: LedgerHead, clockMode: String, clockHighWater: Int64) {
        self.head = head
        self.checkpoint = checkpoint
        self.clockMode = clockMode
        self.clockHighWater = clockHighWater
    }

    enum CodingKeys: String, CodingKey {
        case format, head, checkpoint
        case clockMode = "clock_mode"
        case clockHighWater = "clock_high_water"
    }

    /// A failed read or write, naming the file and the call.
    public struct FileError: Error, CustomStringConvertible {
        public var path: String
        public var problem: String
        public var description: String { "anchored ledger head \(path): \(problem)" }
    }

    /// Reads the anchor; nil when the file does not exist.
    /// - Throws: `FileError` for an unreadable or malformed file (with the remedy).
    public static func read(path: String) throws(FileError) -> LedgerAnchor? {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
            return nil
        } catch {
            throw FileError(path: path, problem: "cannot read: \(error.localizedDescription)")
        }
        do {
            let anchor = try JSONDecoder().decode(LedgerAnchor.self, from: data)
            guard anchor.format == 1 else {
                throw FileError(path: path, problem: "format \(anchor.format) is newer than this huayingd understands (1)")
            }
            return anchor
        } catch let error as FileError {
            throw error
        } catch {
            throw FileError(path: path, problem: """
                is not a valid anchor file (\(error)); if the database is known to be complete, move the file \
                aside and start again: a new anchor is written from the database's head
                """)
        }
    }

    /// Writes the anchor atomically: a temporary file written and `fsync`ed, renamed over the
    /// old one, then the directory `fsync`ed, so a crash leaves the old anchor or the new one.
    /// - Throws: `FileError` naming the failed call.
    public func write(path: String) throws(FileError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes: [UInt8]
        do {
            bytes = Array(try encoder.encode(self)) + [0x0a]
        } catch {
            throw FileError(path: path, problem: "cannot encode: \(error)")
        }
        func failure(_ call: String, _ file: String, _ code: Int32) -> FileError {
            FileError(path: path, problem: "\(call) \(file): \(String(cString: strerror(code)))")
        }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else { throw failure("open", temporary, errno) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                throw failure("write", temporary, code)
            }
            written += count
        }
        if fsync(fd) != 0 {
            let code = errno
            close(fd)
            throw failure("fsync", temporary, code)
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw failure("rename", temporary, errno) }
        let directory = (path as NSString).deletingLastPathComponent
        let dirFD = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0 else { throw failure("open", directory, errno) }
        defer { close(dirFD) }
        guard fsync(dirFD) == 0 else { throw failure("fsync", directory, errno) }
    }
}
