import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The secret of a keyed ledger (`ledger.hmac_key_file` in huaying.yaml): with it the chain is
/// `HMAC-SHA256(key, prev_hash ‖ row)`, so someone who can write the database but cannot read
/// the key cannot append, edit or re-chain rows that verify.
///
/// The file must be a regular file owned by root or by the daemon's user, readable by its
/// owner only (mode 0600 or 0400), and hold at least 32 bytes (its bytes are the key:
/// `head -c 32 /dev/urandom > ledger.key`).
public struct LedgerKey {
    let key: SymmetricKey
    /// A short public fingerprint of the key (recorded in the `ledger.keyed` row), so a wrong
    /// key is told apart from a tampered ledger.
    public let id: String

    /// A key from bytes (tests).
    public init(bytes: some Sequence<UInt8>) {
        key = SymmetricKey(data: Array(bytes))
        id = Self.id(of: key)
    }

    static func id(of key: SymmetricKey) -> String {
        let digest = key.withUnsafeBytes { SHA256.hash(data: Data("huaying ledger key id|".utf8) + Data($0)) }
        return String(hex(digest).prefix(16))
    }

    /// Why a key file was refused: the path, what is wrong, what to do.
    public struct LoadError: Error, CustomStringConvertible {
        public var path: String
        public var problem: String
        public var description: String { "ledger key \(path): \(problem)" }
    }

    /// Reads and checks the key file.
    /// - Throws: `LoadError` naming the file and the remedy (`chmod 0600`, `chown`).
    public static func load(path: String) throws(LoadError) -> LedgerKey {
        func refuse(_ problem: String) -> LoadError { LoadError(path: path, problem: problem) }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else {
            let code = errno
            if code == ELOOP { throw refuse("is a symbolic link; point ledger.hmac_key_file at the file itself") }
            throw refuse("cannot open: \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw refuse("fstat: \(String(cString: strerror(errno)))") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw refuse("is not a regular file") }
        guard info.st_uid == 0 || info.st_uid == geteuid() else {
            throw refuse("is owned by uid \(info.st_uid); it must belong to root or to the daemon's user (uid \(geteuid())): chown root \(path)")
        }
        let mode = info.st_mode & 0o7777
        guard mode & 0o077 == 0 else {
            throw refuse("has mode \(String(mode, radix: 8)); only its owner may read it: chmod 0600 \(path)")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw refuse("read: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += buffer[..<count]
            guard bytes.count <= 65_536 else { throw refuse("is larger than 64 KiB; a key is 32 or more random bytes") }
        }
        guard bytes.count >= 32 else {
            throw refuse("holds \(bytes.count) bytes; a key needs at least 32: head -c 32 /dev/urandom > \(path)")
        }
        return LedgerKey(bytes: bytes)
    }
}
